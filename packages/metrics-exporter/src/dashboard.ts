import { createHash } from 'node:crypto';
import { MetricsError, type MetricsSnapshot, type OptionSchema, validateOptions } from '@gatewayz/metrics-core';
import { DashboardHistory, type DashboardPoint, MAX_HISTORY_POINTS, startSampling } from './dashboardHistory.js';
import { DASHBOARD_SCRIPT } from './dashboardScript.js';
import { DASHBOARD_STYLESHEET } from './dashboardStyle.js';
import type { DashboardPage, DashboardRoutes, MetricsResponse } from './handlers.js';

/** The options of {@link metricsDashboard}. */
export interface DashboardOptions {
  /** How often the page polls `{prefix}/json`, in milliseconds (100 to 3 600 000). @default 1000 */
  intervalMs?: number;
  /** The page's title and heading. @default 'gatewayz metrics' */
  title?: string;
  /**
   * How much history the server keeps for the charts, in seconds, so that they are full when the page
   * opens. `0` keeps none (the charts then start empty). At most 10 000 points (`historySeconds * 1000 /
   * historyIntervalMs`). @default 900 (15 minutes)
   */
  historySeconds?: number;
  /**
   * How often the server samples that history, in milliseconds (50 to 3 600 000), on an unref'd timer off
   * the request path that never keeps the process alive. @default 5000
   */
  historyIntervalMs?: number;
}

const PACKAGE = '@gatewayz/metrics-exporter';

// Here, not in internal/options.ts: an app that never serves the page loads none of this.
const DASHBOARD_OPTIONS: OptionSchema<DashboardOptions> = {
  intervalMs: 'number',
  title: 'string',
  historySeconds: 'number',
  historyIntervalMs: 'number',
};

/** The page's CSP: no inline script or style, nothing but its own origin. */
export const DASHBOARD_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const escapeHtml = (s: string) => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
/** JSON safe inside a `<script type="application/json">` data block (no `</script>` or `<!--` can occur). */
const jsonForHtml = (v: unknown) =>
  JSON.stringify(v)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');

/**
 * The dashboard's HTML page. It loads `{prefix}/dashboard/dashboard.js` and `dashboard.css` (no inline
 * script or style, so it runs under {@link DASHBOARD_CSP}), takes its configuration from `data-*` attributes,
 * and carries `points` (the server's history) in a JSON data island, so the first paint already shows them.
 */
export function dashboardHtml(options: {
  /** The handlers' prefix: the page's assets are under `{prefix}/dashboard/`. @default '/metrics' */
  prefix?: string;
  /** What the page polls. @default `${prefix}/json` */
  jsonPath?: string;
  intervalMs?: number;
  title?: string;
  historySeconds?: number;
  /** History to draw at once, oldest first. @default [] */
  points?: readonly DashboardPoint[];
}): string {
  const prefix = options.prefix ?? '/metrics';
  const assets = `${prefix}/dashboard`;
  const title = escapeHtml(options.title ?? 'gatewayz metrics');
  const attr = (v: string | number) => escapeHtml(String(v));
  const legend = (labels: string[]) => labels.map((l, i) => `<span><i class="s${i}"></i>${l}</span>`).join('');
  const chart = (id: string, heading: string, labels: string[], now: string, describe: string) =>
    `<section class="${id}"><h2>${heading}</h2><div class="legend">${legend(labels)}<span class="now" id="${now}"></span></div>` +
    `<div class="chart"><svg id="${id}" data-testid="${id === 'rates' ? 'rate' : id}-chart" role="img" aria-label="${describe}"></svg>` +
    `<div class="tip" id="${id}-tip" data-testid="${id === 'rates' ? 'rate' : id}-tip" role="tooltip" hidden></div></div></section>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title><link rel="icon" href="data:,">
<link rel="stylesheet" href="${attr(`${assets}/dashboard.css`)}">
<script defer src="${attr(`${assets}/dashboard.js`)}"></script>
</head>
<body data-json-path="${attr(options.jsonPath ?? `${prefix}/json`)}" data-interval-ms="${attr(options.intervalMs ?? 1000)}" data-history-seconds="${attr(options.historySeconds ?? 900)}">
<header><h1>${title}</h1><span id="health" class="badge unknown" data-testid="health">unknown</span>
<span class="muted" id="summary"></span><span id="error"></span></header>
<main>
${chart('latency', 'Latency (sliding window)', ['p50', 'p95', 'p99'], 'latnow', 'latency quantiles over time, in milliseconds')}
${chart('rates', 'Requests and errors per second', ['requests/s', 'errors/s'], 'ratenow', 'requests and errors per second over time')}
${chart('cache', 'Cache hit rate', ['hit rate'], 'cachenow', 'cache hit rate over time, in percent')}
${chart('tokens', 'Model tokens per second', ['tokens/s'], 'toknow', 'model tokens per second over time, all token types')}
${chart('cost', 'Model cost', ['USD/hour'], 'costnow', 'model cost over time, in US dollars per hour')}
${chart('ttft', 'Time to first token', ['avg time to first token'], 'ttftnow', 'mean time to first token of the streams between samples, in milliseconds')}
<section><h2>Providers</h2><div class="table-wrap"><table data-testid="providers"><thead><tr><th>provider</th><th>requests</th><th>error rate</th><th>avg latency</th><th></th></tr></thead><tbody id="providers"></tbody></table></div></section>
<section><h2>Models</h2><div class="table-wrap"><table data-testid="models"><thead><tr><th>model</th><th>requests</th><th>error rate</th><th>avg latency</th></tr></thead><tbody id="models"></tbody></table></div></section>
</main>
<script type="application/json" id="history">${jsonForHtml({ points: options.points ?? [] })}</script>
</body></html>
`;
}

function checkNumber(name: string, v: unknown, min: number, max: number, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    const given = typeof v === 'number' ? `the number ${v}` : `a ${typeof v}`;
    throw new MetricsError(
      'INVALID_OPTION',
      `option "dashboard.${name}" must be a number from ${min} to ${max}, got ${given}`,
      PACKAGE,
    );
  }
  return v;
}

interface Asset {
  body: string;
  type: string;
  etag: string;
}

const asset = (body: string, type: string): Asset => ({
  body,
  type,
  etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
});
const SCRIPT = asset(DASHBOARD_SCRIPT, 'text/javascript; charset=utf-8');
const STYLESHEET = asset(DASHBOARD_STYLESHEET, 'text/css; charset=utf-8');

/**
 * The live HTML dashboard, for the `dashboard` option of `createMetricsHandlers` and of every adapter: served at
 * `GET {prefix}/dashboard`, it polls `{prefix}/json` and draws at once from a history the server keeps. Only an
 * app that imports it loads the page, its script and its stylesheet. Options are checked here; the history's
 * sampler starts when handlers serve the page.
 *
 * ```ts
 * import { metricsDashboard } from '@gatewayz/metrics-exporter/dashboard';
 * app.use(expressMetrics({ dashboard: metricsDashboard({ title: 'my gateway' }) }));
 * ```
 */
export function metricsDashboard(options: DashboardOptions = {}): DashboardPage {
  // Checked as the handlers' option, so that messages name it as users know it: `dashboard.title`.
  validateOptions({ dashboard: options }, { dashboard: DASHBOARD_OPTIONS }, PACKAGE);
  const intervalMs = checkNumber('intervalMs', options.intervalMs, 100, 3_600_000, 1000);
  const historySeconds = checkNumber('historySeconds', options.historySeconds, 0, 366 * 86_400, 900);
  const historyIntervalMs = checkNumber('historyIntervalMs', options.historyIntervalMs, 50, 3_600_000, 5000);
  if (options.title !== undefined && typeof options.title !== 'string') {
    throw new MetricsError('INVALID_OPTION', 'option "dashboard.title" must be a string', PACKAGE);
  }
  const capacity = Math.ceil((historySeconds * 1000) / historyIntervalMs);
  if (capacity > MAX_HISTORY_POINTS) {
    throw new MetricsError(
      'INVALID_OPTION',
      `options "dashboard.historySeconds" and "dashboard.historyIntervalMs" make ${capacity} points, more than the ${MAX_HISTORY_POINTS} kept at most`,
      PACKAGE,
    );
  }
  const settings: PageSettings = { title: options.title, intervalMs, historySeconds, historyIntervalMs, capacity };
  return { serve: (prefix, snapshot) => servePage(prefix, snapshot, settings) };
}

interface PageSettings {
  title: string | undefined;
  intervalMs: number;
  historySeconds: number;
  historyIntervalMs: number;
  capacity: number;
}

/** The page, its assets and its history ring for handlers at `prefix`, whose sampler starts here. */
function servePage(
  prefix: string,
  snapshot: () => Promise<MetricsSnapshot>,
  { intervalMs, historySeconds, historyIntervalMs, capacity, title }: PageSettings,
): DashboardRoutes {
  const history = capacity > 0 ? new DashboardHistory(capacity, snapshot) : undefined;
  if (history) startSampling(history, historyIntervalMs);

  const base = `${prefix}/dashboard`;
  const page = (points: readonly DashboardPoint[]) =>
    dashboardHtml({
      prefix,
      intervalMs,
      historySeconds: historySeconds || (intervalMs * 120) / 1000,
      points,
      ...(title !== undefined && { title }),
    });
  const headers = (type: string, extra: Record<string, string> = {}): Record<string, string> => ({
    'content-type': type,
    'x-content-type-options': 'nosniff',
    ...extra,
  });
  const serveAsset = (a: Asset, ifNoneMatch: string | undefined): MetricsResponse => {
    const h = headers(a.type, { 'cache-control': 'no-cache', etag: a.etag });
    const fresh = ifNoneMatch?.split(/\s*,\s*/).some((tag) => tag === a.etag || tag === `W/${a.etag}` || tag === '*');
    return fresh ? { status: 304, headers: h, body: '' } : { status: 200, headers: h, body: a.body };
  };
  const stripQuery = (p: string) => {
    const q = p.indexOf('?');
    let s = q >= 0 ? p.slice(0, q) : p;
    if (s.length > 1 && s.endsWith('/')) s = s.slice(0, -1);
    return s;
  };
  return {
    paths: [base, `${base}/dashboard.js`, `${base}/dashboard.css`, `${base}/history`],
    respond(path, ifNoneMatch) {
      switch (stripQuery(path)) {
        case `${base}/dashboard.js`:
          return serveAsset(SCRIPT, ifNoneMatch);
        case `${base}/dashboard.css`:
          return serveAsset(STYLESHEET, ifNoneMatch);
        case `${base}/history`:
          return {
            status: 200,
            headers: headers('application/json; charset=utf-8', { 'cache-control': 'no-store' }),
            body: JSON.stringify({ intervalMs: historyIntervalMs, capacity, points: history?.points() ?? [] }),
          };
        default:
          return {
            status: 200,
            headers: headers('text/html; charset=utf-8', {
              'cache-control': 'no-store',
              'content-security-policy': DASHBOARD_CSP,
              'referrer-policy': 'no-referrer',
            }),
            body: page(history?.points() ?? []),
          };
      }
    },
  };
}
