import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MetricsCollector } from '@gatewayz/metrics-core';
import { PrometheusExporter } from '@gatewayz/metrics-exporter';
import {
  freePort,
  type PromResult,
  parseExposition,
  type Sample,
  startPrometheus,
  startVictoriaMetrics,
} from '@gatewayz/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RemoteWriteError, RemoteWriter } from '../index.js';

// Remote write against real receivers: Debian's Prometheus 2.42 (remote-write receiver, native histograms on)
// and VictoriaMetrics 1.79. After recorded traffic and a flush, PromQL returns exactly what the collector holds.

const ENDPOINTS = ['/v1/chat/completions', '/v1/embeddings', '/v1/models', '/users/:id'];

function traffic(c: MetricsCollector, n: number, seed = 1): void {
  let x = seed;
  const rnd = () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x / 2 ** 31;
  };
  for (let i = 0; i < n; i++) {
    c.recordRequest({
      endpoint: ENDPOINTS[i % ENDPOINTS.length]!,
      method: i % 3 === 0 ? 'POST' : 'GET',
      latencySeconds: 0.001 + rnd() ** 3 * 4,
      statusCode: i % 17 === 0 ? 503 : i % 11 === 0 ? 404 : 200,
      provider: i % 2 === 0 ? 'openai' : 'anthropic',
      model: i % 2 === 0 ? 'gpt-4o' : 'claude-3',
    });
  }
}

function collectorSamples(c: MetricsCollector): { counters: Sample[]; buckets: Sample[] } {
  const text = new PrometheusExporter(c).export();
  // The writer's own counters move with the flush itself (the pushed snapshot was read before it): checked apart.
  const counterNames = new Set(
    [...text.matchAll(/^# TYPE (\S+) counter$/gm)].map((m) => m[1]!).filter((n) => !n.startsWith('remote_write_')),
  );
  const all = parseExposition(text);
  return {
    counters: all.filter((s) => counterNames.has(s.name)),
    buckets: all.filter((s) => s.name === 'http_request_duration_seconds_bucket'),
  };
}

const key = (labels: Record<string, string>) =>
  JSON.stringify(
    Object.entries(labels)
      .filter(([k]) => k !== '__name__' && k !== 'instance')
      .sort(),
  );

/** Every expected sample, looked up in the receiver's answer for its name: same labels, exactly the same value. */
function compare(expected: Sample[], got: Map<string, PromResult[]>): { matched: number; mismatches: string[] } {
  const mismatches: string[] = [];
  let matched = 0;
  for (const s of expected) {
    const hit = (got.get(s.name) ?? []).find((r) => key(r.metric) === key(s.labels));
    const v = hit?.value ? Number(hit.value[1]) : undefined;
    if (v === s.value) matched++;
    else mismatches.push(`${s.name}${key(s.labels)}: collector ${s.value}, receiver ${v}`);
  }
  return { matched, mismatches };
}

async function fetchAll(query: (e: string) => Promise<PromResult[]>, names: Iterable<string>) {
  const got = new Map<string, PromResult[]>();
  for (const n of new Set(names)) got.set(n, await query(`${n}{instance="rw-test"}`));
  return got;
}

async function until<T>(what: string, f: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`${what}: ${JSON.stringify(v).slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('Prometheus 2.42 (--web.enable-remote-write-receiver, native histograms)', () => {
  let prom: Awaited<ReturnType<typeof startPrometheus>>;
  beforeAll(async () => {
    prom = await startPrometheus({
      config: 'global: {}\n',
      args: ['--web.enable-remote-write-receiver'],
      features: ['native-histograms'],
    });
  });
  afterAll(async () => {
    await prom?.stop();
  });

  it('after traffic and a flush, PromQL returns exactly the collector counters, buckets and the native histogram', async () => {
    const c = new MetricsCollector({ runtimeMetrics: false });
    traffic(c, 2000);
    const writer = new RemoteWriter({
      url: `${prom.url}/api/v1/write`,
      collector: c,
      externalLabels: { instance: 'rw-test' },
      nativeHistograms: true,
    });
    const flushed = await writer.flush();
    expect(flushed.requests).toBe(1);
    const { counters, buckets } = collectorSamples(c);
    expect(counters.length).toBeGreaterThan(20);
    const names = [...counters, ...buckets].map((s) => s.name);
    const result = await until(
      'Prometheus values',
      async () => compare([...counters, ...buckets], await fetchAll(prom.query, names)),
      (r) => r.mismatches.length === 0,
    );
    expect(result.matched).toBe(counters.length + buckets.length);
    // The native histogram holds the same count and sum as the classic series.
    const count = buckets.filter((b) => b.labels.le === '+Inf').reduce((a, b) => a + b.value, 0);
    const native = await prom.query('sum(histogram_count(http_request_duration_seconds{instance="rw-test"}))');
    expect(Number(native[0]?.value?.[1])).toBe(count);
    expect(count).toBe(2000);
    expect(writer.stats()).toMatchObject({ samplesFailed: 0, samplesDropped: 0, requestsSent: 1, retries: 0 });
    // The writer's self-metrics went too, as they were when the snapshot was read (nothing sent yet).
    const selfSent = await prom.query('remote_write_samples_sent_total{instance="rw-test"}');
    expect(selfSent.map((r) => [r.metric.url, r.value?.[1]])).toEqual([[`${prom.url}/api/v1/write`, '0']]);
    await writer.stop();
  });

  it('a wrong path (404) and a 400 are clear errors, each sent once and never retried', async () => {
    const c = new MetricsCollector({ runtimeMetrics: false });
    traffic(c, 10);
    const errors: RemoteWriteError[] = [];
    const wrong = new RemoteWriter({ url: `${prom.url}/api/v1/writ`, collector: c, onError: (e) => errors.push(e) });
    const e404 = (await wrong.flush().catch((e: unknown) => e)) as RemoteWriteError;
    expect(e404.code).toBe('REJECTED');
    expect(e404.status).toBe(404);
    expect(e404.message).toMatch(/^@gatewayz\/metrics-remote-write: the receiver at .*\/api\/v1\/writ answered 404/);
    expect(e404.message).toMatch(/remote-write endpoint/);
    expect(errors).toEqual([e404]);
    expect(wrong.stats()).toMatchObject({ retries: 0, requestsFailed: 1, requestsSent: 0 });
    // Samples from 1970 are out of Prometheus' bounds: it answers 400 and names the reason in the body.
    const old = new RemoteWriter({ url: `${prom.url}/api/v1/write`, collector: c, now: () => 1000, onError: () => {} });
    const e400 = (await old.flush().catch((e: unknown) => e)) as RemoteWriteError;
    expect(e400.status).toBe(400);
    expect(e400.message).toMatch(/answered 400 Bad Request: ".*out of bounds/);
    expect(e400.body).toMatch(/out of bounds/);
    expect(old.stats().retries).toBe(0);
  });
});

describe('VictoriaMetrics 1.79', () => {
  let dir: string;
  let port: number;
  let vm: Awaited<ReturnType<typeof startVictoriaMetrics>>;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatewayz-vm-test-'));
    port = await freePort();
    vm = await startVictoriaMetrics({ dir, port });
  });
  afterAll(async () => {
    await vm?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('after traffic and a flush, PromQL returns exactly the collector counters and buckets', async () => {
    const c = new MetricsCollector({ runtimeMetrics: false });
    traffic(c, 2000, 7);
    const writer = new RemoteWriter({ url: vm.writeUrl, collector: c, externalLabels: { instance: 'rw-test' } });
    await writer.flush();
    const { counters, buckets } = collectorSamples(c);
    const names = [...counters, ...buckets].map((s) => s.name);
    const result = await until(
      'VictoriaMetrics values',
      async () => compare([...counters, ...buckets], await fetchAll(vm.query, names)),
      (r) => r.mismatches.length === 0,
    );
    expect(result.matched).toBe(counters.length + buckets.length);
    await writer.stop();
  });

  it('a receiver stopped and restarted mid-run: totals exact, every lost snapshot counted, within the queue bound', async () => {
    const c = new MetricsCollector({ runtimeMetrics: false });
    // Recorded before the first snapshot, so this series is in every WriteRequest.
    c.recordRequest({ endpoint: '/restart', method: 'GET', latencySeconds: 0.01, statusCode: 200 });
    const errors: RemoteWriteError[] = [];
    const writer = new RemoteWriter({
      url: vm.writeUrl,
      collector: c,
      externalLabels: { instance: 'rw-restart' },
      intervalSeconds: 0.1,
      maxQueue: 4,
      maxRetries: 1,
      minBackoffSeconds: 0.05,
      maxBackoffSeconds: 0.2,
      timeoutSeconds: 2,
      breakerThreshold: 3,
      breakerResetSeconds: 0.3,
      onError: (e) => errors.push(e),
    });
    writer.start();
    const run = async (ms: number) => {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        c.recordRequest({ endpoint: '/restart', method: 'GET', latencySeconds: 0.01, statusCode: 200 });
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    await run(1000);
    const before = writer.stats();
    expect(before.requestsSent).toBeGreaterThan(3);
    await vm.stop();
    await run(2000);
    const down = writer.stats();
    // The breaker opened, and the queue never held more than its bound.
    expect(down.queueLength).toBeLessThanOrEqual(4);
    expect(down.requestsDropped + down.requestsFailed).toBeGreaterThan(0);
    vm = await startVictoriaMetrics({ dir, port });
    await run(1000);
    await writer.stop();
    const s = writer.stats();
    const total = Number(
      (await vm.waitFor('sum(http_requests_total{instance="rw-restart"})', (r) => r.length > 0))[0]!.value![1],
    );
    const expected = collectorSamples(c).counters.find(
      (x) => x.name === 'http_requests_total' && x.labels.endpoint === '/restart',
    )!.value;
    // Nothing lost from the totals: the last snapshot carries the cumulative count.
    await until(
      'total after restart',
      async () => Number((await vm.query('sum(http_requests_total{instance="rw-restart"})'))[0]?.value?.[1]),
      (v) => v === expected,
    );
    expect(total).toBeLessThanOrEqual(expected);
    // Every WriteRequest the writer counts as sent is one stored point; every other one is counted as lost.
    const points = await until(
      'points stored',
      async () =>
        Number(
          (await vm.query('count_over_time(http_requests_total{instance="rw-restart",endpoint="/restart"}[1h])'))[0]
            ?.value?.[1],
        ),
      (v) => v === s.requestsSent,
    );
    expect(points).toBe(s.requestsSent);
    expect(s.requestsDropped + s.requestsFailed).toBeGreaterThan(0);
    expect(s.samplesDropped + s.samplesFailed).toBeGreaterThan(0);
    expect(errors.length).toBe(s.requestsFailed);
    expect(errors.every((e) => e.code === 'RETRIES_EXHAUSTED')).toBe(true);
    console.log(
      `restart: sent ${s.requestsSent} WriteRequests, dropped ${s.requestsDropped} (${s.samplesDropped} samples), ` +
        `failed ${s.requestsFailed} (${s.samplesFailed} samples), retries ${s.retries}; total ${expected} exact`,
    );
  });
});
