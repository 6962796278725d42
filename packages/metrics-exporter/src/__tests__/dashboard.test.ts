import { MetricsCollector, MetricsError, type MetricsSnapshot } from '@gatewayz/metrics-core';
import { describe, expect, it } from 'vitest';
import { DashboardHistory, type DashboardPoint, MAX_HISTORY_POINTS } from '../dashboardHistory.js';
import { DASHBOARD_SCRIPT } from '../dashboardScript.js';
import { DASHBOARD_CSP, dashboardHtml, metricsDashboard } from '../entries/dashboard.js';
import { createMetricsHandlers, type MetricsHandlers, PrometheusExporter } from '../index.js';

// The page itself is exercised in headless Chromium by apps/gateway's dashboard.browser.test.ts.

const get = (h: MetricsHandlers, path: string, headers: Record<string, string> = {}) =>
  h.handle({ method: 'GET', path, headers });

const snapshotAt = (t: number, requests: number, errors = 0, p99: number | null = 0.2): MetricsSnapshot =>
  ({
    timestamp: new Date(t).toISOString(),
    totals: { requests, errors, errorRate: 0 },
    window: { latency: { p50: 0.05, p95: 0.1, p99 } },
    cache: { hits: 0, misses: 0, hitRate: 0.5 },
  }) as unknown as MetricsSnapshot;

async function until(cond: () => boolean | Promise<boolean>, ms = 5000) {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

it('escapes its title and configuration', () => {
  const html = dashboardHtml({ prefix: '/m', jsonPath: '/m/json"><script>alert(1)</script>', title: '<b>x</b>' });
  expect(html).not.toContain('<script>alert(1)');
  expect(html).toContain('data-json-path="/m/json&#34;&#62;&#60;script&#62;');
  expect(html).toContain('&#60;b&#62;x&#60;/b&#62;');
});

it('has no inline script, inline style or event handler attribute that a strict CSP would block', () => {
  const html = dashboardHtml({ prefix: '/m', points: [{ t: 1, requests: 0, errors: 0 } as never] });
  expect(html).not.toMatch(/\sstyle=/i);
  expect(html).not.toMatch(/<style/i);
  expect(html).not.toMatch(/\son[a-z]+=/i);
  // Every <script> is either the external asset or the JSON data island (which CSP does not execute).
  const scripts = html.match(/<script[^>]*>/g) ?? [];
  expect(scripts).toEqual([
    '<script defer src="/m/dashboard/dashboard.js">',
    '<script type="application/json" id="history">',
  ]);
  expect(html).toContain('<link rel="stylesheet" href="/m/dashboard/dashboard.css">');
  // The script is valid JavaScript and never writes style attributes (only CSSOM properties).
  expect(() => new Function(DASHBOARD_SCRIPT)).not.toThrow();
  expect(DASHBOARD_SCRIPT).not.toMatch(/setAttribute\(\s*'style'|innerHTML/);
});

it('keeps a data island that cannot close its script element', () => {
  const html = dashboardHtml({ points: [{ t: 1, note: '</script><script>alert(1)</script>' } as never] });
  expect(html).not.toContain('</script><script>alert(1)');
  const island = /<script type="application\/json" id="history">(.*?)<\/script>/s.exec(html)?.[1];
  expect(JSON.parse(island ?? '')).toEqual({ points: [{ t: 1, note: '</script><script>alert(1)</script>' }] });
});

describe('routes', () => {
  it('are served only when enabled', async () => {
    const collector = new MetricsCollector();
    const off = createMetricsHandlers({ collector, adminToken: null });
    for (const p of ['/metrics/dashboard', '/metrics/dashboard/dashboard.js', '/metrics/dashboard/history']) {
      expect(await get(off, p)).toBeUndefined();
      expect(off.owns(p)).toBe(false);
    }
    expect((await off.dashboard({ method: 'GET', headers: {} })).status).toBe(404);
  });

  it('serve the page under a strict CSP with no unsafe-inline, and the assets with their content types', async () => {
    const collector = new MetricsCollector();
    const on = createMetricsHandlers({
      collector,
      adminToken: null,
      prefix: '/m',
      dashboard: metricsDashboard({ intervalMs: 500 }),
    });
    const page = await get(on, '/m/dashboard');
    expect(page?.status).toBe(200);
    expect(page?.headers['content-type']).toBe('text/html; charset=utf-8');
    const csp = page?.headers['content-security-policy'] ?? '';
    expect(csp).toBe(DASHBOARD_CSP);
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    for (const directive of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'"]) {
      expect(csp).toContain(directive);
    }
    expect(csp).toContain("frame-ancestors 'none'");
    expect(page?.headers['x-content-type-options']).toBe('nosniff');
    expect(String(page?.body)).toContain('data-json-path="/m/json"');
    expect(String(page?.body)).toContain('data-interval-ms="500"');

    const js = await get(on, '/m/dashboard/dashboard.js');
    expect(js?.status).toBe(200);
    expect(js?.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js?.headers['x-content-type-options']).toBe('nosniff');
    expect(js?.body).toBe(DASHBOARD_SCRIPT);
    const css = await get(on, '/m/dashboard/dashboard.css?v=1');
    expect(css?.status).toBe(200);
    expect(css?.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(css?.headers['x-content-type-options']).toBe('nosniff');
    expect(String(css?.body)).toContain('.table-wrap{overflow-x:auto');

    const etag = js?.headers.etag ?? '';
    expect(etag).toMatch(/^"[\w-]+"$/);
    const again = await get(on, '/m/dashboard/dashboard.js', { 'If-None-Match': etag });
    expect(again?.status).toBe(304);
    expect(again?.body).toBe('');

    const history = await get(on, '/m/dashboard/history');
    expect(history?.status).toBe(200);
    expect(history?.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(String(history?.body))).toMatchObject({ intervalMs: 5000, capacity: 180, points: [] });

    const head = await on.handle({ method: 'HEAD', path: '/m/dashboard/dashboard.js', headers: {} });
    expect(head?.status).toBe(200);
    expect(head?.body).toBe('');
    for (const p of ['/m/dashboard', '/m/dashboard/dashboard.js', '/m/dashboard/history']) {
      expect((await on.handle({ method: 'POST', path: p, headers: {} }))?.status).toBe(405);
    }
    expect(await get(on, '/m/dashboard/other.js')).toBeUndefined();
  });

  it('have the auth of the JSON view, the assets and history included', async () => {
    const collector = new MetricsCollector();
    const basic = { username: 'ops', password: 'secret-password' };
    const h = createMetricsHandlers({
      collector,
      adminToken: null,
      scrapeAuth: { basic },
      dashboard: metricsDashboard(),
    });
    const good = { authorization: `Basic ${Buffer.from('ops:secret-password').toString('base64')}` };
    const bad = { authorization: `Basic ${Buffer.from('ops:wrong').toString('base64')}` };
    for (const p of ['/metrics/dashboard', '/metrics/dashboard/dashboard.js', '/metrics/dashboard/dashboard.css']) {
      expect((await get(h, p))?.status).toBe(401);
      expect((await get(h, p, bad))?.status).toBe(401);
      expect((await get(h, p, good))?.status).toBe(200);
    }
    expect((await get(h, '/metrics/dashboard/history'))?.status).toBe(401);
    expect((await get(h, '/metrics/dashboard/history', good))?.status).toBe(200);
    expect((await get(h, '/metrics/json'))?.status).toBe(401);
  });
});

describe('history ring', () => {
  it('never holds more than its capacity, oldest first, with rates between samples', () => {
    const h = new DashboardHistory(5, async () => snapshotAt(0, 0));
    expect(h.points()).toEqual([]);
    for (let i = 0; i < 23; i++) {
      h.record(snapshotAt(1_000_000 + i * 5000, i * 50, i * 5));
      expect(h.points().length).toBe(Math.min(i + 1, 5));
    }
    const pts = h.points();
    expect(pts.map((p) => p.t)).toEqual([18, 19, 20, 21, 22].map((i) => 1_000_000 + i * 5000));
    expect(pts.every((p) => p.rps === 10 && p.eps === 1)).toBe(true);
    expect(new DashboardHistory(1e9, async () => snapshotAt(0, 0)).capacity).toBe(MAX_HISTORY_POINTS);
  });

  it('has no rate for the first sample and after a reset', () => {
    const h = new DashboardHistory(10, async () => snapshotAt(0, 0));
    h.record(snapshotAt(10_000, 100, 10, null));
    h.record(snapshotAt(15_000, 3, 0));
    h.record(snapshotAt(20_000, 13, 0));
    expect(h.points().map((p) => [p.rps, p.eps, p.p99])).toEqual([
      [null, null, null],
      [null, null, 0.2],
      [2, 0, 0.2],
    ]);
  });

  it('samples tokens/s, cost per hour and the mean time to first token from recorded completions', () => {
    for (const names of ['ours', 'otel'] as const) {
      const clock = { t: 1_000_000 };
      const c = new MetricsCollector({ now: () => clock.t, ...(names === 'otel' && { completions: { names } }) });
      const h = new DashboardHistory(10, async () => c.snapshot());
      const call = { provider: 'openai', model: 'gpt-4o', durationSeconds: 1, stream: true };
      c.recordCompletion({ ...call, inputTokens: 100, outputTokens: 50, costUsd: 0.01, timeToFirstTokenSeconds: 0.3 });
      h.record(c.snapshot());
      clock.t += 5000;
      // 5 s later: 210 input + 90 output tokens, $0.05, first tokens after 0.2 s and 0.4 s.
      c.recordCompletion({ ...call, inputTokens: 200, cachedInputTokens: 50, outputTokens: 50, costUsd: 0.02 });
      c.recordCompletion({ ...call, model: 'o3', inputTokens: 10, outputTokens: 40, costUsd: 0.03 });
      c.recordCompletion({ ...call, timeToFirstTokenSeconds: 0.2 });
      c.recordCompletion({ ...call, timeToFirstTokenSeconds: 0.4 });
      h.record(c.snapshot());
      clock.t += 10_000;
      h.record(c.snapshot());
      const [p0, p1, p2] = h.points() as [DashboardPoint, DashboardPoint, DashboardPoint];
      expect(p0).toMatchObject({ tokensPerSec: null, costPerHour: null, ttftAvg: null, ttftCount: 1 });
      expect(p0.tokens).toBeGreaterThan(0);
      const tokensIn5s = (p1.tokens ?? 0) - (p0.tokens ?? 0);
      expect(tokensIn5s).toBe(300); // input and output; the 50 cached_input tokens are part of input
      expect(p1.tokensPerSec).toBeCloseTo(tokensIn5s / 5, 9);
      expect(p1.costPerHour).toBeCloseTo((0.05 / 5) * 3600, 9);
      expect(p1.ttftAvg).toBeCloseTo(0.3, 9);
      // Nothing happened in the last 10 s: zero rates, and no first token to average.
      expect(p2).toMatchObject({ tokensPerSec: 0, costPerHour: 0, ttftAvg: null });
    }
  });

  it('has null AI fields for a collector without completions', () => {
    const clock = { t: 1_000_000 };
    const c = new MetricsCollector({ now: () => clock.t });
    c.recordRequest({ endpoint: '/x', method: 'GET', statusCode: 200, latencySeconds: 0.1 });
    const h = new DashboardHistory(10, async () => c.snapshot());
    h.record(c.snapshot());
    clock.t += 5000;
    h.record(c.snapshot());
    for (const p of h.points()) {
      expect(p).toMatchObject({ tokens: null, costUsd: null, ttftCount: null, tokensPerSec: null, costPerHour: null });
      expect(p.ttftAvg).toBeNull();
    }
    expect(h.points()[1]?.rps).toBeCloseTo(0, 9);
  });

  it('draws three AI panels that say "no model calls yet" without the families', () => {
    const html = dashboardHtml({ points: [] });
    for (const id of ['tokens', 'cost', 'ttft']) expect(html).toContain(`data-testid="${id}-chart"`);
    expect(DASHBOARD_SCRIPT).toContain('no model calls yet');
  });

  it('is sampled by an unref timer off the request path, bounded, and embedded in the first page', async () => {
    const collector = new MetricsCollector();
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    const h = createMetricsHandlers({
      collector,
      adminToken: null,
      dashboard: metricsDashboard({ historyIntervalMs: 50, historySeconds: 0.4 }),
    });
    // The sampler's timer is unref'd: it never keeps the process alive.
    expect(timers()).toBe(before);
    collector.recordRequest({ endpoint: '/x', method: 'GET', statusCode: 200, latencySeconds: 0.12 });
    const history = async () => JSON.parse(String((await get(h, '/metrics/dashboard/history'))?.body));
    await until(async () => (await history()).points.length >= 8);
    await new Promise((r) => setTimeout(r, 300));
    const { points, capacity } = await history();
    expect(capacity).toBe(8);
    expect(points.length).toBe(8);
    expect(points.at(-1).p99).toBeGreaterThan(0.1);
    const page = String((await get(h, '/metrics/dashboard'))?.body);
    const island = JSON.parse(/<script type="application\/json" id="history">(.*?)<\/script>/s.exec(page)?.[1] ?? '');
    expect(island.points.length).toBe(8);
    expect(island.points[0].t).toBeGreaterThan(Date.now() - 60_000);
  });

  it('keeps no history and starts no timer with historySeconds: 0', async () => {
    const h = createMetricsHandlers({
      collector: new MetricsCollector(),
      adminToken: null,
      dashboard: metricsDashboard({ historySeconds: 0 }),
    });
    expect(JSON.parse(String((await get(h, '/metrics/dashboard/history'))?.body))).toMatchObject({
      capacity: 0,
      points: [],
    });
  });

  it('is served by each handlers it is given, each with its own prefix and its own sampler', async () => {
    const collector = new MetricsCollector();
    const exporter = new PrometheusExporter(collector);
    const page = metricsDashboard({ historyIntervalMs: 50, historySeconds: 10 });
    const reads = [0, 0];
    const reader = (i: number) => () => {
      reads[i]!++;
      return exporter.snapshotAsync();
    };
    await new Promise((r) => setTimeout(r, 120));
    const first = page.serve('/a', reader(0));
    const second = page.serve('/b', reader(1));
    expect(first.paths).toContain('/a/dashboard');
    expect(second.paths).toContain('/b/dashboard/history');
    await until(() => reads[0]! > 0 && reads[1]! > 0);
  });

  it('rejects out-of-range options with the package error', () => {
    const bad = [
      { historySeconds: -1 },
      { historyIntervalMs: 10 },
      { historySeconds: 86_400, historyIntervalMs: 1000 },
      { intervalMs: Number.NaN },
    ];
    for (const options of bad) {
      const make = () => metricsDashboard(options);
      expect(make).toThrow(MetricsError);
      expect(make).toThrow(/^@gatewayz\/metrics-exporter: options? "dashboard\./);
    }
  });
});
