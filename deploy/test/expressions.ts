/**
 * Every PromQL expression shipped in deploy/: alert and recording rules, dashboard panel targets and dashboard
 * variable queries, with Grafana variables replaced so each one can be sent as-is to Prometheus' HTTP API.
 *
 *   import { allExpressions } from '../test/expressions.js';
 *   for (const { source, expr } of allExpressions()) await query(expr);
 *
 * or, from a shell: `npx -y pnpm@12.4.2 --filter @gatewayz/deploy expressions` (prints JSON).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

export const DEPLOY_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
export const DASHBOARDS_DIR = join(DEPLOY_DIR, 'grafana', 'dashboards');
export const RULE_FILES = [join(DEPLOY_DIR, 'prometheus', 'alerts.yml')];

/** The alerting rules deploy/prometheus/alerts.yml ships, in file order (the tests hold the file to this list). */
export const SHIPPED_ALERTS = [
  'HighErrorRate',
  'HighLatency',
  'ProviderDown',
  'LowCacheHitRate',
  'HighP99LatencyHistogram',
  'GatewayzTargetDown',
  'GatewayzTargetMissing',
  'AvailabilitySLOFastBurn',
  'AvailabilitySLOSlowBurn',
  'LatencySLOFastBurn',
  'LatencySLOSlowBurn',
  'HighTimeToFirstToken',
  'CostBurnSpike',
  'ModelErrorRate',
];
/** The SLO windows of the recording rules. */
export const SLO_WINDOWS = ['5m', '30m', '1h', '6h'];
/** The recording rules alerts.yml ships, in file order. */
export const SHIPPED_RECORDS = ['errors_per_request', 'slow_requests'].flatMap((r) =>
  SLO_WINDOWS.map((w) => `job:slo_${r}:ratio_rate${w}`),
);

/**
 * The AI families of issue 11 (tokens, cost, streaming, tenants) and the labels they carry: the contract the AI usage
 * dashboard and the gatewayz_upstream alerts are written against. Histograms list the family; their series are the
 * classic `_bucket`/`_sum`/`_count` and, in native-histogram mode, the family name itself.
 */
export const AI_FAMILIES: Readonly<Record<string, { type: 'counter' | 'gauge' | 'histogram'; labels: string[] }>> = {
  model_tokens_total: { type: 'counter', labels: ['provider', 'model', 'type'] },
  model_cost_usd_total: { type: 'counter', labels: ['provider', 'model'] },
  model_request_duration_seconds: { type: 'histogram', labels: ['provider', 'model'] },
  model_time_to_first_token_seconds: { type: 'histogram', labels: ['provider', 'model'] },
  model_time_per_output_token_seconds: { type: 'histogram', labels: ['provider', 'model'] },
  model_requests_in_flight: { type: 'gauge', labels: ['provider'] },
  model_stream_aborts_total: { type: 'counter', labels: ['provider', 'model'] },
  tenant_tokens_total: { type: 'counter', labels: ['tenant', 'type'] },
  tenant_cost_usd_total: { type: 'counter', labels: ['tenant'] },
};

/** Every series name of the AI families, as Prometheus stores them in either histogram mode. */
export const AI_SERIES: readonly string[] = Object.entries(AI_FAMILIES).flatMap(([name, { type }]) =>
  type === 'histogram' ? [`${name}_bucket`, `${name}_sum`, `${name}_count`, name] : [name],
);

/** The family of a series name: `x_bucket`, `x_sum` and `x_count` belong to histogram `x`. */
export function aiFamilyOf(series: string): string | undefined {
  if (AI_FAMILIES[series]) return series;
  const family = series.replace(/_(?:bucket|sum|count)$/, '');
  return AI_FAMILIES[family]?.type === 'histogram' ? family : undefined;
}

/**
 * AI families the demo does not record although the collector has them: it records each finished completion with
 * `recordCompletion`, and only `startCompletion`/`trackStream` move `model_requests_in_flight`. Excused only while
 * the demo's exposition really lacks them (see {@link aiFamiliesPending}).
 */
export const AI_FAMILIES_NOT_RECORDED_BY_DEMO: readonly string[] = ['model_requests_in_flight'];

const exposes = (exposition: string, series: string) => new RegExp(`^${series}[{ ]`, 'm').test(exposition);

/**
 * The AI series that the demo does not expose yet, so that the expressions reading them may return no data (they
 * must still evaluate without error): all of {@link AI_SERIES} while the demo's exposition has no
 * `model_tokens_total`; once it does, only those of {@link AI_FAMILIES_NOT_RECORDED_BY_DEMO} that it still lacks.
 * Derived at test time from a scrape of the demo, never hard-coded: when the collector records the AI families,
 * every other AI panel must return data like every other panel.
 */
export function aiFamiliesPending(exposition: string): ReadonlySet<string> {
  if (!exposes(exposition, 'model_tokens_total')) return new Set(AI_SERIES);
  return new Set(AI_FAMILIES_NOT_RECORDED_BY_DEMO.filter((name) => !exposes(exposition, name)));
}

export interface PromQLExpression {
  /** Where it comes from, e.g. `prometheus/alerts.yml HighErrorRate` or `grafana/dashboards/cache.json panel 4 "Cache hit ratio" A`. */
  source: string;
  kind: 'alert' | 'record' | 'panel' | 'variable';
  /** The expression as written in the file. */
  raw: string;
  /** Ready for Prometheus: Grafana variables substituted, `label_values(...)` rewritten as PromQL. */
  expr: string;
}

/**
 * Concrete values for Grafana's variables: "All" (`.*`) for the dashboard variables, and windows that suit a
 * 15 s scrape interval for the built-in ones.
 */
export const DEFAULT_VARIABLES: Readonly<Record<string, string>> = {
  job: '.*',
  instance: '.*',
  endpoint: '.*',
  provider: '.*',
  model: '.*',
  service: '.*',
  datasource: 'prometheus',
  __rate_interval: '1m',
  __interval: '15s',
  __range: '1h',
};

export interface ExpressionOptions {
  /** Values for Grafana variables, merged over {@link DEFAULT_VARIABLES}. */
  variables?: Record<string, string>;
}

/** Replaces `$name`, `${name}`, `${name:format}` and `[[name]]`; throws on a variable without a value. */
export function substituteVariables(text: string, variables: Record<string, string> = DEFAULT_VARIABLES): string {
  return text.replace(/\$\{(\w+)(?::\w+)?\}|\[\[(\w+)(?::\w+)?\]\]|\$(\w+)/g, (whole, a, b, c) => {
    const name: string = a ?? b ?? c;
    const value = variables[name];
    if (value === undefined) throw new Error(`no value for Grafana variable ${whole} in: ${text}`);
    return value;
  });
}

/** Rewrites a Grafana `label_values(selector, label)` variable query as an equivalent PromQL expression. */
export function labelValuesToPromQL(query: string): string {
  const withSelector = /^\s*label_values\(\s*(.+)\s*,\s*(\w+)\s*\)\s*$/s.exec(query);
  if (withSelector) return `group by (${withSelector[2]}) (${withSelector[1]!.trim()})`;
  const labelOnly = /^\s*label_values\(\s*(\w+)\s*\)\s*$/.exec(query);
  if (labelOnly) return `group by (${labelOnly[1]}) ({${labelOnly[1]}!=""})`;
  throw new Error(`unsupported variable query: ${query}`);
}

interface RuleGroups {
  groups: Array<{ name: string; rules: Array<Record<string, unknown> & { expr: string }> }>;
}

/** The parts of `prometheus.yml` the tests read. */
export interface ScrapeConfig {
  job_name: string;
  metrics_path: string;
  scrape_interval: string;
  scrape_timeout: string;
  static_configs: Array<{ targets: string[] }>;
}
export interface PrometheusConfig {
  global?: { scrape_interval: string; evaluation_interval: string };
  rule_files: string[];
  alerting?: { alertmanagers: Array<{ static_configs: Array<{ targets: string[] }> }> };
  scrape_configs: ScrapeConfig[];
}

export function readYaml<T = unknown>(path: string): T {
  return parse(readFileSync(path, 'utf8')) as T;
}

export function readRuleGroups(path: string): RuleGroups {
  return readYaml<RuleGroups>(path);
}

export interface DashboardFile {
  file: string;
  dashboard: any;
}

/** The committed dashboards, sorted by file name. */
export function readDashboards(dir: string = DASHBOARDS_DIR): DashboardFile[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, dashboard: JSON.parse(readFileSync(join(dir, file), 'utf8')) }));
}

const relative = (path: string) => path.slice(DEPLOY_DIR.length + 1);

export function ruleExpressions(): PromQLExpression[] {
  return RULE_FILES.flatMap((path) =>
    readRuleGroups(path).groups.flatMap((group) =>
      group.rules.map((rule) => {
        const kind = rule.alert !== undefined ? 'alert' : 'record';
        const raw = rule.expr.trim();
        return { source: `${relative(path)} ${String(rule.alert ?? rule.record)}`, kind, raw, expr: raw } as const;
      }),
    ),
  );
}

export function dashboardExpressions(options: ExpressionOptions = {}): PromQLExpression[] {
  const variables = { ...DEFAULT_VARIABLES, ...options.variables };
  const out: PromQLExpression[] = [];
  for (const { file, dashboard } of readDashboards()) {
    const where = `grafana/dashboards/${file}`;
    for (const v of dashboard.templating?.list ?? []) {
      if (v.type !== 'query') continue;
      const raw: string = typeof v.query === 'string' ? v.query : v.query.query;
      out.push({
        source: `${where} variable ${v.name}`,
        kind: 'variable',
        raw,
        expr: labelValuesToPromQL(substituteVariables(raw, variables)),
      });
    }
    for (const panel of dashboard.panels ?? []) {
      for (const target of panel.targets ?? []) {
        out.push({
          source: `${where} panel ${panel.id} "${panel.title}" ${target.refId}`,
          kind: 'panel',
          raw: target.expr,
          expr: substituteVariables(target.expr, variables),
        });
      }
    }
  }
  return out;
}

/** Every PromQL expression in the rule files and dashboards. */
export function allExpressions(options: ExpressionOptions = {}): PromQLExpression[] {
  return [...ruleExpressions(), ...dashboardExpressions(options)];
}
