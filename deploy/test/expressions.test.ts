import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  AI_FAMILIES_NOT_RECORDED_BY_DEMO,
  AI_SERIES,
  aiFamiliesPending,
  allExpressions,
  labelValuesToPromQL,
  substituteVariables,
} from './expressions.js';
import { KNOWN_METRICS, metricNames } from './promql.js';
import { promtool } from './promtool.js';

const expressions = allExpressions();

describe('metricNames', () => {
  it('finds selectors and skips functions, labels, grouping, keywords, numbers and strings', () => {
    expect(
      metricNames(
        'histogram_quantile(0.99, sum by (job, le) (rate(http_request_duration_seconds_bucket{le="0.25",x=~"a b"}[5m])))',
      ),
    ).toEqual(['http_request_duration_seconds_bucket']);
    expect(
      metricNames(
        '(sum by (e) (rate(a_total[5m])) / sum without (i) (rate(b_total[5m] offset 1h))) > 0.05 and on (e) c > bool 1e3',
      ),
    ).toEqual(['a_total', 'b_total', 'c']);
    expect(metricNames('sum(x) by (le) + on (a) group_left (b) y * Inf - NaN and (z)')).toEqual(['x', 'y', 'z']);
    expect(metricNames('http_request_latency_p99_seconds > 1')).toEqual(['http_request_latency_p99_seconds']);
  });

  it('rejects an unknown function', () => {
    expect(() => metricNames('rates(a_total[5m])')).toThrow(/unknown PromQL function rates/);
  });
});

describe('substituteVariables', () => {
  it('replaces every Grafana variable syntax and refuses unknown variables', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana variable syntax
    expect(substituteVariables('a{i=~"$instance",e=~"${endpoint:regex}",p=~"[[provider]]"}[$__rate_interval]')).toBe(
      'a{i=~".*",e=~".*",p=~".*"}[1m]',
    );
    expect(() => substituteVariables('a{x=~"$nope"}')).toThrow(/\$nope/);
  });

  it('rewrites label_values queries', () => {
    expect(labelValuesToPromQL('label_values(up{job="a"}, instance)')).toBe('group by (instance) (up{job="a"})');
    expect(labelValuesToPromQL('label_values(job)')).toBe('group by (job) ({job!=""})');
  });
});

describe('aiFamiliesPending', () => {
  const tokens = 'model_tokens_total{provider="openai",model="gpt-4o",type="input"} 3\n';
  const inFlight = 'model_requests_in_flight{provider="openai"} 0\n';

  it('excuses every AI series while the exposition has no model_tokens_total sample', () => {
    const pending = aiFamiliesPending('# TYPE model_tokens counter\nmodel_requests_total{model="gpt-4o"} 1\n');
    expect([...pending]).toEqual([...AI_SERIES]);
    expect(pending.has('model_time_to_first_token_seconds_bucket')).toBe(true);
    expect(pending.has('model_time_to_first_token_seconds')).toBe(true);
  });

  it('excuses only the families the demo does not record, and only while they are missing', () => {
    expect([...aiFamiliesPending(tokens)]).toEqual([...AI_FAMILIES_NOT_RECORDED_BY_DEMO]);
    expect([...aiFamiliesPending(tokens + inFlight)]).toEqual([]);
  });
});

describe('allExpressions', () => {
  it('lists the alerts, panel targets and variable queries', () => {
    const kinds = (k: string) => expressions.filter((e) => e.kind === k).length;
    // The eleven of gatewayz_alerts and gatewayz_slo, and the three of gatewayz_upstream.
    expect(kinds('alert')).toBe(14);
    // The SLO ratios: errors per request and slow requests, over 5m, 30m, 1h and 6h.
    expect(kinds('record')).toBe(8);
    expect(kinds('panel')).toBeGreaterThan(40);
    // job and instance on each of the eight dashboards, plus one label variable on six of the seed's seven (not
    // cache), and provider and model on the AI usage dashboard.
    expect(kinds('variable')).toBe(8 * 2 + 6 + 2);
    for (const e of expressions) expect(e.expr, e.source).not.toMatch(/\$|\[\[/);
  });

  // Alerts may also read the series that the shipped recording rules write (which read only exporter metrics).
  const recorded = new Set(expressions.filter((e) => e.kind === 'record').map((e) => e.source.split(' ').at(-1)!));

  it.each(expressions.map((e) => [e.source, e]))('%s uses only exporter metrics', (_source, e) => {
    const names = metricNames(e.expr);
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) {
      const known = KNOWN_METRICS.has(name) || (e.kind === 'alert' && recorded.has(name));
      expect(known, `${name} is not an exporter metric`).toBe(true);
    }
  });

  it('covers every metric the exporter exposes', () => {
    const used = new Set(expressions.flatMap((e) => metricNames(e.expr)));
    expect([...KNOWN_METRICS].filter((m) => !used.has(m))).toEqual([]);
  });

  it("parse with Prometheus' own parser (promtool check rules)", () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatewayz-promql-'));
    try {
      const rules = expressions.map((e, i) => ({ record: `gatewayz:expression_${i}`, expr: e.expr }));
      writeFileSync(join(dir, 'all.yml'), stringify({ groups: [{ name: 'all', rules }] }));
      const { status, output } = promtool(['check', 'rules', 'all.yml'], dir);
      expect(status, output).toBe(0);
      expect(output).toContain(`SUCCESS: ${rules.length} rules found`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
