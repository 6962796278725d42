import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { MetricsCollector } from '@gatewayz/metrics-core';
import { expect, it } from 'vitest';
import { sampleValue } from './exposition.js';
import { sumOf, until } from './poll.js';

/** What the client cases need from the suite that runs them. */
export interface ClientCaseContext {
  /** Base URL of the app under test (with the adapter). */
  url(): string;
  collector: MetricsCollector;
}

/** Opens a socket and sends the head of `POST path` and the first chunk of a chunked JSON body, never the rest. */
export function holdChunkedBody(url: string, path: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const s = connect(Number(port), hostname, () => {
      s.write(
        `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{\r\n`,
        (err) => (err ? reject(err) : resolve(s)),
      );
    });
    s.on('error', () => {});
  });
}

/** Sends a whole request on a raw socket and destroys it the moment the whole response has arrived. */
function sendAndHangUp(url: string, path: string, body: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    let got = '';
    const s = connect(Number(port), hostname, () => {
      s.write(
        `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      );
    });
    s.on('data', (d) => {
      got += d;
      const head = got.indexOf('\r\n\r\n');
      const length = /content-length: *(\d+)/i.exec(got);
      if (head >= 0 && length && got.length >= head + 4 + Number(length[1])) {
        s.destroy();
        resolve(got.slice(0, got.indexOf('\r\n')));
      }
    });
    s.on('error', reject);
  });
}

/** One request with any method Node's parser knows (fetch refuses some). Resolves with the status. */
function anyMethod(url: string, method: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method, headers: { connection: 'close' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

/** WebDAV and other registered verbs that are not among OpenTelemetry's nine standard methods. */
export const ODD_METHODS = [
  'PROPFIND',
  'PROPPATCH',
  'MKCOL',
  'COPY',
  'MOVE',
  'LOCK',
  'UNLOCK',
  'SEARCH',
  'REPORT',
  'MKACTIVITY',
  'CHECKOUT',
  'MERGE',
  'NOTIFY',
  'PURGE',
] as const;

const HELD = 12;
const HOLD_MS = 600;

/**
 * Clients must not make the metrics lie (issue 13): aborted uploads, odd methods. Needs the route
 * `POST /api/upload`, which reads the whole body (JSON) before it answers 200.
 */
export function clientCases(ctx: ClientCaseContext): void {
  it(`a client that hangs up mid chunked body is recorded once, as 499 after the time until the abort; in flight returns to 0; health is not degraded`, async () => {
    const url = ctx.url();
    ctx.collector.reset();
    const sockets = await Promise.all(Array.from({ length: HELD }, () => holdChunkedBody(url, '/api/upload')));
    const held = await until(url, (s) => sumOf(s, 'http_requests_in_flight') === HELD);
    expect(sumOf(held, 'http_requests_in_flight')).toBe(HELD);
    // Routed before the body is read: in flight under the endpoint, not under the unmatched label.
    expect(sampleValue(held, 'http_requests_in_flight', { endpoint: '/api/upload' })).toBe(HELD);
    expect(sumOf(held, 'http_requests_total')).toBe(0);
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, HOLD_MS));
    for (const s of sockets) s.destroy();
    const heldMs = performance.now() - t0;

    const s = await until(
      url,
      (x) => sumOf(x, 'http_requests_total') >= HELD && sumOf(x, 'http_requests_in_flight') === 0,
    );
    const statuses = s.filter((x) => x.name === 'http_response_status_total' && x.value > 0);
    expect(statuses.map((x) => [x.labels.endpoint, x.labels.status, x.value])).toEqual([['/api/upload', '499', HELD]]);
    expect(sumOf(s, 'http_requests_total')).toBe(HELD);
    expect(sumOf(s, 'http_request_errors_total')).toBe(0);
    expect(sumOf(s, 'http_requests_in_flight')).toBe(0);
    const count = sampleValue(s, 'http_request_duration_seconds_count', { endpoint: '/api/upload', method: 'POST' });
    const sum = sampleValue(s, 'http_request_duration_seconds_sum', { endpoint: '/api/upload', method: 'POST' });
    expect(count).toBe(HELD);
    // the time until the abort: at least the hold, and not much more
    expect(sum / count).toBeGreaterThanOrEqual((heldMs - 50) / 1000);
    expect(sum / count).toBeLessThan(heldMs / 1000 + 1);
    const health = await (await fetch(`${url}/metrics/health`)).json();
    expect(health).toMatchObject({ status: 'healthy', errors: 0 });
  });

  it('a response that finished is never 499, even when the client hangs up the moment it has it', async () => {
    const url = ctx.url();
    ctx.collector.reset();
    for (let i = 0; i < 20; i++) expect(await sendAndHangUp(url, '/api/upload', '{"a":1}')).toBe('HTTP/1.1 200 OK');
    const s = await until(
      url,
      (x) => sumOf(x, 'http_requests_total') >= 20 && sumOf(x, 'http_requests_in_flight') === 0,
    );
    expect(sampleValue(s, 'http_response_status_total', { endpoint: '/api/upload', status: '200' })).toBe(20);
    expect(sumOf(s, 'http_response_status_total', { status: '499' })).toBe(0);
    expect(sumOf(s, 'http_requests_in_flight')).toBe(0);
  });

  it('fourteen odd methods cannot fill the method cap: they are _OTHER, and DELETE and HEAD keep their own value', async () => {
    const url = ctx.url();
    ctx.collector.reset();
    await fetch(`${url}/api/users/1`);
    await fetch(`${url}/api/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    for (const m of ODD_METHODS) await anyMethod(url, m, '/api/users/1');
    await anyMethod(url, 'DELETE', '/api/users/1');
    await anyMethod(url, 'HEAD', '/api/users/1');
    const s = await until(url, (x) => sumOf(x, 'http_requests_total') >= ODD_METHODS.length + 4);
    const byMethod: Record<string, number> = {};
    for (const x of s.filter((y) => y.name === 'http_requests_total')) {
      byMethod[x.labels.method!] = (byMethod[x.labels.method!] ?? 0) + x.value;
    }
    expect(byMethod).toEqual({ GET: 1, POST: 1, _OTHER: ODD_METHODS.length, DELETE: 1, HEAD: 1 });
    expect(sampleValue(s, 'gatewayz_metrics_label_overflow_total', { label: 'method' })).toBe(0);
  });
}
