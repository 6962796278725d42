import { MetricsCollector, seedView } from '@gatewayz/metrics-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PrometheusExporter } from '../index.js';
import { escapeHelp, escapeLabelValue } from '../internal/escape.js';
import { parseExposition, unescapeHelp } from './helpers/exposition.js';

const LABEL_LENGTH = 128;
const MIB = 1 << 20;

/**
 * The collector's documented sanitising of a label value, restated here: at most `max` UTF-16 code
 * units without splitting a surrogate pair, lone surrogates become U+FFFD, control characters but
 * `\n` and `\t` become U+FFFD, and an empty value becomes `empty`.
 */
function sanitized(raw: string, max: number, empty: string, normalize: (s: string) => string = (s) => s): string {
  let s = raw;
  if (s.length > max) {
    let end = max;
    const c = s.charCodeAt(end - 1);
    if (c >= 0xd800 && c <= 0xdbff) end--;
    s = s.slice(0, end);
  }
  s = normalize(s.toWellFormed().replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '\ufffd'));
  return s === '' ? empty : s;
}

const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((n) => String.fromCharCode(n));
const nasty = fc.constantFrom(
  '"}\n',
  '"} 1\nhttp_requests_total{endpoint="x",method="GET"} 1e9\n',
  '\\',
  '\\"',
  '\\n',
  '"',
  '\n',
  '\r\n',
  '\u0000',
  '\u001b[31m',
  '\ud800',
  '\udfff',
  '\ud83d\ude80',
  '# HELP x y\n# TYPE x counter\nx 1',
  '}',
  '{',
  '=',
  ',',
  ' ',
  '',
  '\u2028\u2029',
  'é',
);
const hostile = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 3, arbitrary: fc.string({ unit: codeUnit, maxLength: 40 }) },
  { weight: 3, arbitrary: fc.array(nasty, { maxLength: 8 }).map((a) => a.join('')) },
  { weight: 2, arbitrary: fc.string({ unit: fc.oneof(nasty, codeUnit), minLength: 100, maxLength: 300 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '"\\\n'.repeat(MIB / 3),
      `${'x'.repeat(LABEL_LENGTH - 1)}\ud83d\ude80tail`,
      `${'a'.repeat(MIB - 1)}"`,
      '\ud800'.repeat(MIB),
    ),
  },
);

const record = fc.record({ endpoint: hostile, method: hostile, provider: hostile, model: hostile, service: hostile });

const LABELS_OF: Record<string, string[]> = {
  http_request_latency_avg_seconds: ['endpoint'],
  http_request_latency_p50_seconds: ['endpoint'],
  http_request_latency_p95_seconds: ['endpoint'],
  http_request_latency_p99_seconds: ['endpoint'],
  http_requests_total: ['endpoint', 'method'],
  http_request_errors_total: ['endpoint', 'method'],
  http_response_status_total: ['endpoint', 'status'],
  http_request_duration_seconds_bucket: ['endpoint', 'le', 'method'],
  http_request_duration_seconds_sum: ['endpoint', 'method'],
  http_request_duration_seconds_count: ['endpoint', 'method'],
  provider_requests_total: ['provider'],
  provider_errors_total: ['provider'],
  provider_error_rate: ['provider'],
  provider_latency_avg_seconds: ['provider'],
  provider_latency_min_seconds: ['provider'],
  provider_latency_max_seconds: ['provider'],
  model_requests_total: ['model'],
  model_errors_total: ['model'],
  model_error_rate: ['model'],
  model_latency_avg_seconds: ['model'],
  cache_hits_total: [],
  cache_misses_total: [],
  cache_hit_rate: [],
  db_queries_total: [],
  db_query_latency_avg_seconds: [],
  external_api_calls_total: ['service'],
  external_api_errors_total: ['service'],
  external_api_latency_avg_seconds: ['service'],
  gatewayz_uptime_seconds: [],
  gatewayz_metrics_dropped_values_total: ['reason'],
  gatewayz_metrics_label_overflow_total: ['label'],
  gatewayz_metrics_series: ['label'],
  gatewayz_metrics_admin_refusals_total: ['reason'],
};

const valuesOf = (samples: { name: string; labels: Record<string, string> }[], name: string, key: string) =>
  new Set(samples.filter((s) => s.name === name).map((s) => s.labels[key]!));

describe('escaping, property-based', () => {
  it('arbitrary label values never break the exposition and round-trip to the sanitised values', () => {
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 6 }), (recs) => {
        const c = new MetricsCollector({ runtimeMetrics: false, now: () => 1_700_000_000_000 });
        for (const r of recs) {
          c.recordRequest({ ...r, statusCode: 200, latencySeconds: 0.01 });
          c.recordExternalApiCall(r.service, { latencySeconds: 0.02 });
        }
        const exporter = new PrometheusExporter(c);
        for (const format of ['text', 'openmetrics'] as const) {
          const text = format === 'text' ? exporter.export() : exporter.exportOpenMetrics();
          // well-formed UTF-16, so it survives UTF-8 encoding unchanged
          expect(Buffer.from(text, 'utf8').toString('utf8')).toBe(text);
          const parsed = parseExposition(text, format); // throws on any line it cannot parse
          for (const s of parsed.samples) {
            const want = LABELS_OF[s.name];
            expect(want, `unexpected sample name ${s.name}`).toBeDefined();
            expect(Object.keys(s.labels).sort()).toEqual(want);
          }
          const state = seedView(c.state());
          const pairs = state.endpoints.reduce((n, e) => n + e.methods.length, 0);
          // exactly one sample line per series: nothing injected
          expect(parsed.samples.filter((s) => s.name === 'http_requests_total')).toHaveLength(pairs);
          expect(parsed.samples.filter((s) => s.name === 'model_requests_total')).toHaveLength(state.models.length);
          const lines = text.split('\n').length - 1;
          const comments = text.split('\n').filter((l) => l.startsWith('#')).length;
          expect(lines - comments).toBe(parsed.samples.length);
          // the unescaped values are the collector's sanitised values
          const expectSet = (
            got: Set<string>,
            raws: string[],
            max: number,
            empty: string,
            norm?: (s: string) => string,
          ) => expect([...got].sort()).toEqual([...new Set(raws.map((r) => sanitized(r, max, empty, norm)))].sort());
          expectSet(
            valuesOf(parsed.samples, 'http_requests_total', 'endpoint'),
            recs.map((r) => r.endpoint),
            LABEL_LENGTH,
            'unknown',
          );
          // methods: the nine standard ones upper-cased, any other one `_OTHER` (OpenTelemetry's convention)
          const standard = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'];
          const method = (m: string) =>
            m === '' ? 'UNKNOWN' : standard.includes(m.toUpperCase()) ? m.toUpperCase() : '_OTHER';
          expect([...valuesOf(parsed.samples, 'http_requests_total', 'method')].sort()).toEqual(
            [...new Set(recs.map((r) => method(r.method)))].sort(),
          );
          const nonEmpty = (k: 'provider' | 'model') => recs.map((r) => r[k]).filter((v) => v !== '');
          expectSet(
            valuesOf(parsed.samples, 'provider_requests_total', 'provider'),
            nonEmpty('provider'),
            LABEL_LENGTH,
            'unknown',
          );
          expectSet(
            valuesOf(parsed.samples, 'model_requests_total', 'model'),
            nonEmpty('model'),
            LABEL_LENGTH,
            'unknown',
          );
          expectSet(
            valuesOf(parsed.samples, 'external_api_calls_total', 'service'),
            recs.map((r) => r.service),
            LABEL_LENGTH,
            'unknown',
          );
        }
      }),
      { numRuns: 150 },
    );
  });

  it('escapeLabelValue leaves no raw newline or unescaped quote and unescapes to its input', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary' }),
          fc.string({ unit: codeUnit }),
          fc.array(nasty).map((a) => a.join('')),
        ),
        (v) => {
          const e = escapeLabelValue(v);
          expect(e).not.toContain('\n');
          expect(e.replace(/\\./gs, '')).not.toContain('"');
          expect(e.replace(/\\./gs, '')).not.toContain('\\');
          expect(e.replace(/\\(.)/gs, (_, c: string) => (c === 'n' ? '\n' : c))).toBe(v);
        },
      ),
    );
  });

  it('escapeHelp escapes backslash and newline, and unescapes to its input', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary' }),
          fc.array(nasty).map((a) => a.join('')),
        ),
        (v) => {
          const e = escapeHelp(v);
          expect(e).not.toContain('\n');
          expect(unescapeHelp(e)).toBe(v);
        },
      ),
    );
  });
});
