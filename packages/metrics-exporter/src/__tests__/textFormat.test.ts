import { fromSeed, MetricsCollector, OVERFLOW_LABEL, seedView } from '@gatewayz/metrics-core';
import { describe, expect, it } from 'vitest';
import { METRIC_FAMILIES, PrometheusExporter, renderText } from '../index.js';
import { escapeHelp, escapeLabelValue, formatValue } from '../internal/escape.js';
import { type Exposition, parseExposition, seriesKey, unescapeHelp } from './helpers/exposition.js';
import { collectorWithClock, NASTY, populatedCollector } from './helpers/fixtures.js';

/** The seed's "Metrics Provided", name → [type, labels]. */
const SEED: Record<string, [string, string[]]> = {
  http_request_latency_avg_seconds: ['gauge', ['endpoint']],
  http_request_latency_p50_seconds: ['gauge', ['endpoint']],
  http_request_latency_p95_seconds: ['gauge', ['endpoint']],
  http_request_latency_p99_seconds: ['gauge', ['endpoint']],
  http_requests_total: ['counter', ['endpoint', 'method']],
  http_request_errors_total: ['counter', ['endpoint', 'method']],
  http_response_status_total: ['counter', ['endpoint', 'status']],
  provider_requests_total: ['counter', ['provider']],
  provider_errors_total: ['counter', ['provider']],
  provider_error_rate: ['gauge', ['provider']],
  provider_latency_avg_seconds: ['gauge', ['provider']],
  provider_latency_min_seconds: ['gauge', ['provider']],
  provider_latency_max_seconds: ['gauge', ['provider']],
  model_requests_total: ['counter', ['model']],
  model_errors_total: ['counter', ['model']],
  model_error_rate: ['gauge', ['model']],
  model_latency_avg_seconds: ['gauge', ['model']],
  cache_hits_total: ['counter', []],
  cache_misses_total: ['counter', []],
  cache_hit_rate: ['gauge', []],
  db_queries_total: ['counter', []],
  db_query_latency_avg_seconds: ['gauge', []],
  external_api_calls_total: ['counter', ['service']],
  external_api_errors_total: ['counter', ['service']],
  gatewayz_uptime_seconds: ['gauge', []],
};

/** What we add beyond the seed. */
const EXTRA: Record<string, [string, string[]]> = {
  http_request_duration_seconds: ['histogram', ['endpoint', 'method']],
  http_requests_in_flight: ['gauge', ['endpoint']],
  external_api_latency_avg_seconds: ['gauge', ['service']],
  gatewayz_metrics_dropped_values_total: ['counter', ['reason']],
  gatewayz_metrics_label_overflow_total: ['counter', ['label']],
  gatewayz_metrics_series: ['gauge', ['label']],
  gatewayz_metrics_admin_refusals_total: ['counter', ['reason']],
};

const byName = (e: Exposition, name: string, labels: Record<string, string> = {}) =>
  e.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
const sampleValue = (e: Exposition, name: string, labels: Record<string, string> = {}) => {
  const found = byName(e, name, labels);
  expect(found, `${name} ${JSON.stringify(labels)}`).toHaveLength(1);
  return found[0]!.value;
};

describe('text format 0.0.4: families', () => {
  const { collector } = populatedCollector();
  const text = new PrometheusExporter(collector).export();
  const parsed = parseExposition(text);

  it('has every family of the seed with exactly its name, type and labels', () => {
    for (const [name, [type, labels]] of Object.entries(SEED)) {
      const fam = parsed.families.get(name);
      expect(fam, name).toBeDefined();
      expect(fam!.type, name).toBe(type);
      expect(fam!.samples.length, `${name} has samples`).toBeGreaterThan(0);
      for (const s of fam!.samples) expect(Object.keys(s.labels).sort(), s.line).toEqual([...labels].sort());
    }
  });

  it('has the duration histogram and the self-metrics, and no family outside the documented list', () => {
    for (const [name, [type, labels]] of Object.entries(EXTRA)) {
      const fam = parsed.families.get(name);
      expect(fam, name).toBeDefined();
      expect(fam!.type).toBe(type);
      for (const s of fam!.samples) {
        const want = s.name.endsWith('_bucket') ? [...labels, 'le'] : labels;
        expect(Object.keys(s.labels).sort(), s.line).toEqual([...want].sort());
      }
    }
    expect([...parsed.families.keys()].sort()).toEqual([...Object.keys(SEED), ...Object.keys(EXTRA)].sort());
    // cluster families are written only for a cluster aggregator's state
    const documented = Object.values(METRIC_FAMILIES)
      .map((f) => f.name)
      .filter((n) => !n.startsWith('gatewayz_cluster_'));
    expect(documented.sort()).toEqual([...parsed.families.keys()].sort());
  });

  it('writes HELP then TYPE before the samples of every family, with non-empty help', () => {
    const lines = text.split('\n');
    for (const name of parsed.families.keys()) {
      const help = lines.findIndex((l) => l.startsWith(`# HELP ${name} `));
      expect(help, name).toBeGreaterThanOrEqual(0);
      expect(lines[help + 1]).toMatch(new RegExp(`^# TYPE ${name} (counter|gauge|histogram)$`));
      expect(parsed.families.get(name)!.help.length).toBeGreaterThan(5);
    }
  });

  it('counts what was recorded', () => {
    expect(sampleValue(parsed, 'http_requests_total', { endpoint: '/api/chat', method: 'GET' })).toBe(8);
    expect(sampleValue(parsed, 'http_request_errors_total', { endpoint: '/api/chat', method: 'GET' })).toBe(2);
    expect(sampleValue(parsed, 'http_response_status_total', { endpoint: '/api/chat', status: '200' })).toBe(8);
    expect(sampleValue(parsed, 'http_response_status_total', { endpoint: NASTY.endpoint, status: '503' })).toBe(2);
    expect(sampleValue(parsed, 'provider_requests_total', { provider: NASTY.provider })).toBe(12);
    expect(sampleValue(parsed, 'cache_hits_total')).toBe(7);
    expect(sampleValue(parsed, 'cache_misses_total')).toBe(3);
    expect(sampleValue(parsed, 'cache_hit_rate')).toBeCloseTo(0.7, 12);
    expect(sampleValue(parsed, 'db_queries_total')).toBe(2);
    expect(sampleValue(parsed, 'db_query_latency_avg_seconds')).toBe(0.375);
    expect(sampleValue(parsed, 'external_api_calls_total', { service: 'billing' })).toBe(2);
    expect(sampleValue(parsed, 'external_api_errors_total', { service: 'billing' })).toBe(1);
    expect(sampleValue(parsed, 'external_api_latency_avg_seconds', { service: 'billing' })).toBe(0.25);
    expect(sampleValue(parsed, 'external_api_calls_total', { service: NASTY.service })).toBe(1);
    expect(sampleValue(parsed, 'gatewayz_uptime_seconds')).toBeCloseTo(12.345, 9);
    expect(sampleValue(parsed, 'gatewayz_metrics_dropped_values_total', { reason: 'invalid_latency' })).toBe(1);
    expect(sampleValue(parsed, 'gatewayz_metrics_series', { label: 'endpoint' })).toBe(3);
    const errRate = sampleValue(parsed, 'model_error_rate', { model: 'gpt-4o' });
    expect(errRate).toBeGreaterThan(0);
    expect(errRate).toBeLessThan(1);
  });

  it('keeps label values with quotes, backslashes, newlines and non-ASCII intact', () => {
    expect(byName(parsed, 'http_requests_total', { endpoint: NASTY.endpoint })).toHaveLength(2);
    expect(byName(parsed, 'model_requests_total', { model: NASTY.model })).toHaveLength(1);
    // the injection attempt in the model label did not become a sample of its own
    expect(byName(parsed, 'http_requests_total', { endpoint: 'x' })).toHaveLength(0);
    expect(text).not.toContain('\nhttp_requests_total{endpoint="x"');
  });

  it('renders the histogram sorted and cumulative, +Inf equal to _count, _sum right', () => {
    const buckets = collector.options.histogramBuckets;
    let series = 0;
    for (const count of byName(parsed, 'http_request_duration_seconds_count')) {
      series++;
      const { endpoint, method } = count.labels as { endpoint: string; method: string };
      const bs = byName(parsed, 'http_request_duration_seconds_bucket', { endpoint, method });
      const les = bs.map((b) => b.labels.le!);
      expect(les).toEqual([...buckets.map(formatValue), '+Inf']);
      for (let k = 1; k < bs.length; k++) {
        expect(Number(bs[k]!.labels.le === '+Inf' ? Infinity : bs[k]!.labels.le)).toBeGreaterThan(Number(les[k - 1]));
        expect(bs[k]!.value).toBeGreaterThanOrEqual(bs[k - 1]!.value);
      }
      expect(bs.at(-1)!.value).toBe(count.value);
      const sum = sampleValue(parsed, 'http_request_duration_seconds_sum', { endpoint, method });
      expect(sum).toBeGreaterThan(0);
    }
    expect(series).toBe(6);
    // exact figures for one series: /api/chat GET saw latencies 1..6 /1024 plus 200 s; the NaN is dropped
    const chat = { endpoint: '/api/chat', method: 'GET' };
    expect(sampleValue(parsed, 'http_request_duration_seconds_count', chat)).toBe(7);
    expect(sampleValue(parsed, 'http_request_duration_seconds_sum', chat)).toBe(21 / 1024 + 200);
    expect(sampleValue(parsed, 'http_request_duration_seconds_bucket', { ...chat, le: '0.005' })).toBe(5);
    expect(sampleValue(parsed, 'http_request_duration_seconds_bucket', { ...chat, le: '0.01' })).toBe(6);
    expect(sampleValue(parsed, 'http_request_duration_seconds_bucket', { ...chat, le: '120' })).toBe(6);
    expect(sampleValue(parsed, 'http_request_duration_seconds_bucket', { ...chat, le: '+Inf' })).toBe(7);
  });

  it('counts an observation exactly on a bucket boundary in that bucket (le is inclusive)', () => {
    const { collector: c } = collectorWithClock();
    c.recordRequest({ endpoint: '/e', method: 'GET', statusCode: 200, latencySeconds: 0.25 });
    const p = parseExposition(new PrometheusExporter(c).export());
    expect(sampleValue(p, 'http_request_duration_seconds_bucket', { le: '0.1' })).toBe(0);
    expect(sampleValue(p, 'http_request_duration_seconds_bucket', { le: '0.25' })).toBe(1);
  });

  it('has no duplicate series (the parser rejects duplicates; checked again here)', () => {
    const keys = parsed.samples.map((s) => seriesKey(s.name, s.labels));
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('quantile gauges of an empty window are NaN, and NaN/Inf are spelled as the spec spells them', () => {
    const { collector: c, clock } = collectorWithClock({ windowSeconds: 60 });
    c.recordRequest({ endpoint: '/e', method: 'GET', statusCode: 200, latencySeconds: 0.1, provider: 'p' });
    clock.advance(10 * 60_000);
    const out = new PrometheusExporter(c).export();
    const p = parseExposition(out);
    for (const q of ['avg', 'p50', 'p95', 'p99']) {
      const s = byName(p, `http_request_latency_${q}_seconds`, { endpoint: '/e' });
      expect(s).toHaveLength(1);
      expect(s[0]!.rawValue).toBe('NaN');
    }
    expect(byName(p, 'provider_latency_min_seconds')[0]!.rawValue).toBe('NaN');
    expect(byName(p, 'cache_hit_rate')[0]!.rawValue).toBe('NaN');
    // counters keep their cumulative value after the window has passed
    expect(sampleValue(p, 'http_requests_total', { endpoint: '/e' })).toBe(1);
    expect(out).not.toMatch(/ (nan|inf|Infinity|-Infinity|\+inf|null|undefined)$/m);
  });

  it('formatValue spells NaN, +Inf and -Inf and round-trips finite numbers', () => {
    expect(formatValue(Number.NaN)).toBe('NaN');
    expect(formatValue(Number.POSITIVE_INFINITY)).toBe('+Inf');
    expect(formatValue(Number.NEGATIVE_INFINITY)).toBe('-Inf');
    expect(formatValue(-0)).toBe('0');
    for (const v of [0, 1, 0.1, 1e-300, 1.7976931348623157e308, 5e-324, -2.5, 123456789012345680000]) {
      expect(Number(formatValue(v))).toBe(v);
    }
  });

  it('renders an untouched collector validly (every family keeps HELP and TYPE, even with no series)', () => {
    const { collector: c } = collectorWithClock();
    const p = parseExposition(new PrometheusExporter(c).export());
    expect([...p.families.keys()].sort()).toEqual([...Object.keys(SEED), ...Object.keys(EXTRA)].sort());
    expect(sampleValue(p, 'cache_hits_total')).toBe(0);
  });
});

describe('escaping', () => {
  it('escapes label values: backslash, quote, newline and nothing else', () => {
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
    expect(escapeLabelValue('tab\there ü 🚀')).toBe('tab\there ü 🚀');
    expect(escapeLabelValue('\\n')).toBe('\\\\n');
  });

  it('escapes HELP: backslash and newline in 0.0.4, quotes left alone', () => {
    expect(escapeHelp('a\\b\nc "q"')).toBe('a\\\\b\\nc "q"');
    expect(unescapeHelp(escapeHelp('x\\\n\\n'))).toBe('x\\\n\\n');
  });

  it('every HELP line of the output unescapes cleanly', () => {
    const { collector } = populatedCollector();
    const text = new PrometheusExporter(collector).export();
    for (const f of parseExposition(text).families.values()) {
      expect(f.help).toBe(Object.values(METRIC_FAMILIES).find((m) => m.name === f.name)!.help);
    }
  });
});

describe('series uniqueness under hostile label values', () => {
  it('a literal "__overflow__" value does not produce a duplicate series once the cap overflows', () => {
    const c = new MetricsCollector({
      runtimeMetrics: false,
      limits: { endpoints: 2, providers: 2, models: 2, services: 2 },
    });
    const rec = (v: string) => {
      c.recordRequest({ endpoint: v, method: 'GET', statusCode: 200, latencySeconds: 0.1, provider: v, model: v });
      c.recordExternalApiCall(v, { latencySeconds: 0.1 });
    };
    rec(OVERFLOW_LABEL);
    rec('a');
    rec('b');
    rec('c');
    const text = new PrometheusExporter(c).export();
    const p = parseExposition(text); // throws on a duplicate series
    const total = (name: string) => byName(p, name).reduce((n, s) => n + s.value, 0);
    // one __overflow__ series per family, and no record lost or counted twice
    for (const [name, label] of [
      ['http_requests_total', 'endpoint'],
      ['provider_requests_total', 'provider'],
      ['model_requests_total', 'model'],
      ['external_api_calls_total', 'service'],
      ['http_request_duration_seconds_count', 'endpoint'],
    ] as const) {
      expect(byName(p, name, { [label]: OVERFLOW_LABEL }), name).toHaveLength(1);
      expect(total(name), name).toBe(4);
    }
    expect(sampleValue(p, 'gatewayz_metrics_label_overflow_total', { label: 'endpoint' })).toBeGreaterThanOrEqual(1);
    parseExposition(new PrometheusExporter(c).exportOpenMetrics(), 'openmetrics');
  });

  it('renders a state with duplicate or empty label values (e.g. from a custom source) as unique series', () => {
    const { collector } = populatedCollector();
    const state = seedView(collector.state());
    state.providers.push({ ...state.providers[0]! });
    state.services.push({ ...state.services[0]!, label: '' });
    const text = renderText(fromSeed(state));
    const p = parseExposition(text);
    const first = state.providers[0]!;
    expect(sampleValue(p, 'provider_requests_total', { provider: first.label })).toBe(first.requests * 2);
    parseExposition(renderText(fromSeed(state), 'openmetrics'), 'openmetrics');
  });
});
