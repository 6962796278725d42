import { request } from 'node:http';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { MetricsCollector } from '@gatewayz/metrics-core';
import { expect, it } from 'vitest';
import { sampleValue } from './exposition.js';
import { scrape, sumOf, until } from './poll.js';

/**
 * The body of the conformance route `GET /api/stream?chunks=N&ms=M`: `chunk 0\n` at once, then one more line
 * every `ms` milliseconds, ending `ms` after the last one (so the whole stream takes `chunks × ms`).
 * Destroying it (the framework does when the client goes away) stops the timers. Chunks and delay are
 * clamped (at most 500 chunks, 1000 ms), so a test can never start an endless stream.
 */
export function chunkStream(query: { chunks?: unknown; ms?: unknown }): Readable {
  const clamp = (v: unknown, max: number, fallback: number) => {
    const n = Number(v);
    return Number.isInteger(n) && n >= 0 ? Math.min(n, max) : fallback;
  };
  const chunks = clamp(query.chunks, 500, 3);
  const ms = clamp(query.ms, 1000, 10);
  return Readable.from(
    (async function* () {
      for (let i = 0; i < chunks; i++) {
        yield `chunk ${i}\n`;
        await sleep(ms);
      }
    })(),
    { objectMode: false },
  );
}

/**
 * Opens `GET path` with Node's client and resolves once `lines` lines of the body have arrived, with the
 * response still open and `abort()` to hang up.
 */
function openStream(url: string, path: string, lines: number): Promise<{ abort(): void; status: number }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, (res) => {
      let got = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        got += d;
        if (got.split('\n').length > lines) {
          res.removeAllListeners('data');
          resolve({ abort: () => req.destroy(), status: res.statusCode ?? 0 });
        }
      });
      res.on('error', () => {});
    });
    req.on('error', (err) => reject(err));
    req.end();
  });
}

const CHUNKS = 6;
const CHUNK_MS = 50;

/**
 * Streamed responses (issue 11): recorded once, at the end of the stream, and a client that leaves mid-stream
 * is one 499 with its duration. Needs the route `GET /api/stream`, whose body is {@link chunkStream}.
 */
export function streamCases(ctx: { url(): string; collector: MetricsCollector }): void {
  it(`a response streamed in ${CHUNKS} chunks over ${CHUNKS * CHUNK_MS} ms is recorded once, at the end of the stream, not when its headers are sent`, async () => {
    const url = ctx.url();
    ctx.collector.reset();
    const t0 = performance.now();
    const res = await fetch(`${url}/api/stream?chunks=${CHUNKS}&ms=${CHUNK_MS}`);
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain('chunk 0');
    // Headers and the first chunk are out; the stream is not over: in flight, not yet recorded.
    const during = await scrape(url);
    expect(sampleValue(during, 'http_requests_in_flight', { endpoint: '/api/stream' })).toBe(1);
    expect(sumOf(during, 'http_requests_total')).toBe(0);
    let text = new TextDecoder().decode(first.value);
    for (let r = await reader.read(); !r.done; r = await reader.read()) text += new TextDecoder().decode(r.value);
    const clientMs = performance.now() - t0;
    expect(text.trim().split('\n')).toHaveLength(CHUNKS);

    const s = await until(
      url,
      (x) => sumOf(x, 'http_requests_total') >= 1 && sumOf(x, 'http_requests_in_flight') === 0,
    );
    expect(sampleValue(s, 'http_requests_total', { endpoint: '/api/stream', method: 'GET' })).toBe(1);
    expect(sampleValue(s, 'http_response_status_total', { endpoint: '/api/stream', status: '200' })).toBe(1);
    const latency = sampleValue(s, 'http_request_duration_seconds_sum', { endpoint: '/api/stream', method: 'GET' });
    expect(sampleValue(s, 'http_request_duration_seconds_count', { endpoint: '/api/stream', method: 'GET' })).toBe(1);
    // The whole stream (timers may fire up to a millisecond early), and no more than the client saw.
    expect(latency).toBeGreaterThanOrEqual((CHUNKS * CHUNK_MS - CHUNKS) / 1000);
    expect(latency).toBeLessThanOrEqual(clientMs / 1000 + 0.005);
    expect(sumOf(s, 'http_requests_in_flight')).toBe(0);
    await sleep(100);
    expect(sumOf(await scrape(url), 'http_requests_total')).toBe(1);
  });

  it('a client that hangs up mid-stream is recorded once, as 499 with the time until it left; in flight returns to 0', async () => {
    const url = ctx.url();
    ctx.collector.reset();
    const t0 = performance.now();
    // 200 chunks, 20 ms apart: four seconds the client never waits for.
    const open = await openStream(url, '/api/stream?chunks=200&ms=20', 3);
    expect(open.status).toBe(200);
    const during = await scrape(url);
    expect(sampleValue(during, 'http_requests_in_flight', { endpoint: '/api/stream' })).toBe(1);
    await sleep(100);
    open.abort();
    const leftMs = performance.now() - t0;

    const s = await until(
      url,
      (x) => sumOf(x, 'http_requests_total') >= 1 && sumOf(x, 'http_requests_in_flight') === 0,
    );
    const statuses = s.filter((x) => x.name === 'http_response_status_total' && x.value > 0);
    expect(statuses.map((x) => [x.labels.endpoint, x.labels.status, x.value])).toEqual([['/api/stream', '499', 1]]);
    expect(sumOf(s, 'http_request_errors_total')).toBe(0);
    expect(sumOf(s, 'http_requests_in_flight')).toBe(0);
    const latency = sampleValue(s, 'http_request_duration_seconds_sum', { endpoint: '/api/stream', method: 'GET' });
    expect(latency).toBeGreaterThanOrEqual((leftMs - 50) / 1000);
    expect(latency).toBeLessThan(leftMs / 1000 + 1);
    // Whatever the framework does with the rest of the stream, nothing is recorded a second time.
    await sleep(300);
    const later = await scrape(url);
    expect(sumOf(later, 'http_requests_total')).toBe(1);
    expect(sumOf(later, 'http_response_status_total')).toBe(1);
    expect(sumOf(later, 'http_requests_in_flight')).toBe(0);
  });
}
