import { MetricsCollector } from '@gatewayz/metrics-core';
import { parseExposition, type Sample } from '@gatewayz/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Gateway, startGateway } from '../../gateway.js';
import { PROVIDERS } from '../../providers.js';
import { ADMIN_TOKEN, promtool, scrape, sumOf } from './helpers.js';

/**
 * Load on loopback with Prometheus-style scrapes running alongside, then exact accounting:
 * `sum(http_requests_total)` must equal the number of answers the load loop received.
 *
 * Reset under load, made exact by quiescing: the load loop is paused (each worker finishes the request
 * it has in flight and waits), the test waits until nothing is in flight, resets, checks the counters
 * read zero, and resumes. Every request then either got its answer before the reset was sent or was
 * sent after the reset's answer arrived, so "answered after the reset" has no ambiguous member, and
 * the counters must equal it exactly. Scrapes keep running throughout (the metrics endpoints are not
 * recorded). A second reset is made without quiescing: the count after it is then bracketed by the
 * answers to requests sent after the reset was answered, and the answers received after it was sent.
 */

const CONCURRENCY = 32;
const PHASE_MS = 2000;
const MODELS = PROVIDERS.flatMap((p) => p.models.map((m) => m.id));

interface Tally {
  answers: number;
  byStatus: Map<number, number>;
}
const tally = (): Tally => ({ answers: 0, byStatus: new Map() });

/** The load loop: CONCURRENCY workers sending a fixed mix with keep-alive fetch, pausable. */
class Load {
  inFlight = 0;
  errors = 0;
  private i = 0;
  private stopped = false;
  private paused: Promise<void> | undefined;
  private resume: (() => void) | undefined;
  private workers: Promise<void>[] = [];
  /** Where answers are counted; swapped between phases. */
  current = tally();
  /** Every answer with the time its request was sent and its answer arrived. */
  readonly log: { sentAt: number; doneAt: number }[] = [];

  constructor(private readonly base: string) {}

  start(): void {
    this.workers = Array.from({ length: CONCURRENCY }, () => this.worker());
  }

  private request(i: number): Promise<Response> {
    const k = i % 20;
    const post = (body: string) =>
      fetch(`${this.base}/api/chat`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    if (k < 10) return post(JSON.stringify({ message: `prompt ${i % 150}`, model: MODELS[i % MODELS.length] }));
    if (k < 13) return fetch(`${this.base}/api/models`);
    if (k < 15) return fetch(`${this.base}/api/providers`);
    if (k < 16) return fetch(`${this.base}/api/usage`);
    if (k < 17) return post('{"message": ');
    if (k < 18) return post(JSON.stringify({ message: 'x', model: `nope-${i}` }));
    return fetch(`${this.base}/scan/${i}.php`);
  }

  private async worker(): Promise<void> {
    while (!this.stopped) {
      if (this.paused) {
        await this.paused;
        continue;
      }
      const i = this.i++;
      this.inFlight++;
      const sentAt = performance.now();
      try {
        const res = await this.request(i);
        await res.arrayBuffer();
        const t = this.current;
        t.answers++;
        t.byStatus.set(res.status, (t.byStatus.get(res.status) ?? 0) + 1);
        this.log.push({ sentAt, doneAt: performance.now() });
      } catch {
        this.errors++;
      } finally {
        this.inFlight--;
      }
    }
  }

  /** Stops sending and resolves once nothing is in flight. */
  async pause(): Promise<void> {
    this.paused = new Promise((r) => {
      this.resume = r;
    });
    while (this.inFlight > 0) await new Promise((r) => setTimeout(r, 1));
  }

  unpause(): void {
    const r = this.resume;
    this.paused = undefined;
    r?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unpause();
    await Promise.all(this.workers);
  }
}

/** Scrapes every 100 ms, rotating text, OpenMetrics and protobuf; checks every text scrape parses. */
class Scraper {
  scrapes = 0;
  maxMs = 0;
  nonMonotonic = 0;
  failures: string[] = [];
  /** Bumped around resets: two scrapes are only compared when no reset happened in between. */
  generation = 0;
  private last: { generation: number; sum: number } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private pending = new Set<Promise<void>>();

  constructor(private readonly base: string) {}

  start(): void {
    this.timer = setInterval(() => {
      const p = this.once().finally(() => this.pending.delete(p));
      this.pending.add(p);
    }, 100);
  }

  private async once(): Promise<void> {
    const n = this.scrapes++;
    const accept = [
      'text/plain;version=0.0.4',
      'application/openmetrics-text;version=1.0.0',
      'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited',
    ][n % 3]!;
    const generation = this.generation;
    const t0 = performance.now();
    try {
      const res = await fetch(`${this.base}/metrics`, { headers: { accept } });
      const body = Buffer.from(await res.arrayBuffer());
      this.maxMs = Math.max(this.maxMs, performance.now() - t0);
      if (res.status !== 200) throw new Error(`status ${res.status}`);
      if (n % 3 === 2) return;
      const samples: Sample[] = parseExposition(body.toString('utf8'));
      const sum = sumOf(samples, 'http_requests_total');
      if (generation === this.generation) {
        if (this.last?.generation === generation && sum < this.last.sum) this.nonMonotonic++;
        this.last = { generation, sum };
      }
    } catch (err) {
      this.failures.push(String(err));
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all(this.pending);
  }
}

const reset = (base: string) =>
  fetch(`${base}/metrics/reset`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });

const byStatusOf = (samples: Sample[]) => {
  const m = new Map<number, number>();
  for (const s of samples) {
    if (s.name !== 'http_response_status_total') continue;
    const status = Number(s.labels.status);
    m.set(status, (m.get(status) ?? 0) + s.value);
  }
  return m;
};
const sorted = (m: Map<number, number>) => [...m].filter(([, v]) => v > 0).sort((a, b) => a[0] - b[0]);

describe('load on loopback with concurrent scrapes', () => {
  let gw: Gateway;
  beforeAll(async () => {
    gw = await startGateway({
      framework: 'fastify',
      collector: new MetricsCollector(),
      adminToken: ADMIN_TOKEN,
      seed: 5,
      latencyScale: 0.1,
    });
  });
  afterAll(() => gw?.close());

  it('counts exactly the answers received, across a quiesced reset and an unquiesced one', async () => {
    const load = new Load(gw.url);
    const scraper = new Scraper(gw.url);
    scraper.start();
    load.start();

    // Phase 1: load, then quiesce and compare.
    await new Promise((r) => setTimeout(r, PHASE_MS));
    await load.pause();
    const phase1 = load.current;
    const s1 = await scrape(gw.url);
    expect(sumOf(s1.samples, 'http_requests_total')).toBe(phase1.answers);
    expect(sorted(byStatusOf(s1.samples))).toEqual(sorted(phase1.byStatus));

    // Quiesced reset.
    scraper.generation++;
    expect((await reset(gw.url)).status).toBe(200);
    scraper.generation++;
    expect(sumOf((await scrape(gw.url)).samples, 'http_requests_total')).toBe(0);
    load.current = tally();
    load.unpause();

    // Phase 2: load after the reset, quiesce, compare exactly.
    await new Promise((r) => setTimeout(r, PHASE_MS));
    await load.pause();
    const phase2 = load.current;
    const s2 = await scrape(gw.url);
    expect(sumOf(s2.samples, 'http_requests_total')).toBe(phase2.answers);
    expect(sorted(byStatusOf(s2.samples))).toEqual(sorted(phase2.byStatus));
    const phase2Statuses = JSON.stringify(Object.fromEntries(sorted(phase2.byStatus)));
    load.current = tally();
    load.unpause();

    // Phase 3: a reset while requests are in flight.
    await new Promise((r) => setTimeout(r, PHASE_MS / 2));
    scraper.generation++;
    const resetSent = performance.now();
    const r3 = await reset(gw.url);
    const resetAnswered = performance.now();
    scraper.generation++;
    expect(r3.status).toBe(200);
    await new Promise((r) => setTimeout(r, PHASE_MS / 2));
    await load.stop();
    await scraper.stop();
    const s3 = await scrape(gw.url);
    const after = sumOf(s3.samples, 'http_requests_total');
    const lower = load.log.filter((e) => e.sentAt > resetAnswered).length;
    const upper = load.log.filter((e) => e.doneAt > resetSent).length;
    expect(after).toBeGreaterThanOrEqual(lower);
    expect(after).toBeLessThanOrEqual(upper);

    expect(load.errors).toBe(0);
    expect(scraper.failures).toEqual([]);
    expect(scraper.nonMonotonic).toBe(0);
    expect(scraper.scrapes).toBeGreaterThanOrEqual(30);
    expect(promtool(s3.text)).toEqual({ status: 0, output: '' });
    const seconds = (PHASE_MS * 3) / 1000;
    console.info(
      `load: phase 1 ${phase1.answers} answers = sum(http_requests_total) ${sumOf(s1.samples, 'http_requests_total')}; ` +
        'quiesced reset; ' +
        `phase 2 ${phase2.answers} answers = ${sumOf(s2.samples, 'http_requests_total')} ${phase2Statuses}; ` +
        `unquiesced reset: ${lower} <= ${after} <= ${upper} (${upper - lower} in flight around it); ` +
        `${load.log.length} answers in ~${seconds} s of load (${Math.round(load.log.length / seconds)}/s, ` +
        `${CONCURRENCY} at a time); ${scraper.scrapes} scrapes alongside, slowest ${scraper.maxMs.toFixed(1)} ms`,
    );
  });
});
