import { spawnSync } from 'node:child_process';
import { parseExposition } from '@gatewayz/test-utils';
import { describe, expect, it } from 'vitest';
import { spawnCli } from './cli.js';

/** Issue 10: the demo serves the Node.js runtime families by default, promtool-clean, and per worker in a cluster. */
const RUNTIME = [
  'process_cpu_user_seconds_total',
  'process_cpu_system_seconds_total',
  'process_cpu_seconds_total',
  'process_resident_memory_bytes',
  'process_start_time_seconds',
  'process_open_fds',
  'nodejs_heap_size_used_bytes',
  'nodejs_heap_size_total_bytes',
  'nodejs_external_memory_bytes',
  'nodejs_eventloop_lag_seconds',
  'nodejs_eventloop_lag_p50_seconds',
  'nodejs_eventloop_lag_p90_seconds',
  'nodejs_eventloop_lag_p99_seconds',
  'nodejs_eventloop_utilization',
  'nodejs_version_info',
];

function promtool(text: string): { status: number | null; output: string } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (r.error) throw new Error(`promtool is needed for this test (Debian package prometheus): ${r.error.message}`);
  return { status: r.status, output: (r.stdout + r.stderr).trim() };
}

describe('the demo CLI serves runtime metrics', () => {
  it('in one process: every runtime family, and zero promtool findings', async () => {
    const cli = spawnCli(['--framework', 'express', '--seed', '1'], {});
    try {
      const base = await cli.ready;
      await (await fetch(`${base}/api/models`)).arrayBuffer();
      const text = await (await fetch(`${base}/metrics`)).text();
      const names = new Set(parseExposition(text).map((s) => s.name));
      for (const n of RUNTIME) expect(names, n).toContain(n);
      expect(text).toContain('# TYPE nodejs_gc_duration_seconds histogram\n');
      expect(promtool(text)).toEqual({ status: 0, output: '' });
    } finally {
      cli.child.kill('SIGTERM');
      await cli.exited;
    }
  });

  it('with --workers 2: each worker its own series under `worker`, never summed', async () => {
    const cli = spawnCli(['--framework', 'fastify', '--workers', '2', '--seed', '3'], {});
    try {
      await cli.waitFor(/2 cluster workers listening on/);
      const metricsBase = (await cli.waitFor(/metrics +(http:\/\/127\.0\.0\.1:\d+)\/metrics /))[1]!;
      const text = await (await fetch(`${metricsBase}/metrics`)).text();
      const rss = parseExposition(text).filter((s) => s.name === 'process_resident_memory_bytes');
      expect(rss).toHaveLength(2);
      expect(new Set(rss.map((s) => s.labels.worker)).size).toBe(2);
      expect(rss.every((s) => /^cluster:\d+$/.test(s.labels.worker ?? ''))).toBe(true);
      expect(promtool(text)).toEqual({ status: 0, output: '' });
    } finally {
      cli.child.kill('SIGTERM');
      await cli.exited;
    }
  });
});
