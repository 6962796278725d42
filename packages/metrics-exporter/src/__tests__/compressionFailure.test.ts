import { describe, expect, it, vi } from 'vitest';

// zlib failing (as it can when memory runs out): every gzip call reports an error.
vi.mock('node:zlib', async (importOriginal) => {
  const zlib = await importOriginal<typeof import('node:zlib')>();
  return {
    ...zlib,
    gzip: (_body: unknown, _options: unknown, cb: (err: Error | null, out?: Buffer) => void) =>
      cb(new Error('zlib: out of memory')),
  };
});

const { createMetricsHandlers } = await import('../index.js');
const { populatedCollector } = await import('./helpers/fixtures.js');

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
});
