import http from 'node:http';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it, vi } from 'vitest';
import { writeNodeResponse } from '../entries/node.js';
import { createMetricsHandlers, type MetricsRequest } from '../index.js';
import { RENDER_SLABS } from '../internal/slabPool.js';
import { acceptsGzip } from '../negotiate.js';
import { populatedCollector } from './helpers/fixtures.js';

const PROTOBUF = 'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited';
const get = (headers: MetricsRequest['headers'], method = 'GET'): MetricsRequest => ({
  method,
  path: '/metrics',
  headers,
});
const bytes = (b: string | Buffer) => (typeof b === 'string' ? Buffer.from(b) : b);

describe('Accept-Encoding', () => {
  it.each([
    ['gzip', true],
    ['x-gzip', true],
    ['GZIP', true],
    ['gzip, deflate, br', true],
    ['br;q=1.0, gzip;q=0.5', true],
    ['*', true],
    ['gzip;q=0', false],
    ['gzip; q=0.000', false],
    ['*;q=0', false],
    ['gzip;q=0, *', false], // gzip named and refused wins over the wildcard
    ['deflate, br', false],
    ['identity', false],
    ['', false],
    [undefined, false],
  ])('%j -> %s', (value, expected) => {
    expect(acceptsGzip(value)).toBe(expected);
  });
});

describe('gzip on /metrics', () => {
  it('compresses text, OpenMetrics and protobuf for a scraper that asks, the same bytes once inflated', async () => {
    const { collector } = populatedCollector();
    const h = createMetricsHandlers({ collector, adminToken: null });
    for (const accept of [undefined, 'application/openmetrics-text;version=1.0.0', PROTOBUF]) {
      const plain = await h.metrics(get(accept ? { accept } : {}));
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(plain.headers.vary).toBe('Accept-Encoding');
      const zipped = await h.metrics(get({ ...(accept && { accept }), 'accept-encoding': 'gzip, deflate' }));
      expect(zipped.headers['content-encoding']).toBe('gzip');
      expect(zipped.headers['content-type']).toBe(plain.headers['content-type']);
      expect(zipped.headers.vary).toBe('Accept-Encoding');
      expect(gunzipSync(bytes(zipped.body)).equals(bytes(plain.body))).toBe(true);
      expect(bytes(zipped.body).length).toBeLessThan(bytes(plain.body).length / 2);
    }
  });

  it('compresses a protobuf scrape as it renders: no uncompressed render, one render for a storm, the same bytes', async () => {
    const { collector } = populatedCollector();
    const h = createMetricsHandlers({ collector, adminToken: null });
    const whole = vi.spyOn(h.exporter, 'exportProtobuf');
    const storm = await Promise.all(
      Array.from({ length: 10 }, () => h.metrics(get({ accept: PROTOBUF, 'accept-encoding': 'gzip' }))),
    );
    expect(whole).not.toHaveBeenCalled();
    for (const r of storm) {
      expect(r.headers['content-encoding']).toBe('gzip');
      expect(r.body).toBe(storm[0]!.body); // one render, one compression
    }
    whole.mockRestore();
    const plain = await h.exporter.exportProtobuf();
    expect(gunzipSync(bytes(storm[0]!.body)).equals(plain)).toBe(true);
    // HEAD and a scraper without gzip take the uncompressed render
    expect((await h.metrics(get({ accept: PROTOBUF, 'accept-encoding': 'gzip' }, 'HEAD'))).body).toBe('');
    expect(bytes((await h.metrics(get({ accept: PROTOBUF }))).body).equals(plain)).toBe(true);
  });

  it('exportProtobufGzip gives its slabs back once compressed, and says how long the exposition is', async () => {
    const { collector } = populatedCollector();
    const h = createMetricsHandlers({ collector, adminToken: null });
    RENDER_SLABS.clear();
    const z = await h.exporter.exportProtobufGzip();
    expect(RENDER_SLABS.freeBytes).toBeGreaterThan(0);
    expect(gunzipSync(z.body).length).toBe(z.bytes);
    expect(z.bytes).toBe((await h.exporter.exportProtobuf()).length);
  });

  it('compresses a shared render once: concurrent scrapes and cached ones get the same compressed Buffer', async () => {
    const { collector } = populatedCollector();
    const h = createMetricsHandlers({ collector, adminToken: null, cacheMs: 60_000 });
    const ask = () => h.metrics(get({ 'accept-encoding': 'gzip' }));
    const storm = await Promise.all(Array.from({ length: 20 }, ask));
    for (const r of storm) expect(r.body).toBe(storm[0]!.body);
    expect((await ask()).body).toBe(storm[0]!.body); // within cacheMs
    // without cacheMs, a later scrape renders (and compresses) afresh
    const fresh = createMetricsHandlers({ collector, adminToken: null });
    const a = await fresh.metrics(get({ 'accept-encoding': 'gzip' }));
    const b = await fresh.metrics(get({ 'accept-encoding': 'gzip' }));
    expect(b.body).not.toBe(a.body);
  });

  it('the JSON view too: gzipped for a client that asks, one compression per shared snapshot', async () => {
    const { collector } = populatedCollector();
    const h = createMetricsHandlers({ collector, adminToken: null, cacheMs: 60_000 });
    const json = (headers: MetricsRequest['headers']) => h.json({ method: 'GET', path: '/metrics/json', headers });
    const plain = await json({});
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers.vary).toBe('Accept-Encoding');
    const storm = await Promise.all(Array.from({ length: 10 }, () => json({ 'accept-encoding': 'gzip' })));
    for (const r of storm) {
      expect(r.headers['content-encoding']).toBe('gzip');
      expect(r.headers['content-type']).toBe(plain.headers['content-type']);
      expect(r.body).toBe(storm[0]!.body);
    }
    const inflated = JSON.parse(gunzipSync(bytes(storm[0]!.body)).toString('utf8'));
    expect(inflated).toEqual(JSON.parse(bytes(plain.body).toString('utf8')));
  });

  it('HEAD gets the headers of a compressed GET and no body; compression: false never compresses', async () => {
    const { collector } = populatedCollector();
    const h = createMetricsHandlers({ collector, adminToken: null });
    const head = await h.metrics(get({ 'accept-encoding': 'gzip' }, 'HEAD'));
    expect(head.headers['content-encoding']).toBe('gzip');
    expect(head.body).toBe('');
    const off = createMetricsHandlers({ collector, adminToken: null, compression: false });
    const r = await off.metrics(get({ 'accept-encoding': 'gzip' }));
    expect(r.headers['content-encoding']).toBeUndefined();
    expect(r.headers.vary).toBeUndefined();
    expect(bytes(r.body).toString('utf8')).toContain('# TYPE http_requests_total counter');
  });

  it('over a real Node server: a gzip-asking client inflates the exposition a plain client gets', async () => {
    const { collector } = populatedCollector();
    const h = createMetricsHandlers({ collector, adminToken: null, cacheMs: 60_000 });
    const server = http.createServer((req, res) => {
      void h
        .handle({ method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers })
        .then((r) => (r ? writeNodeResponse(res, r) : res.writeHead(404).end()));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const fetchRaw = (headers: http.OutgoingHttpHeaders) =>
      new Promise<{ headers: http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port, path: '/metrics', headers }, (res) => {
            const parts: Buffer[] = [];
            res.on('data', (d: Buffer) => parts.push(d));
            res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(parts) }));
          })
          .on('error', reject);
      });
    try {
      const plain = await fetchRaw({});
      const zipped = await fetchRaw({ 'accept-encoding': 'gzip' });
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(zipped.headers['content-encoding']).toBe('gzip');
      expect(gunzipSync(zipped.body).equals(plain.body)).toBe(true);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
