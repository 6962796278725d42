import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type PrometheusServer,
  type PromResult,
  startPrometheus,
  startVictoriaMetrics,
  type VictoriaMetricsServer,
} from '@gatewayz/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Many instances: three gateway processes, each recording its own latencies into its own collector. First one
// Prometheus scrapes all three (classic buckets; a second one with native histograms on), then all three push to
// VictoriaMetrics with RemoteWriter, and to a Prometheus remote-write receiver with native histograms. In each, histogram_quantile over the summed buckets must fall in the bucket
// that holds the true quantile of all the latencies together (the bucket error), and the request counts must sum.

const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'instance.mjs');
const N = 3000;
const QUANTILES = [0.5, 0.9, 0.95, 0.99];

/** Deterministic latencies, a different spread per instance: log-uniform from 2, 4, 6 ms up to 0.13, 0.5, 1.5 s. */
function latencies(seed: number): number[] {
  let x = seed;
  const out: number[] = [];
  for (let i = 0; i < N; i++) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    const u = x / 2 ** 31;
    out.push(0.002 * seed * 1000 ** (u * (0.5 + 0.1 * seed)));
  }
  return out;
}
const all = [1, 2, 3].flatMap(latencies).sort((a, b) => a - b);
const trueQuantile = (q: number) => all[Math.ceil(q * all.length) - 1]!;

interface Instance {
  child: ChildProcess;
  port: number;
  flushed: Promise<number>;
}
const children: ChildProcess[] = [];
const dir = mkdtempSync(join(tmpdir(), 'gatewayz-many-'));

function startInstance(k: number, writeUrl = '', mode = ''): Promise<Instance> {
  const file = join(dir, `latencies-${k}.json`);
  writeFileSync(file, JSON.stringify(latencies(k)));
  const child = spawn(process.execPath, [FIXTURE, file, writeUrl, `mi-${k}`, mode], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stderr?.on('data', (d) => (err += d));
  let onFlushed: (n: number) => void;
  const flushed = new Promise<number>((r) => (onFlushed = r));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`instance ${k} did not start: ${err}`)), 20_000);
    child.stdout?.on('data', (d) => {
      out += d;
      for (const line of out.split('\n').slice(0, -1)) {
        const msg = JSON.parse(line) as { port?: number; flushed?: number };
        if (msg.port !== undefined) {
          clearTimeout(timer);
          resolve({ child, port: msg.port, flushed });
        }
        if (msg.flushed !== undefined) onFlushed(msg.flushed);
      }
      out = out.slice(out.lastIndexOf('\n') + 1);
    });
    child.once('exit', (code) => reject(new Error(`instance ${k} exited ${code}: ${err}`)));
  });
}

afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

/** The classic bucket [lower, upper] that holds `v`, from the `le` values the receiver has. */
function classicBucket(les: number[], v: number): [number, number] {
  const sorted = [...les].sort((a, b) => a - b);
  const i = sorted.findIndex((le) => v <= le);
  return [i > 0 ? sorted[i - 1]! : 0, sorted[i]!];
}

const num = (r: PromResult[]) => Number(r[0]?.value?.[1]);
const errors: string[] = [];
function checkQuantile(kind: string, q: number, estimate: number, bucket: [number, number]): void {
  const truth = trueQuantile(q);
  expect(truth).toBeGreaterThan(bucket[0]);
  expect(truth).toBeLessThanOrEqual(bucket[1]);
  expect(estimate, `${kind} p${q * 100}: true ${truth}, bucket ${bucket}`).toBeGreaterThanOrEqual(
    bucket[0] * (1 - 1e-9),
  );
  expect(estimate, `${kind} p${q * 100}: true ${truth}, bucket ${bucket}`).toBeLessThanOrEqual(bucket[1] * (1 + 1e-9));
  errors.push(
    `${kind} p${q * 100}: ${estimate.toPrecision(4)} vs ${truth.toPrecision(4)} (${((estimate / truth - 1) * 100).toFixed(2)} %)`,
  );
}

afterAll(() => {
  console.log(
    `many instances, histogram_quantile vs the true quantile of all ${all.length} latencies:\n${errors.join('\n')}`,
  );
});

describe('three instances scraped by one Prometheus', () => {
  let classic: PrometheusServer;
  let native: PrometheusServer;
  beforeAll(async () => {
    const instances = await Promise.all([1, 2, 3].map((k) => startInstance(k)));
    const config = `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: instances\n    static_configs:\n      - targets: [${instances.map((i) => `'127.0.0.1:${i.port}'`).join(', ')}]\n`;
    [classic, native] = await Promise.all([
      startPrometheus({ config }),
      startPrometheus({ config, features: ['native-histograms'] }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([classic?.stop(), native?.stop()]);
  });

  it('classic buckets: histogram_quantile(sum by (le)) is within the bucket of the true quantile', async () => {
    await classic.waitForTargets('instances');
    const total = await classic.waitFor('sum(http_requests_total) == 9000');
    expect(num(total)).toBe(3 * N);
    const les = (await classic.query('sum by (le) (http_request_duration_seconds_bucket)')).map((r) =>
      Number(r.metric.le === '+Inf' ? Number.POSITIVE_INFINITY : r.metric.le),
    );
    for (const q of QUANTILES) {
      const est = num(
        await classic.query(`histogram_quantile(${q}, sum by (le) (http_request_duration_seconds_bucket))`),
      );
      checkQuantile('Prometheus classic', q, est, classicBucket(les, trueQuantile(q)));
    }
  });

  it('native histogram: histogram_quantile(sum) is within the native bucket of the true quantile', async () => {
    await native.waitForTargets('instances');
    const summed = await native.waitFor('sum(http_request_duration_seconds)');
    const h = summed[0]!.histogram![1];
    expect(Number(h.count)).toBe(3 * N);
    const buckets = (h.buckets ?? []).map(([, lo, hi]) => [Number(lo), Number(hi)] as [number, number]);
    for (const q of QUANTILES) {
      const truth = trueQuantile(q);
      const est = num(await native.query(`histogram_quantile(${q}, sum(http_request_duration_seconds))`));
      const bucket = buckets.find(([lo, hi]) => truth > lo && truth <= hi)!;
      checkQuantile('Prometheus native', q, est, bucket);
    }
  });
});

describe('three instances pushing to VictoriaMetrics', () => {
  let vm: VictoriaMetricsServer;
  beforeAll(async () => {
    vm = await startVictoriaMetrics();
  });
  afterAll(async () => {
    await vm?.stop();
  });

  it('histogram_quantile over the summed pushed buckets is within the bucket of the true quantile', async () => {
    const instances = await Promise.all([1, 2, 3].map((k) => startInstance(k, vm.writeUrl)));
    expect(await Promise.all(instances.map((i) => i.flushed))).toEqual([1, 1, 1]);
    const sel = '{instance=~"mi-.*"}';
    const total = await vm.waitFor(`sum(http_requests_total${sel})`, (r) => num(r) === 3 * N);
    expect(num(total)).toBe(3 * N);
    const les = (await vm.query(`sum by (le) (http_request_duration_seconds_bucket${sel})`)).map((r) =>
      Number(r.metric.le === '+Inf' ? Number.POSITIVE_INFINITY : r.metric.le),
    );
    for (const q of QUANTILES) {
      const est = num(
        await vm.query(`histogram_quantile(${q}, sum by (le) (http_request_duration_seconds_bucket${sel}))`),
      );
      checkQuantile('VictoriaMetrics classic', q, est, classicBucket(les, trueQuantile(q)));
    }
  });
});

describe('three instances pushing native histograms to a Prometheus remote-write receiver', () => {
  let prom: PrometheusServer;
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

  it('histogram_quantile over the summed pushed native histograms (and classic buckets) is within the bucket', async () => {
    const instances = await Promise.all([1, 2, 3].map((k) => startInstance(k, `${prom.url}/api/v1/write`, 'native')));
    expect(await Promise.all(instances.map((i) => i.flushed))).toEqual([1, 1, 1]);
    const sel = '{instance=~"mi-.*"}';
    expect(num(await prom.waitFor(`sum(http_requests_total${sel}) == ${3 * N}`))).toBe(3 * N);
    const h = (await prom.query(`sum(http_request_duration_seconds${sel})`))[0]!.histogram![1];
    expect(Number(h.count)).toBe(3 * N);
    const buckets = (h.buckets ?? []).map(([, lo, hi]) => [Number(lo), Number(hi)] as [number, number]);
    const les = (await prom.query(`sum by (le) (http_request_duration_seconds_bucket${sel})`)).map((r) =>
      Number(r.metric.le === '+Inf' ? Number.POSITIVE_INFINITY : r.metric.le),
    );
    for (const q of QUANTILES) {
      const truth = trueQuantile(q);
      const est = num(await prom.query(`histogram_quantile(${q}, sum(http_request_duration_seconds${sel}))`));
      checkQuantile('Prometheus remote-write native', q, est, buckets.find(([lo, hi]) => truth > lo && truth <= hi)!);
      const classicEst = num(
        await prom.query(`histogram_quantile(${q}, sum by (le) (http_request_duration_seconds_bucket${sel}))`),
      );
      checkQuantile('Prometheus remote-write classic', q, classicEst, classicBucket(les, truth));
    }
  });
});
