import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MetricsCollector, seedView } from '@gatewayz/metrics-core';
import { describe, expect, it } from 'vitest';
import {
  CLIENT_CLOSED_STATUS,
  getMetricsLabels,
  markRequestError,
  resolveHttpMetricsOptions,
  setMetricsLabels,
} from '../entries/node.js';

const fakeReq = (method = 'GET') => ({ method, headers: {} }) as unknown as IncomingMessage;
/** A response that, like Node's, is `writableFinished` from its 'finish' on (and emits 'close' only when told). */
const fakeRes = (statusCode = 200) => {
  const r = Object.assign(new EventEmitter(), { statusCode, writableFinished: false });
  r.prependListener('finish', () => {
    r.writableFinished = true;
  });
  return r as unknown as ServerResponse;
};

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

  it('records once, on close (after finish or not), and survives a throwing labels hook', () => {
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

  it('takes a fixed endpoint, and tells endpointOf which call is the last', () => {
    const collector = new MetricsCollector();
    const m = resolveHttpMetricsOptions({ collector }, 'pkg');
    const fixed = fakeRes();
    m.track(fakeReq(), fixed, '/f/1', '/f/:id');
    const none = fakeRes(404);
    m.track(fakeReq(), none, '/nope', undefined);
    const calls: boolean[] = [];
    const res = fakeRes();
    m.track(fakeReq(), res, '/g', (_req, ended) => {
      calls.push(ended);
      return '/g';
    });
    for (const r of [fixed, none, res]) {
      r.emit('finish');
      r.emit('close');
    }
    expect(calls).toEqual([false, true]);
    expect(
      collector
        .snapshot()
        .endpoints.map((e) => e.endpoint)
        .sort(),
    ).toEqual(['/f/:id', '/g', '__unmatched__']);
  });

  it('a response that closed before it finished is 499 (not its default status), unless the app failed first', () => {
    const collector = new MetricsCollector();
    const m = resolveHttpMetricsOptions({ collector }, 'pkg');
    const statuses = () =>
      Object.fromEntries(seedView(collector.state()).endpoints.map((e) => [e.endpoint, e.statuses]));
    const inFlight = () => (seedView(collector.state()).inFlight ?? []).reduce((n, f) => n + f.requests, 0);
    const finished = fakeRes(201);
    m.track(fakeReq('POST'), finished, '/a', () => '/a');
    const hungUp = fakeRes(200);
    m.track(fakeReq('POST'), hungUp, '/b', () => '/b');
    const failed = fakeRes(500);
    const failedReq = fakeReq('POST');
    m.track(failedReq, failed, '/c', () => '/c');
    expect(inFlight()).toBe(3);
    finished.emit('finish');
    finished.emit('close');
    hungUp.emit('close');
    hungUp.emit('finish');
    markRequestError(failedReq);
    failed.emit('close');
    expect(statuses()).toEqual({
      '/a': [{ status: '201', count: 1 }],
      '/b': [{ status: '499', count: 1 }],
      '/c': [{ status: '500', count: 1 }],
    });
    expect(seedView(collector.state()).totals).toMatchObject({ requests: 3, errors: 1 });
    expect(inFlight()).toBe(0);
    expect(CLIENT_CLOSED_STATUS).toBe(499);
  });

  it('two adapters tracking the same response both record it once, and routed() moves the request in flight', () => {
    const [c1, c2] = [new MetricsCollector(), new MetricsCollector()];
    const [m1, m2] = [
      resolveHttpMetricsOptions({ collector: c1 }, 'pkg'),
      resolveHttpMetricsOptions({ collector: c2 }, 'pkg'),
    ];
    const res = fakeRes(200);
    let route: string | undefined;
    const t1 = m1.track(fakeReq(), res, '/x', () => route);
    m2.track(fakeReq(), res, '/x', () => route);
    const flight = (c: MetricsCollector) =>
      Object.fromEntries((seedView(c.state()).inFlight ?? []).map((f) => [f.endpoint, f.requests]));
    expect(flight(c1)).toEqual({ __unmatched__: 1 });
    route = '/x/:id';
    t1!.routed();
    expect(flight(c1)).toEqual({ __unmatched__: 0, '/x/:id': 1 });
    res.emit('finish');
    res.emit('close');
    for (const c of [c1, c2]) expect(seedView(c.state()).totals.requests).toBe(1);
    expect(flight(c1)).toEqual({ __unmatched__: 0, '/x/:id': 0 });
    expect(flight(c2)).toEqual({ __unmatched__: 0 });
    expect(seedView(c2.state()).endpoints.map((e) => e.endpoint)).toEqual(['/x/:id']);
  });

  it('on a real Node server: an answered request keeps its status, one the client left mid-answer is 499', async () => {
    const collector = new MetricsCollector();
    const m = resolveHttpMetricsOptions({ collector }, 'pkg');
    const server = createServer((req, res) => {
      m.track(req, res, req.url ?? '/', req.url);
      if (req.url === '/ok') res.writeHead(201).end('done');
      else res.writeHead(200).write('partial'); // never ended: the client goes away first
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    try {
      await new Promise<void>((resolve, reject) => {
        request({ host: '127.0.0.1', port, path: '/ok' }, (res) => res.resume().on('end', resolve))
          .on('error', reject)
          .end();
      });
      await new Promise<void>((resolve) => {
        const req = request({ host: '127.0.0.1', port, path: '/left' }, (res) =>
          res.once('data', () => {
            req.destroy();
            resolve();
          }),
        );
        req.on('error', () => undefined).end();
      });
      for (let i = 0; i < 100 && seedView(collector.state()).totals.requests < 2; i++)
        await new Promise((r) => setTimeout(r, 10));
      const statuses = Object.fromEntries(seedView(collector.state()).endpoints.map((e) => [e.endpoint, e.statuses]));
      expect(statuses).toEqual({ '/ok': [{ status: '201', count: 1 }], '/left': [{ status: '499', count: 1 }] });
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
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
