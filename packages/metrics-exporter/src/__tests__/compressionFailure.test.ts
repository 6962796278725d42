import { Transform } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';

// zlib failing (as it can when memory runs out): every gzip call reports an error.
vi.mock('node:zlib', async (importOriginal) => {
  const zlib = await importOriginal<typeof import('node:zlib')>();
  return {
    ...zlib,
    gzip: (_body: unknown, _options: unknown, cb: (err: Error | null, out?: Buffer) => void) =>
      cb(new Error('zlib: out of memory')),
    createGzip: () =>
      new Transform({
        transform: (_chunk, _encoding, cb) => cb(new Error('zlib: out of memory')),
      }),
  };
});

const { createMetricsHandlers } = await import('../index.js');
const { populatedCollector } = await import('./helpers/fixtures.js');
const { RENDER_SLABS } = await import('../internal/slabPool.js');
const PROTOBUF = 'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited';

describe('gzip failing', () => {
  it('still answers 200 with the uncompressed exposition, and no Content-Encoding', async () => {
    const { collector } = populatedCollector();
    const h = createMetricsHandlers({ collector, adminToken: null });
    const r = await h.metrics({ method: 'GET', path: '/metrics', headers: { 'accept-encoding': 'gzip' } });
    expect(r.status).toBe(200);
    expect(r.headers['content-encoding']).toBeUndefined();
    const text = typeof r.body === 'string' ? r.body : r.body.toString('utf8');
    expect(text).toContain('# TYPE http_requests_total counter');
    expect(text).toBe((await h.metrics({ method: 'GET', path: '/metrics', headers: {} })).body.toString());
  });

  it('a protobuf scrape compressed as it renders: served uncompressed, and the slabs the compressor held are dropped', async () => {
    const { collector } = populatedCollector();
    const h = createMetricsHandlers({ collector, adminToken: null });
    RENDER_SLABS.clear();
    await expect(h.exporter.exportProtobufGzip()).rejects.toThrow(/out of memory/);
    expect(RENDER_SLABS.freeBytes).toBe(0);
    const r = await h.metrics({
      method: 'GET',
      path: '/metrics',
      headers: { accept: PROTOBUF, 'accept-encoding': 'gzip' },
    });
    expect(r.status).toBe(200);
    expect(r.headers['content-encoding']).toBeUndefined();
    expect(Buffer.isBuffer(r.body) && r.body.equals(await h.exporter.exportProtobuf())).toBe(true);
  });
});
