import { spawnSync } from 'node:child_process';
import { MetricsCollector } from '@gatewayz/metrics-core';
import fc from 'fast-check';
import {
  Counter,
  collectDefaultMetrics,
  Gauge,
  Histogram,
  type OpenMetricsContentType,
  Registry,
  Summary,
} from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMetricsHandlers } from '../index.js';
import { type ParsedFamily, parseExposition as parseAppended } from '../internal/parseExposition.js';
import { renderParsedText } from '../internal/renderParsed.js';
import { PROTOBUF_CONTENT_TYPE } from '../negotiate.js';
import { parseExposition } from './helpers/exposition.js';
import { decodeDelimited } from './helpers/protobuf.js';

const OM_ACCEPT = 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75';
const PROTO_ACCEPT = `${PROTOBUF_CONTENT_TYPE};q=0.8,${OM_ACCEPT.replace('version=1.0.0', 'version=1.0.0;q=0.7')}`;
const NASTY = ['line\u2028sep', 'para\u2029sep', 'say "hi"', 'back\\slash', 'new\nline', 'trailing\\'];

/** The strict OpenMetrics parser of prometheus_client: families as [name, type, [[sample, labels, value]]]. */
function strictOpenMetrics(text: string): [string, string, [string, Record<string, string>, string][]][] {
  const script = `
import sys, json
from prometheus_client.openmetrics.parser import text_string_to_metric_families
out = [[f.name, f.type, [[s.name, s.labels, repr(s.value)] for s in f.samples]] for f in text_string_to_metric_families(sys.stdin.read())]
print(json.dumps(out))`;
  const r = spawnSync('/usr/bin/python3', ['-c', script], { input: text, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`strict OpenMetrics parser: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

function promRegistry(om = false) {
  const r = new Registry<OpenMetricsContentType>();
  if (om) r.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  collectDefaultMetrics({ register: r });
  const h = new Histogram({ name: 'job_seconds', help: 'Job "time" \\ spent.', labelNames: ['kind'], registers: [r] });
  const s = new Summary({ name: 'payload_bytes', help: 'Payload sizes.', labelNames: ['kind'], registers: [r] });
  const c = new Counter({ name: 'app_jobs_total', help: 'Jobs.', labelNames: ['kind'], registers: [r] });
  new Gauge({ name: 'app_nan', help: 'Not a number.', registers: [r] }).set(Number.NaN);
  new Gauge({ name: 'app_inf', help: 'Infinite.', registers: [r] }).set(Number.POSITIVE_INFINITY);
  for (const [i, kind] of NASTY.entries()) {
    h.observe({ kind }, 0.1 * (i + 1));
    s.observe({ kind }, 100 * (i + 1));
    c.inc({ kind }, i + 1);
  }
  return r;
}

/** One prom-client rendering, fixed, so each format converts the same values. */
async function snapshotOf(om = false) {
  return promRegistry(om).metrics();
}

/** A float as Python's repr spells it (`nan`, `inf`, `1e-05`), read back. */
const pyNumber = (s: string | undefined) => (s === undefined ? undefined : Number(s === 'inf' ? 'Infinity' : s));

const key = (name: string, labels: Record<string, string>) =>
  `${name}${JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)))}`;

/** prom-client's own 0.0.4 samples, read with a loose line parser (blank lines are fine there). */
function promSamples(text: string): Map<string, number> {
  const parsed = parseAppended(text);
  expect(parsed.invalidLines).toBe(0);
  const out = new Map<string, number>();
  for (const f of parsed.families) {
    for (const s of f.samples) {
      const name = f.type === 'counter' ? f.textName : f.name + s.suffix;
      out.set(key(name, Object.fromEntries(s.labels)), s.value);
    }
  }
  return out;
}

function handlersFor(append: () => string | Promise<string>, appendTimeoutMs?: number) {
  const collector = new MetricsCollector({ runtimeMetrics: false });
  collector.recordRequest({ endpoint: '/api/chat', method: 'POST', latencySeconds: 0.2, statusCode: 200 });
  return createMetricsHandlers({ collector, adminToken: null, append, ...(appendTimeoutMs && { appendTimeoutMs }) });
}
const get = (accept?: string) => ({ method: 'GET', headers: accept ? { accept } : {} });

describe('append: prom-client output converted to the negotiated format', () => {
  it('0.0.4: every prom-client sample survives, and the whole body is strict 0.0.4 (no blank lines)', async () => {
    const snapshot = await snapshotOf();
    expect(snapshot).toContain('\n\n'); // what used to break the strict parsers
    const h = handlersFor(() => snapshot);
    const r = await h.metrics(get());
    expect(r.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const exp = parseExposition(String(r.body), 'text');
    const got = new Map(exp.samples.map((s) => [key(s.name, s.labels), s.value]));
    const want = promSamples(snapshot);
    expect(want.size).toBeGreaterThan(100);
    for (const [k, v] of want) expect(got.get(k), k).toEqual(v);
    expect(exp.families.get('app_jobs_total')!.type).toBe('counter');
    expect(exp.families.get('job_seconds')!.help).toBe('Job "time" \\ spent.');
    expect(got.get(key('http_requests_total', { endpoint: '/api/chat', method: 'POST' }))).toBe(1);
  });

  for (const om of [false, true]) {
    it(`OpenMetrics from prom-client's ${om ? 'OpenMetrics' : '0.0.4'} output passes the strict parser, # EOF once and last`, async () => {
      const snapshot = await snapshotOf(om);
      const h = handlersFor(() => snapshot);
      const r = await h.metrics(get(OM_ACCEPT));
      expect(r.headers['content-type']).toMatch(/^application\/openmetrics-text; version=1\.0\.0/);
      const body = String(r.body);
      expect(body.match(/^# EOF$/gm)).toHaveLength(1);
      expect(body.endsWith('\n# EOF\n')).toBe(true);
      parseExposition(body, 'openmetrics');
      const families = strictOpenMetrics(body);
      const byName = new Map(families.map((f) => [f[0], f]));
      expect(byName.get('app_jobs')![1]).toBe('counter');
      expect(byName.get('process_cpu_user_seconds')![1]).toBe('counter');
      expect(byName.get('http_requests')![1]).toBe('counter');
      expect(byName.get('job_seconds')![1]).toBe('histogram');
      expect(byName.get('payload_bytes')![1]).toBe('summary');
      const samples = new Map(families.flatMap((f) => f[2].map((s) => [key(s[0], s[1]), s[2]] as const)));
      // Every sample of prom-client's 0.0.4 rendering of the same registry is there, by the same series name.
      for (const [k, v] of promSamples(await snapshotOf(false))) {
        if (k.startsWith('process_') || k.startsWith('nodejs_')) {
          expect(samples.has(k), k).toBe(true);
          continue; // live values differ between the two registries
        }
        expect(pyNumber(samples.get(k)), k).toEqual(v);
      }
    });
  }

  it('protobuf stays on with append, and the appended families decode with their samples', async () => {
    const snapshot = await snapshotOf();
    const h = handlersFor(() => snapshot);
    const r = await h.metrics(get(PROTO_ACCEPT));
    expect(r.headers['content-type']).toBe(PROTOBUF_CONTENT_TYPE);
    const families = decodeDelimited(r.body as Buffer);
    const byName = new Map(families.map((f) => [f.name, f]));
    expect(families.length).toBe(byName.size); // no family twice
    // Ours, with the native histogram, are still there.
    expect(byName.get('http_requests_total')!.metrics[0]!.counter).toBe(1);
    expect(byName.get('http_request_duration_seconds')!.metrics[0]!.histogram!.schema).toBeDefined();
    const want = promSamples(snapshot);
    const jobs = byName.get('app_jobs_total')!;
    expect(jobs.type).toBe(0);
    for (const [i, kind] of NASTY.entries()) {
      expect(jobs.metrics.find((m) => m.labels.kind === kind)?.counter, kind).toBe(i + 1);
      const hist = byName.get('job_seconds')!.metrics.find((m) => m.labels.kind === kind)!.histogram!;
      expect(hist.count).toBe(1);
      expect(hist.buckets).toHaveLength(11);
      for (const [le, n] of hist.buckets) {
        expect(want.get(key('job_seconds_bucket', { kind, le: String(le) })), `${kind} le=${le}`).toBe(n);
      }
      const sum = byName.get('payload_bytes')!.metrics.find((m) => m.labels.kind === kind)!.summary!;
      expect(sum.count).toBe(1);
      expect(sum.sum).toBe(100 * (i + 1));
      expect(sum.quantiles.map(([q]) => q)).toEqual([0.01, 0.05, 0.5, 0.9, 0.95, 0.99, 0.999]);
    }
    expect(byName.get('job_seconds')!.type).toBe(4);
    expect(byName.get('payload_bytes')!.type).toBe(2);
    expect(Number.isNaN(byName.get('app_nan')!.metrics[0]!.gauge)).toBe(true);
    expect(byName.get('app_inf')!.metrics[0]!.gauge).toBe(Number.POSITIVE_INFINITY);
    // Every gauge and counter sample of prom-client's text is in the protobuf.
    let checked = 0;
    for (const f of families) {
      if (f.type !== 0 && f.type !== 1) continue;
      for (const m of f.metrics) {
        const w = want.get(key(f.name, m.labels));
        if (w === undefined) continue;
        expect(m.counter ?? m.gauge, f.name).toEqual(w);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(60);
  });

  it('a family that clashes with ours is left out (all formats stay valid) and counted', async () => {
    const clashing = [
      '# HELP http_requests_total Theirs.',
      '# TYPE http_requests_total counter',
      'http_requests_total{path="/"} 7',
      '',
      '# HELP http_request_duration_seconds Theirs.',
      '# TYPE http_request_duration_seconds histogram',
      'http_request_duration_seconds_bucket{le="+Inf"} 1',
      'http_request_duration_seconds_sum 1',
      'http_request_duration_seconds_count 1',
      '',
      '# HELP app_up Theirs, no clash.',
      '# TYPE app_up gauge',
      'app_up 1',
      '# HELP app_a A.',
      '# TYPE app_a counter',
      'app_a_total 1',
      '# HELP app_a_created Clashes with app_a.',
      '# TYPE app_a_created gauge',
      'app_a_created 5',
    ].join('\n');
    const h = handlersFor(() => clashing);
    for (const accept of [undefined, OM_ACCEPT]) {
      const body = String((await h.metrics(get(accept))).body);
      const exp = parseExposition(body, accept ? 'openmetrics' : 'text');
      expect(exp.samples.some((s) => s.labels.path === '/')).toBe(false);
      expect(exp.samples.find((s) => s.name === 'app_up')!.value).toBe(1);
      expect(exp.samples.some((s) => s.name === 'app_a_created')).toBe(false);
      if (accept) strictOpenMetrics(body);
    }
    const proto = decodeDelimited((await h.metrics(get(PROTO_ACCEPT))).body as Buffer);
    expect(proto.filter((f) => f.name === 'http_requests_total')).toHaveLength(1);
    const exp = parseExposition(String((await h.metrics(get())).body), 'text');
    // 3 families per scrape, 4 scrapes so far (this one included).
    expect(
      exp.samples.find((s) => s.name === 'gatewayz_metrics_admin_refusals_total' && s.labels.reason === 'append_clash')!
        .value,
    ).toBe(12);
  });

  it("declared families win too: prom-client's default metrics appended to a collector with runtimeMetrics", async () => {
    const collector = new MetricsCollector({ runtimeMetrics: true });
    collector.counter({ name: 'app_jobs_total', help: 'Ours.', labelNames: ['kind'] }).inc({ kind: 'ours' }, 3);
    collector.recordRequest({ endpoint: '/api/chat', method: 'POST', latencySeconds: 0.2, statusCode: 200 });
    const text = await snapshotOf(); // collectDefaultMetrics + app_jobs_total{kind} + others
    const h = createMetricsHandlers({ collector, adminToken: null, append: () => text });
    for (const accept of [undefined, OM_ACCEPT]) {
      const body = String((await h.metrics(get(accept))).body);
      const types = body.split('\n').filter((l) => l.startsWith('# TYPE '));
      expect(new Set(types).size, 'one # TYPE line per family').toBe(types.length);
      const exp = parseExposition(body, accept ? 'openmetrics' : 'text');
      expect(exp.samples.filter((s) => s.name === 'process_cpu_user_seconds_total')).toHaveLength(1);
      expect(exp.samples.filter((s) => s.name === 'app_jobs_total').map((s) => s.labels.kind)).toEqual(['ours']);
      expect(exp.samples.some((s) => s.name === 'job_seconds_bucket')).toBe(true); // theirs, no clash: kept
      if (accept) strictOpenMetrics(body);
    }
    const proto = decodeDelimited((await h.metrics(get(PROTO_ACCEPT))).body as Buffer);
    const names = proto.map((f) => f.name);
    expect(new Set(names).size, 'one MetricFamily per name').toBe(names.length);
    const exp = parseExposition(String((await h.metrics(get())).body), 'text');
    expect(
      exp.samples.find((s) => s.name === 'gatewayz_metrics_admin_refusals_total' && s.labels.reason === 'append_clash')!
        .value,
    ).toBeGreaterThan(0);
  });

  it('an append that throws or rejects serves our families (200, valid), and is counted', async () => {
    for (const append of [
      () => {
        throw new Error('boom');
      },
      () => Promise.reject(new Error('boom')),
      () => 42 as unknown as string,
    ]) {
      const h = handlersFor(append);
      for (const accept of [undefined, OM_ACCEPT, PROTO_ACCEPT]) {
        const r = await h.metrics(get(accept));
        expect(r.status).toBe(200);
        if (accept === PROTO_ACCEPT) expect(decodeDelimited(r.body as Buffer).length).toBeGreaterThan(10);
        else if (accept) strictOpenMetrics(String(r.body));
      }
      const exp = parseExposition(String((await h.metrics(get())).body));
      expect(exp.samples.find((s) => s.labels.reason === 'append_error')!.value).toBe(4);
      expect(exp.samples.find((s) => s.name === 'http_requests_total')!.value).toBe(1);
    }
  });

  it('an append that never settles cannot stall the scrape: after appendTimeoutMs it serves our families, counted', async () => {
    const h = handlersFor(() => new Promise<string>(() => {}), 50);
    for (const accept of [undefined, OM_ACCEPT, PROTO_ACCEPT]) {
      const started = performance.now();
      const r = await h.metrics(get(accept));
      expect(performance.now() - started).toBeLessThan(2000);
      expect(r.status).toBe(200);
      if (accept === PROTO_ACCEPT) expect(decodeDelimited(r.body as Buffer).length).toBeGreaterThan(10);
      else if (accept) strictOpenMetrics(String(r.body));
    }
    const exp = parseExposition(String((await h.metrics(get())).body));
    expect(exp.samples.find((s) => s.labels.reason === 'append_timeout')!.value).toBe(4);
    expect(exp.samples.find((s) => s.name === 'http_requests_total')!.value).toBe(1);
    // A slow append that settles in time is still served.
    const text = await snapshotOf();
    const slow = handlersFor(() => new Promise<string>((r) => setTimeout(r, 20, text)), 2000);
    expect(String((await slow.metrics(get())).body)).toContain('process_cpu_user_seconds_total');
  });
});

describe('the appended-exposition parser', () => {
  it('reads timestamps, exemplars, escapes, +Inf/NaN in any case, CRLF, comments, and stops at # EOF', () => {
    const text = [
      '# a comment',
      '',
      '# HELP a_total A \\\\ help\\n.\u2028\u2029 too',
      '# TYPE a_total counter',
      'a_total{x="q\\"\\\\\\n\u2028"} 1 1700000000000\r',
      'b{le="+Inf"} +inf',
      'c NaN',
      'd Nan',
      'e -Inf',
      'not a sample line',
      '# EOF',
      'after 1',
    ].join('\n');
    const p = parseAppended(text);
    expect(p.invalidLines).toBe(1);
    expect(p.families.map((f) => [f.name, f.type])).toEqual([
      ['a', 'counter'],
      ['b', 'untyped'],
      ['c', 'untyped'],
      ['d', 'untyped'],
      ['e', 'untyped'],
    ]);
    const a = p.families[0]!;
    expect(a.textName).toBe('a_total');
    expect(a.help).toBe('A \\ help\n.\u2028\u2029 too');
    // OpenMetrics (it has # EOF): timestamps are seconds.
    expect(a.samples[0]).toEqual({
      suffix: '_total',
      labels: [['x', 'q"\\\n\u2028']],
      value: 1,
      timestampMs: 1700000000000000,
    });
    expect(p.families[1]!.samples[0]!.value).toBe(Number.POSITIVE_INFINITY);
    expect(p.families[3]!.samples[0]!.value).toBeNaN();
    const om = `# TYPE j counter\nj_total 2 1700000000.5 # {trace_id="x"} 1 1700000000\nj_created 1700000000\n# EOF\n`;
    const j = parseAppended(om).families[0]!;
    expect(j.samples).toEqual([
      { suffix: '_total', labels: [], value: 2, timestampMs: 1700000000500 },
      { suffix: '_created', labels: [], value: 1700000000 },
    ]);
    expect(renderParsedText([j], false)).toBe('# TYPE j_total counter\nj_total 2 1700000000500\n');
    expect(renderParsedText([j], true)).toBe('# TYPE j counter\nj_total 2 1700000000.5\nj_created 1700000000\n');
  });

  it('renders OpenMetrics-only types in every format as Prometheus ingests them', async () => {
    const om = [
      '# TYPE build info',
      '# HELP build Build.',
      'build_info{version="1"} 1',
      '# HELP feature Features.',
      '# TYPE feature stateset',
      'feature{feature="a"} 1',
      'feature{feature="b"} 0',
      '# HELP queue_seconds Queue.',
      '# TYPE queue_seconds gaugehistogram',
      '# UNIT queue_seconds seconds',
      'queue_seconds_bucket{le="1.0"} 1',
      'queue_seconds_bucket{le="+Inf"} 2',
      'queue_seconds_gcount 2',
      'queue_seconds_gsum 3',
      '# HELP misc Misc.',
      '# TYPE misc unknown',
      'misc 4',
      '# EOF',
    ].join('\n');
    const h = handlersFor(() => om);
    const omBody = String((await h.metrics(get(OM_ACCEPT))).body);
    const types = new Map(strictOpenMetrics(omBody).map((f) => [f[0], f[1]]));
    expect([...['build', 'feature', 'queue_seconds', 'misc'].map((n) => types.get(n))]).toEqual([
      'info',
      'stateset',
      'gaugehistogram',
      'unknown',
    ]);
    expect(omBody).toContain('# UNIT queue_seconds seconds\n');
    const text = parseExposition(String((await h.metrics(get())).body));
    expect(text.families.get('build_info')!.type).toBe('gauge');
    expect(text.families.get('queue_seconds_gcount')!.samples[0]!.value).toBe(2);
    expect(text.families.get('misc')!.type).toBe('untyped');
    const proto = new Map(decodeDelimited((await h.metrics(get(PROTO_ACCEPT))).body as Buffer).map((f) => [f.name, f]));
    expect(proto.get('build_info')!.metrics[0]!.gauge).toBe(1);
    expect(proto.get('misc')!.metrics[0]!.untyped).toBe(4);
    expect(proto.get('feature')!.metrics).toHaveLength(2);
  });

  it('stays linear on hostile input (unterminated quotes, runs of backslashes and braces)', () => {
    const hostile = [
      `a{b="${'\\'.repeat(200_000)}`,
      `a{${'b="",'.repeat(50_000)}`,
      `# HELP ${'x'.repeat(200_000)}`,
      `${'{'.repeat(200_000)}`,
    ].join('\n');
    const t0 = performance.now();
    const p = parseAppended(hostile);
    const ms = performance.now() - t0;
    expect(p.invalidLines).toBe(3);
    expect(ms).toBeLessThan(2000);
  });

  it('property: any help text and label values survive render → parse in 0.0.4 and OpenMetrics', () => {
    const text = fc.string({ unit: 'binary', maxLength: 40 });
    fc.assert(
      // A HELP text ending in CR is the one thing that does not survive: CRLF input is read as LF.
      fc.property(
        text.map((h) => h.replace(/\r+$/, '')),
        fc.array(text, { minLength: 1, maxLength: 5 }),
        fc.boolean(),
        (help, values, om) => {
          const family: ParsedFamily = {
            name: 'p',
            type: 'counter',
            help,
            textName: 'p_total',
            samples: values.map((v, i) => ({ suffix: '_total', labels: [['v', v]] as [string, string][], value: i })),
          };
          let rendered = renderParsedText([family], om);
          if (om) rendered += '# EOF\n';
          const back = parseAppended(rendered);
          expect(back.invalidLines).toBe(0);
          expect(back.families).toEqual([family]);
        },
      ),
      { numRuns: 500 },
    );
  });
});
