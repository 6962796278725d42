import { spawnSync } from 'node:child_process';
import { MetricsCollector, type RequestRecord, seedView } from '@gatewayz/metrics-core';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { METRIC_FAMILIES, PrometheusExporter } from '../index.js';
import { parseExposition } from './helpers/exposition.js';

/**
 * The whole record API under hostile numbers and labels at once, checked end to end: nothing throws,
 * every invalid latency and status is counted in `gatewayz_metrics_dropped_values_total` (against an
 * oracle that restates the documented rules), and every exposition parses strictly and passes
 * `promtool check metrics` with zero findings. The label escaping itself is covered property by
 * property in escape.property.test.ts; here the labels only make the outputs hostile.
 */

const MIB = 1 << 20;
const MAX_LATENCY = 86_400;

function promtool(text: string): { status: number | null; output: string } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 30_000 });
  if (r.error) throw new Error(`promtool could not run (apt-get install -y prometheus): ${r.error.message}`);
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

const validLatency = (v: unknown) => typeof v === 'number' && v >= 0 && v <= MAX_LATENCY;
const validStatus = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 100 && v <= 599;

const number = fc.oneof(
  { weight: 4, arbitrary: fc.double({ min: 0, max: 120, noNaN: true }) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      -0,
      -1,
      -1e-12,
      MAX_LATENCY,
      MAX_LATENCY + 1e-6,
      1e12,
      Number.MAX_VALUE,
      -Number.MAX_VALUE,
      Number.MIN_VALUE,
    ),
  },
  { weight: 2, arbitrary: fc.double() },
  { weight: 2, arbitrary: fc.constantFrom<unknown>('0.5', '', 'NaN', null, undefined, true, {}, [1], 5n) },
);

const status = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 100, max: 599 }) },
  { weight: 2, arbitrary: fc.integer({ min: -1000, max: 2000 }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom<unknown>(0, 99, 600, 999, 200.5, Number.NaN, Number.POSITIVE_INFINITY, 1e10, -500),
  },
  { weight: 1, arbitrary: fc.constantFrom<unknown>('200', null, undefined, {}, [200]) },
);

const huge = [
  `${'/a'.repeat(MIB / 2)}`,
  `"}\n${'x'.repeat(MIB)}`,
  '\ud800'.repeat(MIB),
  `${'\u0000\u001b\u007f'.repeat(MIB / 3)}`,
];
const label = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('/api/chat', '/api/models', 'GET', 'POST', 'openai', 'gpt-4o', 'billing') },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  {
    weight: 3,
    arbitrary: fc
      .array(
        fc.constantFrom(
          '"}\n',
          '"} 1\nhttp_requests_total{endpoint="x",method="GET"} 1e9\n',
          '\\',
          '\n',
          '\r',
          '\u0000',
          '\u001b[2J',
          '\ud800',
          '\udfff',
          '# TYPE x counter\n',
          'le="+Inf"',
        ),
        { maxLength: 6 },
      )
      .map((a) => a.join('')),
  },
  { weight: 1, arbitrary: fc.constantFrom(...huge) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(null, undefined, 42, Number.NaN, {}, '') },
);

type Op =
  | { kind: 'request'; r: Record<keyof RequestRecord, unknown> }
  | { kind: 'timer'; start: Record<string, unknown>; dtMs: number; end: Record<string, unknown> }
  | { kind: 'db'; latency: unknown }
  | { kind: 'external'; service: unknown; call: { error?: unknown; latencySeconds?: unknown } | undefined }
  | { kind: 'hit' | 'miss' }
  | { kind: 'clock'; dtMs: number };

const hexId = (n: number) => fc.stringMatching(new RegExp(`^[0-9a-f]{${n}}$`));
/** Valid traces, and hostile ones: label text, upper case, all zeros, wrong lengths, non-strings. */
const exemplarArb = fc.oneof(
  { weight: 3, arbitrary: fc.constant<unknown>(undefined) },
  { weight: 3, arbitrary: fc.record({ traceId: hexId(32), spanId: fc.option(hexId(16), { nil: undefined }) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      traceId: fc.oneof(
        label,
        hexId(32).map((s) => s.toUpperCase()),
        fc.constant('0'.repeat(32)),
      ),
      spanId: fc.oneof(label, fc.constant('0'.repeat(16))),
    }),
  },
  { weight: 1, arbitrary: fc.oneof(label, fc.constant<unknown>([])) },
);
const validExemplar = (e: unknown): boolean => {
  if (e === null || typeof e !== 'object') return false;
  const { traceId, spanId } = e as { traceId?: unknown; spanId?: unknown };
  const ok = (v: unknown, n: number) =>
    typeof v === 'string' && new RegExp(`^[0-9a-f]{${n}}$`).test(v) && /[^0]/.test(v);
  return ok(traceId, 32) && (spanId === undefined || ok(spanId, 16));
};

const dtMs = fc.oneof(fc.integer({ min: 0, max: 120_000 }), fc.constantFrom(-5_000, -1, 1e11));
const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('request' as const),
      r: fc.record({
        endpoint: label,
        method: label,
        latencySeconds: number,
        statusCode: status,
        provider: label,
        model: label,
        error: fc.constantFrom<unknown>(undefined, true, false, 'yes', 1),
        exemplar: exemplarArb,
      }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('timer' as const),
      start: fc.record({ endpoint: label, method: label, provider: label, model: label }),
      dtMs,
      end: fc.record({ statusCode: status, provider: label, model: label, error: fc.boolean() }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('db' as const), latency: number }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('external' as const),
      service: label,
      call: fc.option(fc.record({ error: fc.constantFrom<unknown>(true, false, 'x'), latencySeconds: number }), {
        nil: undefined,
      }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('hit' as const, 'miss' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('clock' as const), dtMs }) },
);

/** Sample names each family writes, from the exporter's own list of families. */
const SAMPLE_NAMES = new Set(
  Object.values(METRIC_FAMILIES).flatMap((f) =>
    f.type === 'histogram' ? [`${f.name}_bucket`, `${f.name}_sum`, `${f.name}_count`] : [f.name],
  ),
);

const tried = { runs: 0, operations: 0, promtoolRuns: 0 };
afterAll(() => {
  console.info(
    `record API fuzz: ${tried.runs} runs, ${tried.operations} operations (each with up to 7 hostile fields), ` +
      `${tried.promtoolRuns} expositions through promtool`,
  );
});

/** Every run's operations again, into one collector with small caps (clock left alone). */
const all = new MetricsCollector({
  runtimeMetrics: false,
  limits: { endpoints: 20, methods: 4, providers: 5, models: 5, services: 5 },
});
function replay(c: MetricsCollector, o: Op): void {
  if (o.kind === 'request') c.recordRequest(o.r as unknown as RequestRecord);
  else if (o.kind === 'timer') c.startRequest(o.start as never)(o.end as never);
  else if (o.kind === 'db') c.recordDbQuery(o.latency as number);
  else if (o.kind === 'external') c.recordExternalApiCall(o.service as string, o.call as never);
  else if (o.kind === 'hit') c.recordCacheHit();
  else if (o.kind === 'miss') c.recordCacheMiss();
}

describe('the whole record API under hostile input', () => {
  it('never throws, counts every drop, and always exposes valid, promtool-clean text', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 80, size: 'large' }), async (ops) => {
        tried.runs++;
        tried.operations += ops.length;
        const clock = { t: 1_700_000_000_000 };
        const c = new MetricsCollector({ runtimeMetrics: false, now: () => clock.t });
        const expected = { requests: 0, invalidLatency: 0, invalidStatus: 0, invalidExemplar: 0, db: 0, external: 0 };
        for (const o of ops) {
          if (o.kind === 'request') {
            c.recordRequest(o.r as unknown as RequestRecord);
            expected.requests++;
            if (!validLatency(o.r.latencySeconds)) expected.invalidLatency++;
            if (!validStatus(o.r.statusCode)) expected.invalidStatus++;
            const ex = o.r.exemplar;
            if (ex !== undefined && ex !== null && !validExemplar(ex)) expected.invalidExemplar++;
          } else if (o.kind === 'timer') {
            const end = c.startRequest(o.start as never);
            const t0 = clock.t;
            clock.t += o.dtMs;
            end(o.end as never);
            end(o.end as never); // a second call is ignored
            expected.requests++;
            if (!validLatency((clock.t - t0) / 1000)) expected.invalidLatency++;
            if (!validStatus(o.end.statusCode)) expected.invalidStatus++;
          } else if (o.kind === 'db') {
            c.recordDbQuery(o.latency as number);
            expected.db++;
            if (!validLatency(o.latency)) expected.invalidLatency++;
          } else if (o.kind === 'external') {
            c.recordExternalApiCall(o.service as string, o.call as never);
            expected.external++;
            if (o.call?.latencySeconds !== undefined && !validLatency(o.call.latencySeconds)) expected.invalidLatency++;
          } else if (o.kind === 'clock') clock.t += o.dtMs;
          else if (o.kind === 'hit') c.recordCacheHit();
          else c.recordCacheMiss();
        }

        for (const o of ops) replay(all, o);

        const st = seedView(c.state());
        expect(st.totals.requests).toBe(expected.requests);
        expect(st.db.queries).toBe(expected.db);
        expect(st.services.reduce((n, s) => n + s.requests, 0)).toBe(expected.external);
        expect(st.dropped.internal_error).toBeUndefined();
        expect(st.dropped.invalid_latency ?? 0).toBe(expected.invalidLatency);
        expect(st.dropped.invalid_status ?? 0).toBe(expected.invalidStatus);
        expect(st.dropped.invalid_exemplar ?? 0).toBe(expected.invalidExemplar);

        const exporter = new PrometheusExporter(c);
        const text = exporter.export();
        const parsed = parseExposition(text, 'text'); // strict: throws on any line it does not allow
        for (const s of parsed.samples) expect(SAMPLE_NAMES.has(s.name), s.name).toBe(true);
        // One sample line per series: no label value opened a line of its own.
        const pairs = st.endpoints.reduce((n, e) => n + e.methods.length, 0);
        expect(parsed.samples.filter((s) => s.name === 'http_requests_total')).toHaveLength(pairs);
        const dropped = (reason: string) =>
          parsed.samples.find((s) => s.name === 'gatewayz_metrics_dropped_values_total' && s.labels.reason === reason)
            ?.value ?? 0;
        expect(dropped('invalid_latency')).toBe(expected.invalidLatency);
        expect(dropped('invalid_status')).toBe(expected.invalidStatus);
        // Outputs stay small whatever the label lengths (values are cut to 128 code units).
        expect(text.length).toBeLessThan(256 * 1024);

        const om = parseExposition(exporter.exportOpenMetrics(), 'openmetrics');
        // Only valid ids ever reach an exemplar label.
        for (const s of om.samples) {
          if (!s.exemplar) continue;
          expect(s.exemplar.labels.trace_id).toMatch(/^[0-9a-f]{32}$/);
          expect(s.exemplar.labels.span_id ?? '0123456789abcdef').toMatch(/^[0-9a-f]{16}$/);
        }
        expect(await exporter.exportProtobuf()).toBeInstanceOf(Buffer);
        const snap = c.snapshot();
        expect(JSON.parse(JSON.stringify(snap))).toEqual(snap);

        tried.promtoolRuns++;
        expect(promtool(text)).toEqual({ status: 0, output: '' });
      }),
      { numRuns: 150 },
    );

    // All of it in one collector, past every cap: still one valid, lint-clean exposition.
    const text = new PrometheusExporter(all).export();
    const parsed = parseExposition(text, 'text');
    const st = seedView(all.state());
    expect(st.totals.requests).toBeGreaterThan(1000);
    expect(st.dropped.internal_error).toBeUndefined();
    expect(Object.values(st.overflow).some((n) => n > 0)).toBe(true);
    expect(parsed.samples.filter((s) => s.name === 'http_requests_total').length).toBeLessThanOrEqual(21 * 5);
    expect(promtool(text)).toEqual({ status: 0, output: '' });
    tried.promtoolRuns++;
  });
});
