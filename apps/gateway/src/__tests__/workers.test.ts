import { parseExposition, sampleValue } from '@gatewayz/test-utils';
import { describe, expect, it } from 'vitest';
import { spawnCli } from './cli.js';

const TOKEN = 'workers-admin-token-0123456789';

describe('the built CLI with --workers 2', () => {
  it('forks 2 workers on one port, and the primary scrapes them all: counts equal the requests answered', async () => {
    const cli = spawnCli(['--framework', 'fastify', '--workers', '2', '--seed', '3'], { METRICS_ADMIN_TOKEN: TOKEN });
    try {
      const base = (await cli.waitFor(/2 cluster workers listening on (http:\/\/127\.0\.0\.1:\d+)/))[1]!;
      const metricsBase = (await cli.waitFor(/metrics +(http:\/\/127\.0\.0\.1:\d+)\/metrics /))[1]!;
      expect(metricsBase).not.toBe(base);

      // Fresh connections (no keep-alive), so cluster's round-robin spreads them over both workers.
      const get = async (path: string) => {
        const res = await fetch(`${base}${path}`, { headers: { connection: 'close' } });
        await res.arrayBuffer();
        return res.status;
      };
      const post = async (message: string) => {
        const res = await fetch(`${base}/api/chat`, {
          method: 'POST',
          body: JSON.stringify({ message }),
          headers: { 'content-type': 'application/json', connection: 'close' },
        });
        await res.arrayBuffer();
        return res.status;
      };
      const models = await Promise.all(Array.from({ length: 40 }, () => get('/api/models')));
      const chats = await Promise.all(Array.from({ length: 30 }, (_, i) => post(`hello ${i}`)));
      expect(models.every((s) => s === 200)).toBe(true);
      const chatStatuses = new Map<number, number>();
      for (const s of chats) chatStatuses.set(s, (chatStatuses.get(s) ?? 0) + 1);

      const res = await fetch(`${metricsBase}/metrics`);
      expect(res.status).toBe(200);
      const samples = parseExposition(await res.text());
      expect(sampleValue(samples, 'gatewayz_cluster_workers', { state: 'answered' })).toBe(2);
      expect(sampleValue(samples, 'gatewayz_cluster_workers', { state: 'skipped' })).toBe(0);
      expect(sampleValue(samples, 'http_requests_total', { endpoint: '/api/models', method: 'GET' })).toBe(40);
      expect(sampleValue(samples, 'http_requests_total', { endpoint: '/api/chat', method: 'POST' })).toBe(30);
      for (const [status, n] of chatStatuses) {
        expect(
          sampleValue(samples, 'http_response_status_total', { endpoint: '/api/chat', status: String(status) }),
        ).toBe(n);
      }

      // Both workers took traffic: each worker's own /metrics (on the shared port) holds only part of it.
      const own = await Promise.all(
        Array.from({ length: 8 }, async () => {
          const r = await fetch(`${base}/metrics`, { headers: { connection: 'close' } });
          return sampleValue(parseExposition(await r.text()), 'http_requests_total', {
            endpoint: '/api/models',
            method: 'GET',
          });
        }),
      );
      for (const n of own) {
        expect(n).toBeGreaterThan(0);
        expect(n).toBeLessThan(40);
      }

      const merged = async () =>
        sampleValue(parseExposition(await (await fetch(`${metricsBase}/metrics`)).text()), 'http_requests_total', {
          endpoint: '/api/models',
          method: 'GET',
        });
      // 60 more reads: 100 in all.
      expect((await Promise.all(Array.from({ length: 60 }, () => get('/api/models')))).every((s) => s === 200)).toBe(
        true,
      );
      expect(await merged()).toBe(100);

      // A worker's own reset route (on the shared port) is off: it would reset that worker only.
      for (let i = 0; i < 4; i++) {
        const own = await fetch(`${base}/metrics/reset`, {
          method: 'POST',
          headers: { authorization: `Bearer ${TOKEN}`, connection: 'close' },
        });
        expect(own.status).toBe(403);
        await own.arrayBuffer();
      }
      expect(await merged()).toBe(100);
      // The admin routes keep the token in the workers.
      const outage = await fetch(`${base}/api/admin/providers/google/outage`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${TOKEN}`, connection: 'close' },
      });
      expect(outage.status).toBe(200);

      // Reset through the primary resets every worker, and says how many answered.
      const reset = await fetch(`${metricsBase}/metrics/reset`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(reset.status).toBe(200);
      expect(await reset.json()).toEqual({
        status: 'ok',
        message: 'metrics reset',
        workers: { asked: 2, answered: 2 },
      });
      const after = parseExposition(await (await fetch(`${metricsBase}/metrics`)).text());
      expect(sampleValue(after, 'http_requests_total', { endpoint: '/api/models', method: 'GET' })).toBe(0);
      expect(sampleValue(after, 'http_requests_total', { endpoint: '/api/chat', method: 'POST' })).toBe(0);
      // New traffic counts from 0, on both workers.
      expect((await Promise.all(Array.from({ length: 10 }, () => get('/api/models')))).every((s) => s === 200)).toBe(
        true,
      );
      expect(await merged()).toBe(10);
    } finally {
      cli.child.kill('SIGTERM');
    }
    expect(await cli.exited).toBe(0);
    expect(cli.stderr()).toBe('');
  });
});
