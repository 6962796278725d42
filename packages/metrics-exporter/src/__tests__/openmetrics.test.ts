import { describe, expect, it } from 'vitest';
import { METRIC_FAMILIES, OPENMETRICS_CONTENT_TYPE, PrometheusExporter, TEXT_CONTENT_TYPE } from '../index.js';
import { negotiateFormat } from '../negotiate.js';
import { parseExposition, sampleMap, seriesKey } from './helpers/exposition.js';
import { collectorWithClock, NASTY, populatedCollector } from './helpers/fixtures.js';

const PROMETHEUS_2_42_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

describe('OpenMetrics 1.0 rendering', () => {
  const { collector } = populatedCollector();
  const exporter = new PrometheusExporter(collector);
  const om = exporter.exportOpenMetrics();
  const parsed = parseExposition(om, 'openmetrics');

  it('ends with exactly one # EOF line', () => {
    expect(om.endsWith('\n# EOF\n')).toBe(true);
    expect(om.match(/^# EOF$/gm)).toHaveLength(1);
  });

  it('names counter families without _total and keeps _total on their samples', () => {
    const counters = Object.values(METRIC_FAMILIES).filter(
      (f) => f.type === 'counter' && !f.name.startsWith('gatewayz_cluster'),
    );
    expect(counters.length).toBeGreaterThan(10);
    for (const c of counters) {
      const family = c.name.replace(/_total$/, '');
      expect(parsed.families.get(family)?.type, family).toBe('counter');
      expect(om).toContain(`# TYPE ${family} counter\n`);
      expect(om).not.toContain(`# TYPE ${c.name} `);
      for (const s of parsed.families.get(family)!.samples) expect(s.name).toBe(c.name);
    }
    expect(parsed.families.get('http_requests')!.samples.length).toBe(6);
  });

  it('writes le values canonically (1.0, +Inf) and cumulative buckets', () => {
    const buckets = parsed.families
      .get('http_request_duration_seconds')!
      .samples.filter((s) => s.name.endsWith('_bucket'));
    const les = [...new Set(buckets.map((s) => s.labels.le))];
    expect(les).toEqual([
      '0.005',
      '0.01',
      '0.025',
      '0.05',
      '0.1',
      '0.25',
      '0.5',
      '1.0',
      '2.5',
      '5.0',
      '10.0',
      '30.0',
      '60.0',
      '120.0',
      '+Inf',
    ]);
  });

  it('escapes quotes in HELP as well as backslashes and newlines', () => {
    for (const f of parsed.families.values()) expect(f.help.length).toBeGreaterThan(5);
    // the parser rejects a raw quote in OpenMetrics HELP; a help text with a quote, a backslash and a newline
    const original = METRIC_FAMILIES.uptime.help;
    try {
      (METRIC_FAMILIES.uptime as { help: string }).help = 'say "hi" \\ and\nbye';
      // A state carries its families' declarations, help included: this one is taken after the change.
      const state = collector.state();
      const text = new PrometheusExporter({ state: () => state }).exportOpenMetrics();
      expect(text).toContain('# HELP gatewayz_uptime_seconds say \\"hi\\" \\\\ and\\nbye\n');
      expect(parseExposition(text, 'openmetrics').families.get('gatewayz_uptime_seconds')!.help).toBe(
        'say "hi" \\ and\nbye',
      );
      const plain = new PrometheusExporter({ state: () => state }).export();
      expect(plain).toContain('# HELP gatewayz_uptime_seconds say "hi" \\\\ and\\nbye\n');
    } finally {
      (METRIC_FAMILIES.uptime as { help: string }).help = original;
    }
  });

  it('carries the same series and values as the 0.0.4 text, but for le spelling', () => {
    const text = parseExposition(exporter.export());
    const norm = (m: Map<string, string>) =>
      new Map([...m].map(([k, v]) => [k.replace(/le="(\d+)(\.0)?"/, 'le="$1"'), v]));
    expect(norm(sampleMap(parsed))).toEqual(norm(sampleMap(text)));
    expect(sampleMap(parsed).has(seriesKey('model_requests_total', { model: NASTY.model }))).toBe(true);
  });

  it('writes NaN for empty-window gauges', () => {
    const { collector: c, clock } = collectorWithClock({ windowSeconds: 5 });
    c.recordRequest({ endpoint: '/e', method: 'GET', statusCode: 200, latencySeconds: 0.2 });
    clock.advance(60_000);
    const p = parseExposition(new PrometheusExporter(c).exportOpenMetrics(), 'openmetrics');
    expect(p.families.get('http_request_latency_p99_seconds')!.samples[0]!.rawValue).toBe('NaN');
  });
});

describe('negotiateFormat', () => {
  it("gives OpenMetrics for Prometheus 2.42's Accept header", () => {
    expect(negotiateFormat(PROMETHEUS_2_42_ACCEPT)).toEqual({
      format: 'openmetrics',
      contentType: OPENMETRICS_CONTENT_TYPE,
    });
    expect(OPENMETRICS_CONTENT_TYPE).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
  });

  it.each([
    ['no header', undefined],
    ['null', null],
    ['empty', ''],
    ['*/*', '*/*'],
    ['text/plain', 'text/plain'],
    ['text/plain 0.0.4', 'text/plain;version=0.0.4'],
    ['text preferred by q', 'application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4'],
    ['text first at equal q', 'text/plain;version=0.0.4,application/openmetrics-text;version=1.0.0'],
    ['openmetrics refused', 'application/openmetrics-text;q=0,*/*'],
    ['browser', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'],
    ['garbage', ';;;,,,q=x'],
  ])('gives text 0.0.4 for %s', (_, accept) => {
    expect(negotiateFormat(accept)).toEqual({ format: 'text', contentType: TEXT_CONTENT_TYPE });
    expect(TEXT_CONTENT_TYPE).toBe('text/plain; version=0.0.4; charset=utf-8');
  });

  it('reads OpenMetrics case-insensitively, with spaces, and from a header array', () => {
    expect(negotiateFormat('Application/OpenMetrics-Text; version=1.0.0').format).toBe('openmetrics');
    expect(negotiateFormat(['text/plain;q=0.1', 'application/openmetrics-text']).format).toBe('openmetrics');
  });
});
