import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MetricsCollector } from '@gatewayz/metrics-core';
import { describe, expect, it } from 'vitest';
import { getMetricsLabels, resolveHttpMetricsOptions, setMetricsLabels } from '../index.js';

const fakeReq = (method = 'GET') => ({ method, headers: {} }) as unknown as IncomingMessage;
const fakeRes = (statusCode = 200) => Object.assign(new EventEmitter(), { statusCode }) as unknown as ServerResponse;

describe('node layer', () => {
  it('resolves the Node request behind Express req, Fastify request and Koa ctx', () => {
    const raw = fakeReq();
    setMetricsLabels({ raw }, { provider: 'openai' });
    setMetricsLabels({ req: raw }, { model: 'gpt-4o' });
    expect(getMetricsLabels(raw)).toEqual({ provider: 'openai', model: 'gpt-4o' });
    setMetricsLabels(raw, { provider: 'anthropic', model: 42 as never });
    expect(getMetricsLabels({ raw })).toEqual({ provider: 'anthropic', model: 'gpt-4o' });
  });

  it('matches exclusions by exact path, path prefix, regexp and predicate, without the query string', () => {
    const m = resolveHttpMetricsOptions<unknown>(
      { collector: new MetricsCollector(), exclude: ['/health', /^\/static\//, (p) => p.endsWith('.ico')] },
      'pkg',
    );
    for (const p of [
      '/health',
      '/health/live',
      '/health?x=1',
      '/static/a.js',
      '/favicon.ico',
      '/metrics',
      '/metrics/json?x',
    ]) {
      expect(m.isExcluded(p, {}), p).toBe(true);
    }
    for (const p of ['/healthz', '/api/health', '/api/static/x', '/metricsx'])
      expect(m.isExcluded(p, {}), p).toBe(false);
  });

  it('records once, on finish or close, and survives a throwing labels hook', () => {
    const collector = new MetricsCollector();
    const m = resolveHttpMetricsOptions(
      {
        collector,
        labels: () => {
          throw new Error('hook bug');
        },
      },
      'pkg',
    );
    const req = fakeReq('POST');
    const res = fakeRes(201);
    m.track(req, res, '/x', () => '/x/:id');
    res.emit('finish');
    res.emit('close');
    const unmatched = fakeRes(404);
    m.track(fakeReq(), unmatched, '/nope', () => undefined);
    unmatched.emit('close');
    const s = collector.snapshot();
    expect(s.totals.requests).toBe(2);
    expect(s.endpoints.map((e) => e.endpoint).sort()).toEqual(['/x/:id', '__unmatched__']);
  });

  it('rejects bad options with a TypeError that starts with the package name', () => {
    const bad = [
      { unmatchedLabel: '' },
      { labels: 1 },
      { exclude: [1] },
      { collector: {} },
      { adminToken: 'short' },
      null,
    ];
    for (const options of bad) {
      expect(() => resolveHttpMetricsOptions(options as never, '@x/pkg'), JSON.stringify(options)).toThrow(
        /^@x\/pkg: /,
      );
    }
  });
});
