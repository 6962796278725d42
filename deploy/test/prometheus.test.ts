import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  SHIPPED_ALERTS as ALERTS,
  DEPLOY_DIR,
  type PrometheusConfig,
  SHIPPED_RECORDS as RECORDS,
  readRuleGroups,
  readYaml,
  SLO_WINDOWS,
} from './expressions.js';
import { promtool } from './promtool.js';

const PROM_DIR = join(DEPLOY_DIR, 'prometheus');
/** The SRE workbook's multiwindow, multi-burn-rate pairs: [alert, long window, short window, burn rate, severity]. */
const BURNS: Array<[string, string, string, number, string]> = [
  ['AvailabilitySLOFastBurn', '1h', '5m', 14.4, 'critical'],
  ['AvailabilitySLOSlowBurn', '6h', '30m', 6, 'warning'],
  ['LatencySLOFastBurn', '1h', '5m', 14.4, 'critical'],
  ['LatencySLOSlowBurn', '6h', '30m', 6, 'warning'],
];

interface RuleTest {
  alert_rule_test?: Array<{ eval_time: string; alertname: string; exp_alerts: unknown[] }>;
}

const seconds = (d: string) => {
  const m = /^(\d+)([smh])$/.exec(d);
  if (!m) throw new Error(`unsupported duration ${d}`);
  return Number(m[1]) * { s: 1, m: 60, h: 3600 }[m[2] as 's' | 'm' | 'h'];
};

describe('promtool', () => {
  it('is installed', () => {
    expect(promtool(['--version']).output).toMatch(/promtool, version 2\./);
  });

  it.each(['prometheus.yml', 'prometheus.docker.yml'])('check config %s (with its rule files) passes', (file) => {
    const { status, output } = promtool(['check', 'config', file], PROM_DIR);
    expect(output).toContain('SUCCESS: 1 rule files found');
    expect(status, output).toBe(0);
  });

  it('check rules alerts.yml passes', () => {
    const { status, output } = promtool(['check', 'rules', 'alerts.yml'], PROM_DIR);
    expect(output).toContain(`SUCCESS: ${ALERTS.length + RECORDS.length} rules found`);
    expect(status, output).toBe(0);
  });

  it('test rules alerts.test.yml passes', () => {
    const { status, output } = promtool(['test', 'rules', 'alerts.test.yml'], PROM_DIR);
    expect(status, output).toBe(0);
    expect(output).toContain('SUCCESS');
  });
});

describe('prometheus.yml', () => {
  const local = readYaml<PrometheusConfig>(join(PROM_DIR, 'prometheus.yml'));
  const docker = readYaml<PrometheusConfig>(join(PROM_DIR, 'prometheus.docker.yml'));

  it("scrapes the demo as the seed's gatewayz-api job", () => {
    const [job] = local.scrape_configs;
    expect(local.scrape_configs).toHaveLength(1);
    expect(job).toMatchObject({
      job_name: 'gatewayz-api',
      metrics_path: '/metrics',
      scrape_interval: '15s',
      scrape_timeout: '10s',
      static_configs: [{ targets: ['127.0.0.1:8000'] }],
    });
    expect(local.rule_files).toEqual(['alerts.yml']);
  });

  it('sends alerts to an Alertmanager on the same host', () => {
    expect(local.alerting?.alertmanagers).toEqual([{ static_configs: [{ targets: ['127.0.0.1:9093'] }] }]);
  });

  it('differs from prometheus.docker.yml only in the scrape target and the Alertmanager target', () => {
    const withoutTargets = (c: PrometheusConfig) => ({
      ...c,
      scrape_configs: c.scrape_configs.map((s) => ({ ...s, static_configs: s.static_configs.map(() => ({})) })),
      alerting: {
        alertmanagers: c.alerting?.alertmanagers.map((a) => ({
          ...a,
          static_configs: a.static_configs.map(() => ({})),
        })),
      },
    });
    expect(withoutTargets(docker)).toEqual(withoutTargets(local));
    expect(docker.scrape_configs[0]!.static_configs[0]!.targets).toEqual(['demo:8000']);
    expect(docker.alerting!.alertmanagers[0]!.static_configs[0]!.targets).toEqual(['alertmanager:9093']);
  });
});

describe('alerts.yml', () => {
  const rules = readRuleGroups(join(PROM_DIR, 'alerts.yml')).groups.flatMap((g) => g.rules);

  it('holds the alerts and the SLO recording rules, and nothing else', () => {
    expect(rules.filter((r) => r.alert !== undefined).map((r) => r.alert)).toEqual(ALERTS);
    expect(rules.filter((r) => r.alert === undefined).map((r) => r.record)).toEqual(RECORDS);
  });

  it.each(ALERTS)('%s has for, severity, summary and description', (name) => {
    const rule = rules.find((r) => r.alert === name) as Record<string, any>;
    expect(rule.for).toMatch(/^\d+[smh]$/);
    expect(['info', 'warning', 'critical']).toContain(rule.labels.severity);
    expect(rule.annotations.summary).toMatch(/\S/);
    expect(rule.annotations.description).toMatch(/\S/);
  });

  it('uses the aggregatable histogram for the fifth alert, classic or native', () => {
    const rule = rules.find((r) => r.alert === 'HighP99LatencyHistogram')!;
    const expr = rule.expr.replace(/\s+/g, ' ');
    expect(expr).toContain(
      'histogram_quantile(0.99, sum by (job, le) (rate(http_request_duration_seconds_bucket[5m])))',
    );
    // With --enable-feature=native-histograms Prometheus keeps only the native histogram: the alert must see it too.
    expect(expr).toContain(
      '( histogram_quantile(0.99, sum by (job, le) (rate(http_request_duration_seconds_bucket[5m]))) or histogram_quantile(0.99, sum by (job) (rate(http_request_duration_seconds[5m]))) ) > 1',
    );
  });

  it('alerts on the p95 time to first token per provider and model, classic or native, above 2s for 10m', () => {
    const rule = rules.find((r) => r.alert === 'HighTimeToFirstToken') as Record<string, any>;
    expect(rule.expr.replace(/\s+/g, ' ').trim()).toBe(
      '( histogram_quantile(0.95, sum by (job, provider, model, le) (rate(model_time_to_first_token_seconds_bucket[5m]))) or histogram_quantile(0.95, sum by (job, provider, model) (rate(model_time_to_first_token_seconds[5m]))) ) > 2',
    );
    expect(rule.for).toBe('10m');
  });

  it('alerts on a cost spike: the 15m spend rate above 3 times its 1h average and above 1 USD per hour', () => {
    const rule = rules.find((r) => r.alert === 'CostBurnSpike')!;
    expect(rule.expr.replace(/\s+/g, ' ').trim()).toBe(
      'sum by (job) (rate(model_cost_usd_total[15m])) * 3600 > 3 * sum by (job) (rate(model_cost_usd_total[1h])) * 3600 and on (job) sum by (job) (rate(model_cost_usd_total[15m])) * 3600 > 1',
    );
  });

  it("alerts on a model's error ratio from the per-model counters, with the provider from model_tokens_total", () => {
    const rule = rules.find((r) => r.alert === 'ModelErrorRate')!;
    const expr = rule.expr.replace(/\s+/g, ' ').trim();
    const ratio =
      '( sum by (job, model) (rate(model_errors_total[5m])) / sum by (job, model) (rate(model_requests_total[5m])) )';
    // Many providers per model on the left of group_left, one ratio per model on the right: never a matching error.
    expect(expr).toBe(
      `( group by (job, provider, model) (model_tokens_total) * on (job, model) group_left () ${ratio} or on (job, model) ${ratio} ) > 0.1 and on (job, model) sum by (job, model) (rate(model_requests_total[5m])) > 0`,
    );
  });

  it('watches the shipped scrape job for targets that are down or missing', () => {
    const job = readYaml<PrometheusConfig>(join(PROM_DIR, 'prometheus.yml')).scrape_configs[0]!.job_name;
    expect(rules.find((r) => r.alert === 'GatewayzTargetDown')!.expr.trim()).toBe(`up{job="${job}"} == 0`);
    expect(rules.find((r) => r.alert === 'GatewayzTargetMissing')!.expr.trim()).toBe(`absent(up{job="${job}"})`);
  });

  it.each(BURNS)('%s: burn rate over %s and %s both above %d times the budget, %s', (name, long, short, rate, sev) => {
    const rule = rules.find((r) => r.alert === name) as Record<string, any>;
    const slo = rule.labels.slo as 'availability' | 'latency';
    const budget = { availability: '0.001', latency: '0.01' }[slo];
    const series = { availability: 'job:slo_errors_per_request', latency: 'job:slo_slow_requests' }[slo];
    expect(rule.expr.replace(/\s+/g, ' ').trim()).toBe(
      `${series}:ratio_rate${long} > (${rate} * ${budget}) and on (job) ${series}:ratio_rate${short} > (${rate} * ${budget})`,
    );
    expect(rule.labels.severity).toBe(sev);
  });

  it('computes the latency SLO ratio from the classic buckets or, in native-histogram mode, the native histogram', () => {
    for (const window of SLO_WINDOWS) {
      const rule = rules.find((r) => r.record === `job:slo_slow_requests:ratio_rate${window}`)!;
      const expr = rule.expr.replace(/\s+/g, ' ');
      // le="1.0" from OpenMetrics scrapes, le="1" from the 0.0.4 text and protobuf.
      expect(expr).toContain(`rate(http_request_duration_seconds_bucket{le=~"1|1.0"}[${window}])`);
      expect(expr).toContain(
        `or 1 - histogram_fraction(0, 1, sum by (job) (rate(http_request_duration_seconds[${window}])))`,
      );
      const errors = rules.find((r) => r.record === `job:slo_errors_per_request:ratio_rate${window}`)!;
      expect(errors.expr.replace(/\s+/g, ' ')).toContain(
        `sum by (job) (rate(http_request_errors_total[${window}])) / sum by (job) (rate(http_requests_total[${window}]))`,
      );
    }
  });

  it('sums counter rates before dividing, and guards each ratio against an idle denominator', () => {
    for (const rule of rules.filter((r) => r.expr.includes('/'))) {
      const expr = rule.expr.replace(/\s+/g, ' ').trim();
      expect(expr, String(rule.alert)).not.toMatch(/(?<!sum by \([\w, ]+\) \()rate\(/);
      expect(expr, String(rule.alert)).toMatch(/ and on \([\w, ]+\) .*> 0$/);
    }
  });

  it.each(ALERTS)('%s is unit-tested: silent until its for: duration has passed, then firing', (name) => {
    const rule = rules.find((r) => r.alert === name) as Record<string, any>;
    const tests = readYaml<{ tests: RuleTest[] }>(join(PROM_DIR, 'alerts.test.yml')).tests;
    const cases = tests.map((t) => (t.alert_rule_test ?? []).filter((c) => c.alertname === name));
    const firing = cases.flat().filter((c) => c.exp_alerts.length > 0);
    expect(firing.length, 'a case where the alert fires').toBeGreaterThan(0);
    // Within the group that fires, an earlier evaluation at most `for:` before it expects no alert.
    const provesFor = cases.some((group) =>
      group.some(
        (fire) =>
          fire.exp_alerts.length > 0 &&
          group.some(
            (quiet) =>
              quiet.exp_alerts.length === 0 &&
              seconds(quiet.eval_time) < seconds(fire.eval_time) &&
              seconds(fire.eval_time) - seconds(quiet.eval_time) <= seconds(rule.for),
          ),
      ),
    );
    expect(provesFor, 'an evaluation before the for: duration has passed expects no alert').toBe(true);
    expect(
      cases.some((group) => group.length > 0 && group.every((c) => c.exp_alerts.length === 0)) ||
        firing.some((c) => c.exp_alerts.length === 1),
      'healthy series stay silent',
    ).toBe(true);
  });
});
