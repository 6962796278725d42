import { join } from 'node:path';
import { type Gateway, startGateway } from '@gatewayz/gateway';
import { MetricsCollector } from '@gatewayz/metrics-core';
import { type PrometheusServer, startPrometheus } from '@gatewayz/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  type AlertmanagerServer,
  type DeliveredAlert,
  startAlertmanager,
  startWebhookLogger,
  type WebhookLogger,
} from './alertmanagerServer.js';
import { DEPLOY_DIR, type PrometheusConfig, readYaml } from './expressions.js';

// Alert delivery end to end: the demo gateway (in this process) → a real Prometheus 2.42 evaluating the shipped
// rules → Debian's Alertmanager 0.25 with the shipped alertmanager.yml → the shipped webhook-logger.mjs.
// Only what would make the test take minutes is changed, programmatically from the shipped files: scrape and
// evaluation intervals (1 s), every rule's `for:` (1 s), Alertmanager's group waits (1 s), and the addresses.

const ADMIN_TOKEN = 'alert-delivery-admin-token-0123456789';
const JOB = 'gatewayz-api';
const SHORT_FOR = '1s';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined> | T | undefined) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(200);
  }
}

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
}

/** alerts.yml as shipped, with every alert's `for:` shortened to {@link SHORT_FOR}; expressions untouched. */
function testRules(): { groups: Array<{ name: string; rules: Rule[] }> } {
  const shipped = readYaml<{ groups: Array<{ name: string; rules: Rule[] }> }>(
    join(DEPLOY_DIR, 'prometheus', 'alerts.yml'),
  );
  return {
    groups: shipped.groups.map((g) => ({
      ...g,
      rules: g.rules.map((r) => (r.for === undefined ? r : { ...r, for: SHORT_FOR })),
    })),
  };
}

/** alertmanager.yml as shipped, with 1 s group waits and the webhook URLs sent to `webhook` (same paths). */
function testAlertmanagerConfig(webhook: string): any {
  const shipped = readYaml<any>(join(DEPLOY_DIR, 'alertmanager', 'alertmanager.yml'));
  const fast = (route: any): any => ({
    ...route,
    group_wait: '1s',
    group_interval: '1s',
    ...(route.routes ? { routes: route.routes.map(fast) } : {}),
  });
  return {
    ...shipped,
    route: fast(shipped.route),
    receivers: shipped.receivers.map((r: any) => ({
      ...r,
      webhook_configs: (r.webhook_configs ?? []).map((w: any) => {
        const url = new URL(w.url);
        return { ...w, url: `${webhook}${url.pathname}` };
      }),
    })),
  };
}

let webhook: WebhookLogger | undefined;
let alertmanager: AlertmanagerServer | undefined;
let gateway: Gateway | undefined;
let prom: PrometheusServer | undefined;

beforeAll(async () => {
  webhook = await startWebhookLogger();
  alertmanager = await startAlertmanager(testAlertmanagerConfig(webhook.url));
  // Reliable providers (errorRateScale 0): only the induced outage makes a provider fail.
  gateway = await startGateway({
    framework: 'fastify',
    port: 0,
    collector: new MetricsCollector(),
    adminToken: ADMIN_TOKEN,
    seed: 21,
    errorRateScale: 0,
  });
  const shipped = readYaml<PrometheusConfig>(join(DEPLOY_DIR, 'prometheus', 'prometheus.yml'));
  const config: PrometheusConfig = {
    ...shipped,
    global: { ...shipped.global, scrape_interval: '1s', evaluation_interval: '1s' },
    alerting: { alertmanagers: [{ static_configs: [{ targets: [new URL(alertmanager.url).host] }] }] },
    scrape_configs: shipped.scrape_configs.map((job) => ({
      ...job,
      scrape_interval: '1s',
      scrape_timeout: '1s',
      static_configs: [{ targets: [new URL(gateway!.url).host] }],
    })),
  };
  prom = await startPrometheus({ config: stringify(config), files: { 'alerts.yml': stringify(testRules()) } });
}, 45_000);

afterAll(async () => {
  await prom?.stop();
  await gateway?.close();
  await alertmanager?.stop();
  await webhook?.stop();
});

const delivered = (alertname: string, status: DeliveredAlert['status'] = 'firing') =>
  webhook!.delivered().filter((a) => a.labels.alertname === alertname && a.status === status);

describe('alert delivery: demo → Prometheus → Alertmanager → webhook', () => {
  it('the test copies keep the shipped rules and routes, changing only for:, waits and addresses', () => {
    const shipped = readYaml<any>(join(DEPLOY_DIR, 'prometheus', 'alerts.yml'));
    const rules = testRules();
    const strip = (r: Rule) => ({ ...r, for: undefined });
    expect(rules.groups.map((g) => g.rules.map(strip))).toEqual(shipped.groups.map((g: any) => g.rules.map(strip)));
    expect(rules.groups.flatMap((g) => g.rules).find((r) => r.alert === 'ProviderDown')?.for).toBe(SHORT_FOR);
    const am = testAlertmanagerConfig('http://127.0.0.1:1');
    const amShipped = readYaml<any>(join(DEPLOY_DIR, 'alertmanager', 'alertmanager.yml'));
    expect(am.inhibit_rules).toEqual(amShipped.inhibit_rules);
    expect(am.route.routes.map((r: any) => [r.matchers, r.receiver])).toEqual(
      amShipped.route.routes.map((r: any) => [r.matchers, r.receiver]),
    );
    expect(am.receivers.map((r: any) => r.webhook_configs.map((w: any) => new URL(w.url).pathname))).toEqual(
      amShipped.receivers.map((r: any) => r.webhook_configs.map((w: any) => new URL(w.url).pathname)),
    );
  });

  it('the webhook logger answers its healthcheck and refuses what is not a webhook payload', async () => {
    expect((await fetch(`${webhook!.url}/healthz`)).status).toBe(200);
    const post = (body: string) => fetch(`${webhook!.url}/alerts/x`, { method: 'POST', body });
    expect((await post('not json')).status).toBe(400);
    expect((await post('{"alerts": "none"}')).status).toBe(400);
    expect((await fetch(`${webhook!.url}/elsewhere`, { method: 'POST', body: '{}' })).status).toBe(404);
    expect(webhook!.delivered().filter((a) => a.path === '/alerts/x')).toEqual([]);
  });

  it('Prometheus has discovered the Alertmanager', async () => {
    await prom!.waitForTargets(JOB, 15_000);
    const data = await until('an active Alertmanager', 15_000, async () => {
      const body = (await (await fetch(`${prom!.url}/api/v1/alertmanagers`)).json()) as any;
      return body.data.activeAlertmanagers.length > 0 ? body.data : undefined;
    });
    expect(data.activeAlertmanagers[0].url).toBe(`${alertmanager!.url}/api/v2/alerts`);
  });

  it('an induced provider outage reaches the webhook as ProviderDown, on the critical route', async () => {
    const started = Date.now();
    const res = await fetch(`${gateway!.url}/api/admin/providers/anthropic/outage`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ seconds: 120 }),
    });
    expect(res.status).toBe(200);
    // Chats to an anthropic model (distinct prompts, so none is served from the cache) and to an openai one,
    // about 20 a second, until the alert arrives: bounded in count and time.
    let sent = 0;
    const statuses: Record<number, number> = {};
    const alert = await until('ProviderDown at the webhook', 40_000, async () => {
      for (const model of ['claude-3-5-haiku', 'gpt-4o-mini']) {
        if (sent >= 2000) break;
        const r = await fetch(`${gateway!.url}/api/chat`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ message: `delivery test ${sent++}`, model }),
        });
        await r.arrayBuffer();
        statuses[r.status] = (statuses[r.status] ?? 0) + 1;
      }
      return delivered('ProviderDown')[0];
    });
    const seconds = (Date.now() - started) / 1000;
    console.log(
      `ProviderDown delivered ${seconds.toFixed(1)} s after the outage began (${sent} chats: ${JSON.stringify(statuses)}); ` +
        `all deliveries so far: ${webhook!
          .delivered()
          .map((a) => `${a.labels.alertname}{${a.labels.provider ?? a.labels.instance ?? a.labels.job}} ${a.path}`)
          .join(', ')}`,
    );
    expect(statuses[502], 'the anthropic chats failed').toBeGreaterThan(0);
    expect(statuses[200], 'the openai chats did not').toBeGreaterThan(0);
    expect(alert).toMatchObject({
      path: '/alerts/critical',
      receiver: 'critical',
      status: 'firing',
      labels: { alertname: 'ProviderDown', severity: 'critical', job: JOB, provider: 'anthropic' },
      annotations: { summary: 'Provider anthropic is failing' },
    });
    expect(alert.annotations.description).toMatch(/^\d+(\.\d+)?% of calls to provider anthropic \(job gatewayz-api\)/);
    // Grouped by alertname and job, as the shipped route says.
    expect(alert.groupKey).toContain('alertname="ProviderDown"');
    expect(alert.groupKey).toContain(`job="${JOB}"`);
    // Only the provider in outage: openai answered every call.
    expect(
      webhook!.delivered().filter((a) => a.labels.alertname === 'ProviderDown' && a.labels.provider !== 'anthropic'),
    ).toEqual([]);
  }, 50_000);

  it('a slow-burn SLO warning is inhibited while the same SLO burns fast; other warnings still arrive', async () => {
    // Straight into Alertmanager's API, to exercise the shipped inhibit rule on its own.
    const job = 'inhibit-test';
    const alert = (alertname: string, labels: Record<string, string>) => ({
      labels: { alertname, job, ...labels },
      annotations: { summary: alertname },
      startsAt: new Date().toISOString(),
    });
    await alertmanager!.post('/api/v2/alerts', [
      alert('AvailabilitySLOFastBurn', { severity: 'critical', slo: 'availability' }),
      alert('AvailabilitySLOSlowBurn', { severity: 'warning', slo: 'availability' }),
      alert('LatencySLOSlowBurn', { severity: 'warning', slo: 'latency' }),
      alert('HighErrorRate', { severity: 'warning', endpoint: '/api/chat' }),
    ]);
    const arrived = (name: string) => delivered(name).filter((a) => a.labels.job === job);
    await until('the fast burn and the unrelated warnings at the webhook', 15_000, () =>
      arrived('AvailabilitySLOFastBurn').length > 0 &&
      arrived('LatencySLOSlowBurn').length > 0 &&
      arrived('HighErrorRate').length > 0
        ? true
        : undefined,
    );
    expect(arrived('AvailabilitySLOFastBurn')[0]!.path).toBe('/alerts/critical');
    expect(arrived('LatencySLOSlowBurn')[0]!.path).toBe('/alerts/warning');
    expect(arrived('HighErrorRate')[0]!.path).toBe('/alerts/warning');
    const all = (await alertmanager!.get(`/api/v2/alerts?filter=${encodeURIComponent(`job="${job}"`)}`)) as Array<{
      labels: Record<string, string>;
      status: { state: string; inhibitedBy: string[] };
    }>;
    const slow = all.find((a) => a.labels.alertname === 'AvailabilitySLOSlowBurn')!;
    expect(slow.status.state).toBe('suppressed');
    expect(slow.status.inhibitedBy).toHaveLength(1);
    expect(all.find((a) => a.labels.alertname === 'LatencySLOSlowBurn')!.status.state).toBe('active');
    await sleep(2000); // two more group intervals
    expect(arrived('AvailabilitySLOSlowBurn')).toEqual([]);
  }, 30_000);

  it('stopping the demo reaches the webhook as GatewayzTargetDown', async () => {
    const instance = new URL(gateway!.url).host;
    const started = Date.now();
    await gateway!.close();
    gateway = undefined;
    const down = await until('GatewayzTargetDown at the webhook', 30_000, () => delivered('GatewayzTargetDown')[0]);
    console.log(`GatewayzTargetDown delivered ${((Date.now() - started) / 1000).toFixed(1)} s after the demo stopped`);
    expect(down).toMatchObject({
      path: '/alerts/critical',
      labels: { alertname: 'GatewayzTargetDown', severity: 'critical', job: JOB, instance },
    });
  }, 40_000);
});
