import { MetricsCollector } from '@gatewayz/metrics-core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PrometheusExporter, renderProtobuf } from '../index.js';
import { RENDER_SLABS, SlabPool } from '../internal/slabPool.js';
import { GroupedTextWriter } from '../textFormat.js';

// Issue 14, scrape blocking: the async renders write their chunks into slabs reused from render to render, so a large
// render does not allocate its chunks outside the JS heap anew each time (what set off a major GC per render).

afterEach(() => {
  vi.useRealTimers();
  RENDER_SLABS.clear();
});

/** Endpoints whose names carry 1-, 2-, 3- and 4-byte UTF-8 characters, so chunk boundaries fall among them. */
function multibyte(endpoints: number): MetricsCollector {
  const c = new MetricsCollector({ runtimeMetrics: false, limits: { endpoints: endpoints + 10 }, now: () => 1.7e12 });
  for (let i = 0; i < endpoints; i++) {
    for (let k = 0; k < 3; k++) {
      c.recordRequest({
        endpoint: `/api/${'é'.repeat(i % 5)}${'€'.repeat(i % 3)}${'😀'.repeat(i % 2)}/e${i}`,
        method: k % 2 ? 'POST' : 'GET',
        latencySeconds: 0.004 + ((i * 37 + k * 11) % 997) / 1200,
        statusCode: k === 2 ? 503 : 200,
      });
    }
  }
  return c;
}

describe('SlabPool', () => {
  it('keeps at most maxFreeBytes of slabs, and only slabs of its own size', () => {
    const pool = new SlabPool(1024, 3 * 1024, 60_000);
    const taken = Array.from({ length: 5 }, () => pool.take());
    for (const s of taken) expect(s.byteLength).toBe(1024);
    pool.give([Buffer.alloc(512), taken[0]!.subarray(0, 512), ...taken]);
    expect(pool.freeBytes).toBe(3 * 1024);
    // A kept slab is handed out again, not a new one.
    const again = pool.take();
    expect(taken).toContain(again);
    pool.clear();
    expect(pool.freeBytes).toBe(0);
  });

  it('drops its slabs once none has been taken for idleMs', () => {
    vi.useFakeTimers();
    const pool = new SlabPool(1024, 8 * 1024, 1000);
    pool.give([pool.take(), pool.take()]);
    vi.advanceTimersByTime(600);
    pool.give([pool.take()]); // used again: the idle time starts over
    vi.advanceTimersByTime(600);
    expect(pool.freeBytes).toBe(2048);
    vi.advanceTimersByTime(500);
    expect(pool.freeBytes).toBe(0);
  });
});

describe('renders into reused slabs', () => {
  it('concurrent text, OpenMetrics and protobuf renders, again and again, give the synchronous bytes', async () => {
    const c = multibyte(1500);
    const e = new PrometheusExporter(c);
    const text = Buffer.from(e.export(), 'utf8');
    const om = Buffer.from(e.exportOpenMetrics(), 'utf8');
    const proto = Buffer.from(renderProtobuf(c.state(), e.self));
    expect(text.length).toBeGreaterThan(4 * RENDER_SLABS.slabBytes);
    for (let round = 0; round < 3; round++) {
      const [t, o, p] = await Promise.all([
        e.exportAsyncBuffer('text'),
        e.exportAsyncBuffer('openmetrics'),
        e.exportProtobuf(),
      ]);
      expect(t.equals(text)).toBe(true);
      expect(o.equals(om)).toBe(true);
      expect(p.equals(proto)).toBe(true);
      // What a render returned is its own: the next render, into the same slabs, does not change it.
      const kept = Buffer.from(t);
      await e.exportAsyncBuffer('text');
      expect(t.equals(kept)).toBe(true);
    }
    // The slabs came back, and the pool keeps no more than its bound.
    expect(RENDER_SLABS.freeBytes).toBeGreaterThan(0);
    expect(RENDER_SLABS.freeBytes).toBeLessThanOrEqual(RENDER_SLABS.maxFreeBytes);
  });

  it('a line longer than a slab gets a chunk of its own', async () => {
    const w = new GroupedTextWriter(false);
    const info = { name: 'x_total', type: 'counter', help: 'h', labels: ['a'] } as const;
    w.family(info);
    const long = `${'€'.repeat(RENDER_SLABS.slabBytes / 2)}`;
    w.sample('a="1"', 1);
    w.sample(`a="${long}"`, 2);
    w.sample('a="3"', 3);
    const out = await w.finish(async () => {});
    expect(out.toString('utf8')).toBe(
      `# HELP x_total h\n# TYPE x_total counter\nx_total{a="1"} 1\nx_total{a="${long}"} 2\nx_total{a="3"} 3\n`,
    );
  });
});
