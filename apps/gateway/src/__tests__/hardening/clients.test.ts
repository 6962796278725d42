import type { Socket } from 'node:net';
import { MetricsCollector } from '@gatewayz/metrics-core';
import { holdChunkedBody, ODD_METHODS, type Sample, sampleValue } from '@gatewayz/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FRAMEWORKS, type Gateway, startGateway } from '../../gateway.js';
import { http, scrape, spawnCli, sumOf } from './helpers.js';

/**
 * Clients must not make the metrics lie (issue 13): a hung-up upload is one 499 with the time until the
 * hang-up, never a 200 or 404; odd methods cannot push DELETE into `__overflow__`; scans under the
 * excluded health and dashboard paths are recorded; aborted uploads print no stack trace.
 */

/** Scrapes until `done` holds (at most `ms`). */
async function until(base: string, done: (s: Sample[]) => boolean, ms = 10_000): Promise<Sample[]> {
  const deadline = Date.now() + ms;
  let s = (await scrape(base)).samples;
  while (!done(s) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    s = (await scrape(base)).samples;
  }
  return s;
}

/** Holds `n` uploads until the gateway has them all in flight, waits `holdMs`, hangs up; returns the hold. */
async function abortUploads(base: string, n: number, holdMs: number): Promise<number> {
  const sockets: Socket[] = [];
  for (let i = 0; i < n; i += 50) {
    sockets.push(
      ...(await Promise.all(Array.from({ length: Math.min(50, n - i) }, () => holdChunkedBody(base, '/api/chat')))),
    );
  }
  const inFlight = await until(base, (s) => sumOf(s, 'http_requests_in_flight') === n);
  expect(sumOf(inFlight, 'http_requests_in_flight')).toBe(n);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, holdMs));
  for (const s of sockets) s.destroy();
  return performance.now() - t0;
}

const statuses = (s: Sample[]) =>
  s
    .filter((x) => x.name === 'http_response_status_total' && x.value > 0)
    .map((x) => [x.labels.endpoint, x.labels.status, x.value]);

describe.each(FRAMEWORKS)('on %s', (framework) => {
  let gw: Gateway;
  let collector: MetricsCollector;
  beforeAll(async () => {
    collector = new MetricsCollector();
    gw = await startGateway({ framework, collector, seed: 13, errorRateScale: 0, billingErrorRate: 0 });
  });
  afterAll(() => gw?.close());

  it('50 uploads hung up after 500 ms are 50 x 499 with about 0.5 s each: no 200, no 404, nothing left in flight, health healthy', async () => {
    collector.reset();
    const heldMs = await abortUploads(gw.url, 50, 500);
    const s = await until(
      gw.url,
      (x) => sumOf(x, 'http_requests_total') >= 50 && sumOf(x, 'http_requests_in_flight') === 0,
    );
    expect(statuses(s)).toEqual([['/api/chat', '499', 50]]);
    expect(sumOf(s, 'http_request_errors_total')).toBe(0);
    expect(sumOf(s, 'http_requests_in_flight')).toBe(0);
    const labels = { endpoint: '/api/chat', method: 'POST' };
    const latency = sampleValue(s, 'http_request_duration_seconds_sum', labels);
    expect(sampleValue(s, 'http_request_duration_seconds_count', labels)).toBe(50);
    expect(latency / 50).toBeGreaterThanOrEqual((heldMs - 50) / 1000);
    expect(latency / 50).toBeLessThan(heldMs / 1000 + 1);
    const health = JSON.parse((await http(`${gw.url}/metrics/health`)).body);
    expect(health).toMatchObject({ status: 'healthy', errors: 0 });
    console.info(
      `${framework}: 50 uploads hung up after ${heldMs.toFixed(0)} ms -> ${JSON.stringify(statuses(s))}, ${latency.toFixed(1)} s of latency`,
    );
  });

  it('fourteen WebDAV verbs cannot push DELETE and HEAD into __overflow__: they are _OTHER', async () => {
    collector.reset();
    await http(`${gw.url}/api/models`);
    await http(`${gw.url}/api/chat`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    for (const method of ODD_METHODS) await http(`${gw.url}/api/models`, { method });
    await http(`${gw.url}/api/models`, { method: 'DELETE' });
    await http(`${gw.url}/api/models`, { method: 'HEAD' });
    const s = await until(gw.url, (x) => sumOf(x, 'http_requests_total') >= ODD_METHODS.length + 4);
    const byMethod: Record<string, number> = {};
    for (const x of s.filter((y) => y.name === 'http_requests_total')) {
      byMethod[x.labels.method!] = (byMethod[x.labels.method!] ?? 0) + x.value;
    }
    expect(byMethod).toEqual({ GET: 1, POST: 1, _OTHER: ODD_METHODS.length, DELETE: 1, HEAD: 1 });
    expect(sampleValue(s, 'gatewayz_metrics_label_overflow_total', { label: 'method' })).toBe(0);
  });

  it('scans under /healthz/ and /dashboard/ are recorded as unmatched 404s; only /healthz and /dashboard themselves are not', async () => {
    collector.reset();
    const scans = [
      '/healthz/x.php',
      '/healthz/../../etc/passwd',
      '/dashboard/anything',
      '/dashboard/admin.php?x=1',
      '/healthzz',
    ];
    for (const path of scans) expect((await http(gw.url + path)).status, path).toBe(404);
    expect((await http(`${gw.url}/healthz`)).status).toBe(200);
    expect((await http(`${gw.url}/healthz?probe=1`)).status).toBe(200);
    expect((await http(`${gw.url}/dashboard`)).status).toBe(302);
    const s = (await scrape(gw.url)).samples;
    expect(statuses(s)).toEqual([['__unmatched__', '404', scans.length]]);
  });
});

describe.each(FRAMEWORKS)('the %s demo CLI', (framework) => {
  it('100 aborted uploads print no stack trace and are recorded as 100 x 499', async () => {
    const cli = spawnCli(['--framework', framework, '--seed', '13'], {});
    try {
      const base = await cli.ready;
      await abortUploads(base, 100, 200);
      const s = await until(
        base,
        (x) => sumOf(x, 'http_requests_total') >= 100 && sumOf(x, 'http_requests_in_flight') === 0,
      );
      expect(statuses(s)).toEqual([['/api/chat', '499', 100]]);
      // let anything the abort would log reach the pipe
      await new Promise((r) => setTimeout(r, 300));
      const stderr = cli.stderr();
      expect(stderr.split('\n').filter((l) => /^\s+at /.test(l))).toEqual([]);
      expect(stderr).not.toMatch(/Error/);
    } finally {
      cli.child.kill('SIGKILL');
      await cli.exited;
    }
  });
});
