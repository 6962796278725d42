import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const fixture = fileURLToPath(new URL('./fixtures/cluster-app.mjs', import.meta.url));

interface Row {
  endpoint: string;
  requests: number;
  errors: number;
  buckets: number[];
  p50: number;
  p95: number;
  p99: number;
  min: number;
  max: number;
}

describe('a real multi-process cluster', async () => {
  const { stdout } = await run(process.execPath, [fixture], {
    env: { ...process.env, WORKERS: '3', PER_WORKER: '20000' },
    maxBuffer: 64 * 1024 * 1024,
    timeout: 60_000,
  });
  const out = JSON.parse(stdout) as {
    merged: Row[];
    single: Row[];
    totals: [number, number];
    providers: [[string, number][], [string, number][]];
    text: string;
    afterHang: {
      cluster: { workers: number; answered: number; skippedTotal: number };
      requests: number;
      hangMs: number;
    };
    afterKill: { cluster: { workers: number; answered: number; skippedTotal: number }; requests: number };
    killText: string;
    reset: { status: number; body: { status: string; workers: { asked: number; answered: number } } };
    afterReset: { cluster: { workers: number; answered: number; skippedTotal: number }; requests: number };
    afterMore: { cluster: { workers: number; answered: number; skippedTotal: number }; requests: number };
  };

  it('sums counters across workers', () => {
    expect(out.totals[0]).toBe(60000);
    expect(out.totals[0]).toBe(out.totals[1]);
    expect(Object.fromEntries(out.providers[0])).toEqual(Object.fromEntries(out.providers[1]));
  });

  it('merges sketches exactly: cluster quantiles equal those of one process that saw all the traffic', () => {
    expect(out.merged).toHaveLength(3);
    expect(out.merged).toEqual(out.single);
    // Not a sum of per-worker quantiles (prom-client's bug): the p50 stays a plausible latency.
    for (const r of out.merged) expect(r.p50).toBeLessThan(r.p99);
  });

  it('serves the merged cluster through the exporter, with the worker census', () => {
    // /api/chat gets requests 0, 3, 6, … of each worker: 3 × 6667.
    expect(out.text).toContain('http_requests_total{endpoint="/api/chat",method="POST"} 20001\n');
    expect(out.text).toContain('gatewayz_cluster_workers{state="answered"} 3');
    expect(out.text).toContain('gatewayz_cluster_workers{state="skipped"} 0');
  });

  it('skips a worker that does not answer in time, and still answers', () => {
    expect(out.afterHang.cluster.answered).toBe(2);
    expect(out.afterHang.cluster.workers).toBe(3);
    expect(out.afterHang.cluster.skippedTotal).toBe(1);
    // Its last answer is carried forward, so counters never go down (Prometheus would read a reset).
    expect(out.afterHang.requests).toBe(60000);
    expect(out.afterHang.hangMs).toBeGreaterThanOrEqual(450);
    expect(out.afterHang.hangMs).toBeLessThan(5000);
  });

  it('survives a worker killed mid-run and reports what it lost', () => {
    expect(out.afterKill.cluster.answered).toBeLessThanOrEqual(1);
    expect(out.afterKill.cluster.skippedTotal).toBeGreaterThanOrEqual(2);
    expect(out.killText).toMatch(/gatewayz_cluster_workers_skipped_total [2-9]/);
    expect(out.killText).toContain('# TYPE http_requests_total counter');
    // The dead worker's final counts are kept (as a retired state): totals stay monotonic.
    expect(out.afterKill.requests).toBe(60000);
    expect(out.killText).toContain('http_requests_total{endpoint="/api/chat",method="POST"} 20001\n');
  });

  it('resets every worker that answers, says how many did, and counts again from 0', () => {
    expect(out.reset.status).toBe(200);
    expect(out.reset.body.status).toBe('ok');
    // Worker 0 hangs (it is asked, and does not confirm); worker 1 is dead; worker 2 resets.
    expect(out.reset.body.workers.answered).toBe(1);
    expect(out.reset.body.workers.asked).toBeGreaterThanOrEqual(2);
    // Neither the hung worker's last answer nor the dead worker's retired counts survive the reset.
    expect(out.afterReset.requests).toBe(0);
    expect(out.afterReset.cluster.answered).toBe(1);
    expect(out.afterMore.requests).toBe(30);
  });
});
