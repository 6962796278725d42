import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MetricsCollector, MetricsError } from '@gatewayz/metrics-core';
import { createMetricsHandlers, PrometheusExporter } from '@gatewayz/metrics-exporter';
import { OPENMETRICS_ACCEPT, parseExposition, sampleValue, strictOpenMetrics } from '@gatewayz/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { type RemoteWriteError, RemoteWriter, SELF_METRICS } from '../index.js';
import { CircuitBreaker } from '../internal/breaker.js';
import { ProtoReader } from '../internal/protoReader.js';
import { snappyUncompress } from '../internal/snappy.js';
import { parseRetryAfter } from '../remoteWriter.js';

// A local fake receiver: each request is recorded and answered by `answer` (or left hanging).
interface Hit {
  at: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}
type Answer = (res: ServerResponse, n: number) => void;
const servers: Server[] = [];
async function receiver(answer: Answer): Promise<{ url: string; hits: Hit[] }> {
  const hits: Hit[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      hits.push({ at: Date.now(), headers: req.headers, body: Buffer.concat(chunks) });
      answer(res, hits.length);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/write`, hits };
}
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});
const status =
  (code: number, body = '', headers: Record<string, string> = {}) =>
  (res: ServerResponse) =>
    res.writeHead(code, headers).end(body);

function collector(): MetricsCollector {
  // No runtime families: a GC kind seen for the first time adds series between two snapshots.
  const c = new MetricsCollector({ runtimeMetrics: false });
  c.recordRequest({ endpoint: '/x', method: 'GET', latencySeconds: 0.05, statusCode: 200 });
  return c;
}
const quiet = { onError: () => {} };

describe('requests', () => {
  it('POSTs snappy protobuf with the remote-write headers, auth and custom headers', async () => {
    const rx = await receiver(status(204));
    const w = new RemoteWriter({
      url: rx.url,
      collector: collector(),
      bearerToken: 'tok',
      headers: { 'X-Scope-OrgID': 'team-a' },
    });
    const r = await w.flush();
    expect(r.requests).toBe(1);
    expect(r.samplesSent).toBeGreaterThan(10);
    const h = rx.hits[0]!.headers;
    expect(h['content-encoding']).toBe('snappy');
    expect(h['content-type']).toBe('application/x-protobuf');
    expect(h['x-prometheus-remote-write-version']).toBe('0.1.0');
    expect(h['user-agent']).toMatch(/^gatewayz-metrics-remote-write\//);
    expect(h.authorization).toBe('Bearer tok');
    expect(h['x-scope-orgid']).toBe('team-a');
    expect(snappyUncompress(new Uint8Array(rx.hits[0]!.body)).length).toBeGreaterThan(rx.hits[0]!.body.length);
    const basic = new RemoteWriter({
      url: rx.url,
      collector: collector(),
      basicAuth: { username: 'u', password: 'p' },
    });
    await basic.flush();
    expect(rx.hits[1]!.headers.authorization).toBe(`Basic ${Buffer.from('u:p').toString('base64')}`);
  });

  it('snapshots taken in the same millisecond get increasing timestamps (no duplicate sample)', async () => {
    const rx = await receiver(status(204));
    const w = new RemoteWriter({ url: rx.url, collector: collector(), now: () => 1_700_000_000_000 });
    await w.flush();
    await w.flush();
    const firstTimestamp = (body: Buffer) => {
      // WriteRequest.timeseries[0].samples[0].timestamp
      const ts = new ProtoReader(snappyUncompress(new Uint8Array(body)));
      ts.tag();
      const t = ts.sub();
      for (;;) {
        const [f, wire] = t.tag();
        if (f !== 2) {
          t.skip(wire);
          continue;
        }
        const sample = t.sub();
        sample.tag();
        sample.double();
        sample.tag();
        return sample.int64();
      }
    };
    expect([firstTimestamp(rx.hits[0]!.body), firstTimestamp(rx.hits[1]!.body)]).toEqual([
      1_700_000_000_000, 1_700_000_000_001,
    ]);
    // Two flushes at once over a source whose first read is slow: still sent in timestamp order.
    const c = collector();
    let calls = 0;
    const slowFirst = {
      state: async () => {
        if (calls++ === 0) await new Promise((r) => setTimeout(r, 100));
        return c.state();
      },
    };
    let clock = 1_800_000_000_000;
    const w2 = new RemoteWriter({ url: rx.url, collector: slowFirst, now: () => clock++ });
    await Promise.all([w2.flush(), w2.flush()]);
    const sent = rx.hits.slice(2).map((h) => firstTimestamp(h.body));
    expect(sent.length).toBe(2);
    expect(sent[0]).toBeLessThan(sent[1]!);
  });

  it('a 415 is a clear error naming the status and the body, sent once, never retried', async () => {
    const rx = await receiver(status(415, 'unsupported Content-Type "application/x-protobuf"'));
    const errors: RemoteWriteError[] = [];
    const w = new RemoteWriter({
      url: `${rx.url}?api_key=hunter2`,
      collector: collector(),
      onError: (e) => errors.push(e),
    });
    const e = (await w.flush().catch((x: unknown) => x)) as RemoteWriteError;
    expect(e.code).toBe('REJECTED');
    expect(e.status).toBe(415);
    expect(e.message).toContain('@gatewayz/metrics-remote-write: the receiver at');
    expect(e.message).toContain('answered 415 Unsupported Media Type');
    expect(e.message).toContain('unsupported Content-Type');
    expect(e.message).toContain('remote-write endpoint');
    // The URL is named by origin and path: a key in its query string never reaches a log.
    expect(e.message).toContain(`the receiver at ${rx.url} answered`);
    expect(e.message).not.toContain('hunter2');
    expect(errors).toEqual([e]);
    await new Promise((r) => setTimeout(r, 300));
    expect(rx.hits.length).toBe(1);
    expect(w.stats()).toMatchObject({ retries: 0, requestsFailed: 1, breaker: 'closed' });
    expect(w.stats().samplesFailed).toBeGreaterThan(0);
  });

  it('retries 5xx with exponential backoff (full jitter) and then succeeds', async () => {
    const rx = await receiver((res, n) => (n <= 2 ? status(503, 'busy')(res) : status(200)(res)));
    // random() = 0.999: each wait is just under its cap, min * 2^attempt: 100 ms, then 200 ms.
    const w = new RemoteWriter({ url: rx.url, collector: collector(), minBackoffSeconds: 0.1, random: () => 0.999 });
    const r = await w.flush();
    expect(r.requests).toBe(1);
    expect(rx.hits.length).toBe(3);
    const gaps = [rx.hits[1]!.at - rx.hits[0]!.at, rx.hits[2]!.at - rx.hits[1]!.at];
    expect(gaps[0]).toBeGreaterThanOrEqual(90);
    expect(gaps[1]).toBeGreaterThanOrEqual(190);
    expect(w.stats()).toMatchObject({ retries: 2, requestsSent: 1, requestsFailed: 0 });
    // random() = 0: full jitter may wait nothing at all.
    const rx2 = await receiver((res, n) => (n <= 2 ? status(500)(res) : status(200)(res)));
    const fast = new RemoteWriter({ url: rx2.url, collector: collector(), minBackoffSeconds: 5, random: () => 0 });
    const t0 = Date.now();
    await fast.flush();
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('honours Retry-After on a 429, in seconds and as an HTTP date', async () => {
    const rx = await receiver((res, n) =>
      n === 1
        ? status(429, 'slow down', { 'Retry-After': '1' })(res)
        : n === 2
          ? status(503, '', { 'Retry-After': new Date(Date.now() + 2000).toUTCString() })(res)
          : status(200)(res),
    );
    const w = new RemoteWriter({ url: rx.url, collector: collector(), minBackoffSeconds: 0.01, random: () => 0 });
    await w.flush();
    expect(rx.hits.length).toBe(3);
    expect(rx.hits[1]!.at - rx.hits[0]!.at).toBeGreaterThanOrEqual(950);
    // An HTTP date has one-second resolution: at least 1 s of the 2 s remain.
    expect(rx.hits[2]!.at - rx.hits[1]!.at).toBeGreaterThanOrEqual(950);
    expect(parseRetryAfter('7', 0)).toBe(7);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4000)).toBe(6);
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
  });

  it('gives up after maxRetries and says so; a hung receiver times out', async () => {
    const rx = await receiver(status(502, 'bad gateway'));
    const w = new RemoteWriter({
      url: rx.url,
      collector: collector(),
      maxRetries: 2,
      minBackoffSeconds: 0.01,
      ...quiet,
    });
    const e = (await w.flush().catch((x: unknown) => x)) as RemoteWriteError;
    expect(e.code).toBe('RETRIES_EXHAUSTED');
    expect(e.message).toMatch(/answered 502 Bad Gateway: "bad gateway" \(gave up after 3 attempts\)/);
    expect(rx.hits.length).toBe(3);
    const hung = await receiver(() => {});
    const h = new RemoteWriter({ url: hung.url, collector: collector(), timeoutSeconds: 0.2, maxRetries: 0, ...quiet });
    const t0 = Date.now();
    const te = (await h.flush().catch((x: unknown) => x)) as RemoteWriteError;
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(te.message).toMatch(/no answer within 0.2s/);
  });

  it('a refused connection is a network error, retried', async () => {
    const rx = await receiver(status(200));
    const url = rx.url;
    await new Promise((r) => servers.pop()!.close(r));
    const w = new RemoteWriter({ url, collector: collector(), maxRetries: 1, minBackoffSeconds: 0.01, ...quiet });
    const e = (await w.flush().catch((x: unknown) => x)) as RemoteWriteError;
    expect(e.code).toBe('RETRIES_EXHAUSTED');
    expect(e.message).toMatch(/could not reach the receiver at .*ECONNREFUSED/);
    expect(w.stats().retries).toBe(1);
  });
});

describe('queue and breaker', () => {
  it('a full queue drops the oldest snapshots and counts every dropped sample', async () => {
    let hold = true;
    let release: (() => void) | undefined;
    const rx = await receiver((res) => {
      if (hold) release = () => status(200)(res);
      else status(200)(res);
    });
    const w = new RemoteWriter({
      url: rx.url,
      collector: collector(),
      maxQueue: 3,
      intervalSeconds: 0.02,
      timeoutSeconds: 5,
    });
    w.start();
    // Snapshots every 20 ms: wait (up to 5 s, for a loaded machine) until more than three have been dropped.
    for (let t = Date.now(); w.stats().requestsDropped <= 3 && Date.now() - t < 5000; )
      await new Promise((r) => setTimeout(r, 50));
    const s = w.stats();
    expect(rx.hits.length).toBe(1);
    expect(s.queueLength).toBe(3);
    expect(s.requestsDropped).toBeGreaterThan(3);
    // Every snapshot has the same series here, so the dropped samples are a whole multiple.
    const perRequest = s.samplesDropped / s.requestsDropped;
    expect(Number.isInteger(perRequest)).toBe(true);
    expect(perRequest).toBeGreaterThan(10);
    hold = false;
    release?.();
    await w.stop();
    expect(w.stats()).toMatchObject({ queueLength: 0, requestsFailed: 0 });
  });

  it('the breaker stops calls to a dead receiver, probes it once when half-open, and closes on success', async () => {
    let up = false;
    const rx = await receiver((res) => (up ? status(200)(res) : status(503)(res)));
    const w = new RemoteWriter({
      url: rx.url,
      collector: collector(),
      intervalSeconds: 0.02,
      maxRetries: 0,
      breakerThreshold: 3,
      breakerResetSeconds: 0.5,
      ...quiet,
    });
    w.start();
    const until = async (ok: () => boolean) => {
      const end = Date.now() + 5000;
      while (!ok() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    };
    // The receiver logs a request before the writer has read its answer: wait for the writer to count it.
    await until(() => w.stats().breaker === 'open');
    expect(rx.hits.length).toBe(3);
    const opened = Date.now();
    await new Promise((r) => setTimeout(r, 300));
    // Open: no call while snapshots keep coming every 20 ms.
    expect(rx.hits.length).toBe(3);
    await until(() => rx.hits.length >= 4);
    expect(Date.now() - opened).toBeGreaterThanOrEqual(150);
    // The probe failed: open again, for another reset period.
    const afterProbe = rx.hits.length;
    await new Promise((r) => setTimeout(r, 200));
    expect(rx.hits.length).toBe(afterProbe);
    up = true;
    await until(() => w.stats().breaker === 'closed');
    expect(w.stats().breaker).toBe('closed');
    expect(w.stats().requestsSent).toBeGreaterThan(0);
    await w.stop();
    expect(w.stats().lastSuccessMs).toBeGreaterThan(opened);
  });

  it('stop() with a dead receiver and an open breaker probes once and rejects at once, not after the reset', async () => {
    const rx = await receiver(status(503, 'down'));
    const w = new RemoteWriter({
      url: rx.url,
      collector: collector(),
      intervalSeconds: 0.02,
      maxRetries: 5,
      minBackoffSeconds: 0.01,
      maxBackoffSeconds: 0.02,
      breakerThreshold: 2,
      breakerResetSeconds: 60,
      ...quiet,
    });
    w.start();
    const end = Date.now() + 5000;
    while (w.stats().breaker !== 'open' && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    expect(w.stats().breaker).toBe('open');
    const hitsBefore = rx.hits.length;
    const t0 = Date.now();
    const e = (await w.stop().catch((x: unknown) => x)) as RemoteWriteError;
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(e.code).toBe('CIRCUIT_OPEN');
    expect(e.message).toMatch(
      /circuit breaker is open .*last error: the receiver at .* answered 503 Service Unavailable: "down"/,
    );
    // One probe, no retry storm.
    expect(rx.hits.length - hitsBefore).toBe(1);
    const s = w.stats();
    expect(s.queueLength).toBe(0);
    expect(s.requestsSent).toBe(0);
  });

  it('CircuitBreaker: threshold, half-open after the reset time, a failed probe reopens', () => {
    const b = new CircuitBreaker(2, 100);
    b.failure(0);
    expect(b.state(0)).toBe('closed');
    b.failure(10);
    expect(b.state(50)).toBe('open');
    expect(b.waitMs(50)).toBe(60);
    expect(b.state(110)).toBe('half-open');
    b.failure(120);
    expect(b.state(150)).toBe('open');
    b.success();
    expect(b.state(150)).toBe('closed');
  });

  it('recording never waits: the timer is unref’d and a hung receiver does not slow recordRequest', async () => {
    const rx = await receiver(() => {});
    const c = collector();
    const w = new RemoteWriter({ url: rx.url, collector: c, intervalSeconds: 0.01, timeoutSeconds: 5, ...quiet });
    w.start();
    const t0 = performance.now();
    for (let i = 0; i < 10_000; i++)
      c.recordRequest({ endpoint: '/x', method: 'GET', latencySeconds: 0.01, statusCode: 200 });
    expect(performance.now() - t0).toBeLessThan(1000);
    const timer = (w as unknown as { timer: NodeJS.Timeout }).timer;
    expect(timer.hasRef()).toBe(false);
  });
});

describe('self-metrics and options', () => {
  it('self-metrics are declared in a MetricsCollector: in /metrics (strict OpenMetrics too) and pushed', async () => {
    const rx = await receiver(status(200));
    const c = collector();
    const w = new RemoteWriter({ url: rx.url, collector: c });
    await w.flush();
    const handlers = createMetricsHandlers({ collector: c });
    const out = await handlers.handle({ method: 'GET', path: '/metrics', headers: {} });
    const samples = parseExposition(String(out?.body));
    expect(sampleValue(samples, 'remote_write_samples_sent_total')).toBe(w.stats().samplesSent);
    expect(w.stats().samplesSent).toBeGreaterThan(10);
    expect(sampleValue(samples, 'remote_write_queue_length')).toBe(0);
    expect(sampleValue(samples, 'remote_write_last_success_timestamp_seconds')).toBeGreaterThan(1.7e9);
    for (const m of SELF_METRICS)
      expect(
        samples.some((x) => x.name === m.name),
        m.name,
      ).toBe(true);
    const om = await handlers.handle({ method: 'GET', path: '/metrics', headers: { accept: OPENMETRICS_ACCEPT } });
    const sent = strictOpenMetrics(String(om?.body)).find(([name]) => name === 'remote_write_samples_sent');
    expect(sent?.[1]).toBe('counter');
    // A second writer on the same collector (another receiver) gets its own series, labelled by its url.
    const rx2 = await receiver(status(200));
    const w2 = new RemoteWriter({ url: `${rx2.url}?key=secret`, collector: c });
    await w2.flush();
    const both = parseExposition(
      String((await handlers.handle({ method: 'GET', path: '/metrics', headers: {} }))?.body),
    ).filter((x) => x.name === 'remote_write_samples_sent_total');
    expect(both.map((x) => x.labels.url).sort()).toEqual([rx.url, rx2.url].sort());
    expect(both.find((x) => x.labels.url === rx2.url)?.value).toBe(w2.stats().samplesSent);
    // The second snapshot carries the first one's count: the writer's health reaches the receiver too.
    await w.flush();
    const body = snappyUncompress(new Uint8Array(rx.hits[1]!.body));
    expect(Buffer.from(body).includes('remote_write_samples_sent_total')).toBe(true);
    await w.stop();
  });

  it('metricsText() gives the same families for append, for a source that cannot declare them', async () => {
    const rx = await receiver(status(200));
    const c = collector();
    const w = new RemoteWriter({ url: rx.url, collector: { state: () => c.state() } });
    await w.flush();
    const handlers = createMetricsHandlers({ collector: c, append: () => w.metricsText() });
    const out = await handlers.handle({ method: 'GET', path: '/metrics', headers: {} });
    const samples = parseExposition(String(out?.body));
    expect(sampleValue(samples, 'remote_write_samples_sent_total')).toBe(w.stats().samplesSent);
    expect(sampleValue(samples, 'remote_write_queue_length')).toBe(0);
    expect(samples.some((s) => s.name === 'http_requests_total')).toBe(true);
    const om = await handlers.handle({ method: 'GET', path: '/metrics', headers: { accept: OPENMETRICS_ACCEPT } });
    const sent = strictOpenMetrics(String(om?.body)).find(([name]) => name === 'remote_write_samples_sent');
    expect(sent?.[1]).toBe('counter');
    expect(Number(sent?.[2][0]?.[2])).toBe(w.stats().samplesSent);
    expect(sent?.[2][0]?.[1]).toEqual({ url: rx.url });
    // registerMetrics: false leaves the collector alone.
    const plain = collector();
    new RemoteWriter({ url: rx.url, collector: plain, registerMetrics: false });
    expect(new PrometheusExporter(plain).export()).not.toContain('remote_write_');
  });

  it('rejects bad options with a MetricsError naming the package', () => {
    const bad = (o: unknown, re: RegExp) => {
      let e: unknown;
      try {
        new RemoteWriter(o as never);
      } catch (x) {
        e = x;
      }
      expect(e).toBeInstanceOf(MetricsError);
      expect((e as Error).message).toMatch(/^@gatewayz\/metrics-remote-write: /);
      expect((e as Error).message).toMatch(re);
    };
    const c = collector();
    bad(undefined, /url/);
    bad({ collector: c }, /"url" is required/);
    bad({ url: 'nope', collector: c }, /absolute http\(s\) URL/);
    bad({ url: 'ftp://x/y', collector: c }, /http: or https:/);
    bad({ url: 'http://u:p@x/y', collector: c }, /basicAuth/);
    bad({ url: 'http://x/y', collector: c, intervalSecond: 1 }, /did you mean "intervalSeconds"/);
    bad({ url: 'http://x/y', collector: c, intervalSeconds: 0 }, /"intervalSeconds" must be a finite number > 0/);
    bad({ url: 'http://x/y', collector: c, maxQueue: 0 }, /"maxQueue" must be a finite number >= 1/);
    bad(
      { url: 'http://x/y', collector: c, bearerToken: 't', basicAuth: { username: 'u', password: 'p' } },
      /cannot both/,
    );
    bad({ url: 'http://x/y', collector: c, externalLabels: { 'bad-name': 'x' } }, /not a valid label name/);
    bad({ url: 'http://x/y', collector: c, headers: { 'bad header': 'x' } }, /not a header name/);
    bad({ url: 'http://x/y', collector: c, nativeHistograms: 'yes' }, /"nativeHistograms" must be a boolean/);
  });
});
