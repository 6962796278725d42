import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { DEPLOY_DIR, readRuleGroups, readYaml } from './expressions.js';

// deploy/alertmanager/alertmanager.yml checked by Alertmanager's own amtool (Debian's prometheus-alertmanager 0.25).
// The delivery itself is tested end to end in alertmanager.integration.test.ts.

const AM_DIR = join(DEPLOY_DIR, 'alertmanager');
const CONFIG = join(AM_DIR, 'alertmanager.yml');
/** `$AMTOOL`, else `amtool` on PATH (Debian's `prometheus-alertmanager`). */
const AMTOOL = process.env.AMTOOL ?? 'amtool';

function amtool(args: string[]): { status: number; output: string } {
  const result = spawnSync(AMTOOL, args, { cwd: AM_DIR, encoding: 'utf8' });
  if (result.error) {
    if ((result.error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new Error(
        `amtool not found (tried "${AMTOOL}"): apt-get install -y prometheus-alertmanager, or set AMTOOL`,
      );
    throw result.error;
  }
  return { status: result.status ?? -1, output: `${result.stdout}${result.stderr}` };
}

/** The receiver amtool's routing tree picks for an alert with these labels. */
const routeOf = (labels: Record<string, string>) => {
  const { status, output } = amtool([
    'config',
    'routes',
    'test',
    `--config.file=${CONFIG}`,
    ...Object.entries(labels).map(([k, v]) => `${k}=${v}`),
  ]);
  expect(status, output).toBe(0);
  return output
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('Warning:'))
    .join(',');
};

const config = readYaml<any>(CONFIG);
const alerts = readRuleGroups(join(DEPLOY_DIR, 'prometheus', 'alerts.yml'))
  .groups.flatMap((g) => g.rules)
  .filter((r) => r.alert !== undefined) as unknown as Array<{ alert: string; labels: Record<string, string> }>;

describe('alertmanager.yml', () => {
  it('amtool is the 0.25 of the delivery test', () => {
    expect(amtool(['--version']).output).toMatch(/amtool, version 0\.25\./);
  });

  it('passes amtool check-config', () => {
    const { status, output } = amtool(['check-config', CONFIG]);
    expect(status, output).toBe(0);
    expect(output).toContain('SUCCESS');
    expect(output).toContain(`${config.receivers.length} receivers`);
    expect(output).toContain(`${config.inhibit_rules.length} inhibit rules`);
  });

  it('check-config fails on a broken config (the check can fail)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatewayz-am-'));
    try {
      const broken = { ...config, route: { ...config.route, receiver: 'nobody' } };
      writeFileSync(join(dir, 'broken.yml'), stringify(broken));
      const { status, output } = amtool(['check-config', join(dir, 'broken.yml')]);
      expect(status).not.toBe(0);
      expect(output).toMatch(/undefined receiver "nobody"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('routes by severity: critical and warning to their receivers, anything else to the default', () => {
    expect(routeOf({ alertname: 'X', severity: 'critical' })).toBe('critical');
    expect(routeOf({ alertname: 'X', severity: 'warning' })).toBe('warning');
    expect(routeOf({ alertname: 'X', severity: 'info' })).toBe('default');
    expect(routeOf({ alertname: 'X' })).toBe('default');
  });

  it.each(alerts.map((a) => [a.alert, a]))('%s reaches the receiver of its severity', (_name, alert) => {
    const expected = { critical: 'critical', warning: 'warning' }[alert.labels.severity!] ?? 'default';
    expect(routeOf({ alertname: alert.alert, job: 'gatewayz-api', ...alert.labels })).toBe(expected);
  });

  it('groups by alert name and job, with bounded waits and repeats', () => {
    expect(config.route.group_by).toEqual(['alertname', 'job']);
    const seconds = (d: string) => {
      const m = /^(\d+)([smh])$/.exec(d);
      if (!m) throw new Error(`unsupported duration ${d}`);
      return Number(m[1]) * { s: 1, m: 60, h: 3600 }[m[2] as 's' | 'm' | 'h'];
    };
    for (const route of [config.route, ...config.route.routes]) {
      for (const key of ['group_wait', 'group_interval', 'repeat_interval']) {
        const value = route[key] ?? config.route[key];
        expect(seconds(value), `${key} ${value}`).toBeGreaterThan(0);
      }
      expect(seconds(route.group_wait ?? config.route.group_wait)).toBeLessThanOrEqual(60);
      expect(seconds(route.repeat_interval ?? config.route.repeat_interval)).toBeLessThanOrEqual(24 * 3600);
    }
  });

  it('inhibits a slow-burn warning while the same SLO burns fast, matching only alerts that carry an slo label', () => {
    const [slo] = config.inhibit_rules;
    expect(slo.source_matchers).toEqual(['severity="critical"', 'slo=~".+"']);
    expect(slo.target_matchers).toEqual(['severity="warning"']);
    expect(slo.equal).toEqual(['slo', 'job']);
    // Every SLO alert carries the label the rule matches on.
    const sloAlerts = alerts.filter((a) => a.alert.includes('SLO'));
    expect(sloAlerts.map((a) => a.labels.slo).sort()).toEqual(['availability', 'availability', 'latency', 'latency']);
  });
});
