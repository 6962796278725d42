import { describe, expect, it } from 'vitest';
import { ResponseCache } from '../responseCache.js';

describe('ResponseCache', () => {
  it('misses first, then hits, and shares one in-flight load between concurrent callers', async () => {
    const cache = new ResponseCache<string>();
    let loads = 0;
    const load = () => new Promise<string>((resolve) => setTimeout(() => resolve(`answer ${++loads}`), 5));
    const first = cache.getOrLoad('k', load);
    const second = cache.getOrLoad('k', load);
    expect([first.hit, second.hit]).toEqual([false, true]);
    expect(await second.value).toBe('answer 1');
    expect(cache.getOrLoad('k', load).hit).toBe(true);
    expect(loads).toBe(1);
  });

  it('forgets failed loads, so the next caller retries', async () => {
    const cache = new ResponseCache<string>();
    const failed = cache.getOrLoad('k', () => Promise.reject(new Error('upstream down')));
    await expect(failed.value).rejects.toThrow('upstream down');
    const retry = cache.getOrLoad('k', async () => 'ok');
    expect(retry.hit).toBe(false);
    expect(await retry.value).toBe('ok');
  });

  it('expires entries after ttlMs and evicts the least recently used beyond maxEntries', async () => {
    let now = 0;
    const cache = new ResponseCache<number>({ maxEntries: 2, ttlMs: 1000, now: () => now });
    cache.getOrLoad('a', async () => 1);
    cache.getOrLoad('b', async () => 2);
    expect(cache.getOrLoad('a', async () => 0).hit).toBe(true); // a is now the most recent
    cache.getOrLoad('c', async () => 3); // evicts b
    expect(cache.size).toBe(2);
    expect(cache.getOrLoad('b', async () => 2).hit).toBe(false);
    now = 5000;
    expect(cache.getOrLoad('c', async () => 3).hit).toBe(false);
  });

  it('rejects a bad configuration with a TypeError', () => {
    expect(() => new ResponseCache({ maxEntries: 0 })).toThrow(/^@gatewayz\/gateway/);
    expect(() => new ResponseCache({ ttlMs: -1 })).toThrow(TypeError);
  });
});
