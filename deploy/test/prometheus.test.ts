import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEPLOY_DIR, type PrometheusConfig, readRuleGroups, readYaml } from './expressions.js';
import { promtool } from './promtool.js';

const PROM_DIR = join(DEPLOY_DIR, 'prometheus');
const ALERTS = ['HighErrorRate', 'HighLatency', 'ProviderDown', 'LowCacheHitRate', 'HighP99LatencyHistogram'];

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
    expect(output).toContain(`SUCCESS: ${ALERTS.length} rules found`);
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

  it('differs from prometheus.docker.yml only in the scrape target', () => {
    const withoutTargets = (c: PrometheusConfig) => ({
      ...c,
      scrape_configs: c.scrape_configs.map((s) => ({ ...s, static_configs: s.static_configs.map(() => ({})) })),
    });
    expect(withoutTargets(docker)).toEqual(withoutTargets(local));
    expect(docker.scrape_configs[0]!.static_configs[0]!.targets).toEqual(['demo:8000']);
  });
});

describe('alerts.yml', () => {
  const rules = readRuleGroups(join(PROM_DIR, 'alerts.yml')).groups.flatMap((g) => g.rules);

  it('holds the five alerts', () => {
    expect(rules.map((r) => r.alert)).toEqual(ALERTS);
  });

  it.each(ALERTS)('%s has for, severity, summary and description', (name) => {
    const rule = rules.find((r) => r.alert === name) as Record<string, any>;
    expect(rule.for).toMatch(/^\d+[smh]$/);
    expect(['info', 'warning', 'critical']).toContain(rule.labels.severity);
    expect(rule.annotations.summary).toMatch(/\S/);
    expect(rule.annotations.description).toMatch(/\S/);
  });

  it('uses the aggregatable histogram for the fifth alert', () => {
    const rule = rules.find((r) => r.alert === 'HighP99LatencyHistogram')!;
    expect(rule.expr.replace(/\s+/g, ' ')).toContain(
      'histogram_quantile(0.99, sum by (job, le) (rate(http_request_duration_seconds_bucket[5m])))',
    );
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
