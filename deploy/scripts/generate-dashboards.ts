/**
 * Generates the eight Grafana dashboards in deploy/grafana/dashboards/ from one description, so that every
 * dashboard shares the same variables, datasource wiring, units and layout rules.
 *
 *   npx tsx scripts/generate-dashboards.ts          write the JSON files
 *   npx tsx scripts/generate-dashboards.ts --check  exit 1 if a committed file differs from the generated one
 *
 * Conventions:
 * - Every query filters on the `job` and `instance` variables, and on `endpoint`, `provider`, `model` or `service`
 *   when the metric carries that label (see `sel`; the AI families carry `provider` and `model`, the in-flight
 *   gauge `provider` alone, the tenant families neither: `AI_FAMILY_FILTERS`).
 * - A dashboard declares only the variables its panels filter on (`filters` in its spec; `buildDashboard` throws
 *   when the two disagree), so no variable on a dashboard is a no-op.
 * - Rates use `$__rate_interval`; "in time range" stats use `$__range`.
 * - Ratios are computed from summed counter rates, so they aggregate correctly across instances.
 * - Aggregated latency uses `histogram_quantile` over summed `http_request_duration_seconds_bucket` rates; the
 *   exporter's percentile gauges are shown per instance only, since percentiles cannot be summed or averaged.
 * - Every expression that reads the histogram reads it in both of Prometheus' modes: the classic
 *   `_bucket`/`_sum`/`_count` series `or` the native histogram `http_request_duration_seconds`, which is all that
 *   Prometheus keeps of our protobuf exposition when it runs with `--enable-feature=native-histograms` (see
 *   `latency`). The classic form comes first, so where both exist (a mode switch inside the range) it wins. The
 *   AI histograms (model call duration, time to first token, time per output token) are read the same way.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const DASHBOARDS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'grafana', 'dashboards');

export interface GrafanaTarget {
  refId: string;
  datasource: { type: 'prometheus'; uid: string };
  expr: string;
  legendFormat: string;
  range: boolean;
  instant: boolean;
  format?: 'time_series' | 'table';
}

export interface GrafanaPanel {
  id: number;
  type: 'timeseries' | 'stat' | 'bargauge';
  title: string;
  description: string;
  datasource: { type: 'prometheus'; uid: string };
  gridPos: { h: number; w: number; x: number; y: number };
  fieldConfig: { defaults: Record<string, unknown> & { unit: string }; overrides: unknown[] };
  options: Record<string, unknown>;
  targets: GrafanaTarget[];
}

export interface GrafanaVariable {
  name: string;
  label: string;
  type: 'datasource' | 'query';
  query: string;
  [key: string]: unknown;
}

export interface GrafanaDashboard {
  id: null;
  uid: string;
  title: string;
  description: string;
  tags: string[];
  templating: { list: GrafanaVariable[] };
  panels: GrafanaPanel[];
  [key: string]: unknown;
}

// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana variable syntax
const DS = { type: 'prometheus', uid: '${datasource}' } as const;
const RI = '$__rate_interval';

/** Label filters per variable; a metric gets the filters of the labels it carries. */
const FILTERS = {
  endpoint: 'endpoint=~"$endpoint"',
  provider: 'provider=~"$provider"',
  model: 'model=~"$model"',
  service: 'service=~"$service"',
} as const;

/** A dashboard variable that filters a label (beyond `job` and `instance`, which every dashboard has). */
export type FilterLabel = keyof typeof FILTERS;
const FILTER_LABELS = Object.keys(FILTERS) as FilterLabel[];

const METRIC_LABEL_PREFIXES: Array<[string, FilterLabel]> = [
  ['http_', 'endpoint'],
  ['provider_', 'provider'],
  ['model_', 'model'],
  ['external_api_', 'service'],
];

/** The counter each filter variable takes its values from. */
const FILTER_SOURCES: Record<FilterLabel, [metric: string, title: string]> = {
  endpoint: ['http_requests_total', 'Endpoint'],
  provider: ['provider_requests_total', 'Provider'],
  model: ['model_requests_total', 'Model'],
  service: ['external_api_calls_total', 'Service'],
};

/**
 * The AI families (issue 11), whose labels are a contract of their own: they override the prefix rule above (the
 * in-flight gauge has `provider` alone, the tenant families neither). Histogram series (`_bucket`, `_sum`,
 * `_count`) carry their family's labels.
 */
export const AI_FAMILY_FILTERS: Readonly<Record<string, readonly FilterLabel[]>> = {
  model_tokens_total: ['provider', 'model'],
  model_cost_usd_total: ['provider', 'model'],
  model_request_duration_seconds: ['provider', 'model'],
  model_time_to_first_token_seconds: ['provider', 'model'],
  model_time_per_output_token_seconds: ['provider', 'model'],
  model_requests_in_flight: ['provider'],
  model_stream_aborts_total: ['provider', 'model'],
  tenant_tokens_total: [],
  tenant_cost_usd_total: [],
};

/** The filter variables a metric's selector takes: its AI family's labels, else its prefix's label. */
export function filterLabels(metric: string): FilterLabel[] {
  const family = metric.replace(/_(?:bucket|sum|count)$/, '');
  const ai = AI_FAMILY_FILTERS[metric] ?? AI_FAMILY_FILTERS[family];
  if (ai) return FILTER_LABELS.filter((label) => ai.includes(label));
  return METRIC_LABEL_PREFIXES.filter(([prefix]) => metric.startsWith(prefix)).map(([, label]) => label);
}

/** A selector for `metric` filtered on job, instance and the metric's own variable labels, plus `extra` matchers. */
export function sel(metric: string, extra: string[] = []): string {
  const matchers = ['job=~"$job"', 'instance=~"$instance"', ...filterLabels(metric).map((label) => FILTERS[label])];
  return `${metric}{${[...matchers, ...extra].join(',')}}`;
}

const rate = (metric: string, extra: string[] = []) => `rate(${sel(metric, extra)}[${RI}])`;
const sumRate = (by: string, metric: string, extra: string[] = []) =>
  `sum${by ? ` by (${by})` : ''} (${rate(metric, extra)})`;
const ratio = (by: string, numerator: string, denominator: string) =>
  `${sumRate(by, numerator)}\n/\n${sumRate(by, denominator)}`;
/**
 * The request latency histogram: its classic series are `${HTTP}_bucket`, `_sum` and `_count`, its native
 * histogram is `${HTTP}` itself (see the conventions above). The AI histograms are read the same way.
 */
const HTTP = 'http_request_duration_seconds';
/** `classic or native`, one per line; both sides keep the same labels (`by`), so `or` never mixes two series. */
const eitherMode = (classic: string, native: string) => `${classic}\nor\n${native}`;
const quantile = (q: number, by: string, histogram = HTTP) =>
  eitherMode(
    `histogram_quantile(${q}, sum by (${by ? `${by}, ` : ''}le) (${rate(`${histogram}_bucket`)}))`,
    `histogram_quantile(${q}, ${sumRate(by, histogram)})`,
  );
/** Average latency: summed `_sum` rate / summed `_count` rate, or the native histogram's sum / count. */
const averageLatency = (by: string, histogram = HTTP) =>
  eitherMode(
    ratio(by, `${histogram}_sum`, `${histogram}_count`),
    `histogram_sum(${sumRate(by, histogram)})\n/\nhistogram_count(${sumRate(by, histogram)})`,
  );
/** Observations per second: the summed `_count` rate, or the native histogram's count. */
const observationRate = (by: string, histogram: string) =>
  eitherMode(sumRate(by, `${histogram}_count`), `histogram_count(${sumRate(by, histogram)})`);
/**
 * Share of requests within `le` seconds: the `le` bucket over the count, or `histogram_fraction(0, le, ...)` (exact
 * when `le` is a power of two, a bucket boundary of every native schema, as 0.25 is; interpolated otherwise).
 */
const fractionWithin = (le: string, by: string) =>
  eitherMode(
    `${sumRate(by, `${HTTP}_bucket`, [`le="${le}"`])}\n/\n${sumRate(by, `${HTTP}_count`)}`,
    `histogram_fraction(0, ${le}, ${sumRate(by, HTTP)})`,
  );
const cacheHitRatio = (by: string) => {
  const hits = sumRate(by, 'cache_hits_total');
  return `${hits}\n/\n(${hits} + ${sumRate(by, 'cache_misses_total')})`;
};

interface PanelSpec {
  type?: GrafanaPanel['type'];
  title: string;
  description: string;
  unit: string;
  targets: Array<[expr: string, legend: string]>;
  w?: number;
  h?: number;
  min?: number;
  max?: number;
  /** Stat/bar colours: `[value, colour]` steps above the base colour. */
  thresholds?: Array<[number, string]>;
  /** Colour below the first threshold. @default 'green' */
  baseColor?: string;
}

export interface DashboardSpec {
  file: string;
  uid: string;
  title: string;
  description: string;
  /** The label variables the panels filter on, after `job` and `instance`; exactly those the expressions use. */
  filters: FilterLabel[];
  panels: PanelSpec[];
}

function queryVariable(name: string, label: string, query: string): GrafanaVariable {
  return {
    name,
    label,
    type: 'query',
    datasource: DS,
    query,
    definition: query,
    refresh: 2,
    includeAll: true,
    multi: true,
    allValue: '.*',
    current: { selected: true, text: ['All'], value: ['$__all'] },
    options: [],
    regex: '',
    sort: 1,
    hide: 0,
  };
}

/** A dashboard's variables, in dependency order: datasource, job, instance, then `filters` in a fixed order. */
export function variables(filters: readonly FilterLabel[]): GrafanaVariable[] {
  return [
    {
      name: 'datasource',
      label: 'Data source',
      type: 'datasource',
      query: 'prometheus',
      current: {},
      options: [],
      regex: '',
      refresh: 1,
      hide: 0,
    },
    queryVariable('job', 'Job', 'label_values(gatewayz_uptime_seconds, job)'),
    queryVariable('instance', 'Instance', 'label_values(gatewayz_uptime_seconds{job=~"$job"}, instance)'),
    ...FILTER_LABELS.filter((name) => filters.includes(name)).map((name) => {
      const [metric, title] = FILTER_SOURCES[name];
      return queryVariable(name, title, `label_values(${metric}{job=~"$job",instance=~"$instance"}, ${name})`);
    }),
  ];
}

/** The filter variables an expression uses (`$name`, `${name}`, `${name:format}` or `[[name]]`). */
export function usedFilters(expr: string): FilterLabel[] {
  return FILTER_LABELS.filter((name) =>
    new RegExp(`\\$${name}\\b|\\$\\{${name}(?::\\w+)?\\}|\\[\\[${name}\\]\\]`).test(expr),
  );
}

function buildPanel(spec: PanelSpec, id: number, gridPos: GrafanaPanel['gridPos']): GrafanaPanel {
  const type = spec.type ?? 'timeseries';
  const instant = type === 'bargauge';
  const defaults: GrafanaPanel['fieldConfig']['defaults'] = { unit: spec.unit };
  if (spec.min !== undefined) defaults.min = spec.min;
  if (spec.max !== undefined) defaults.max = spec.max;
  if (type === 'timeseries') defaults.custom = { drawStyle: 'line', lineWidth: 1, fillOpacity: 10, spanNulls: false };
  defaults.thresholds = {
    mode: 'absolute',
    steps: [
      { color: spec.baseColor ?? 'green', value: null },
      ...(spec.thresholds ?? []).map(([value, color]) => ({ color, value })),
    ],
  };
  defaults.color = { mode: spec.thresholds ? 'thresholds' : 'palette-classic' };
  const options: Record<string, unknown> =
    type === 'timeseries'
      ? {
          legend: { displayMode: 'list', placement: 'bottom', showLegend: true },
          tooltip: { mode: 'multi', sort: 'desc' },
        }
      : {
          reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
          orientation: 'horizontal',
          ...(type === 'stat'
            ? { colorMode: 'value', graphMode: 'area', textMode: 'auto' }
            : { displayMode: 'gradient' }),
        };
  return {
    id,
    type,
    title: spec.title,
    description: spec.description,
    datasource: DS,
    gridPos,
    fieldConfig: { defaults, overrides: [] },
    options,
    targets: spec.targets.map(([expr, legendFormat], i) => ({
      refId: String.fromCharCode(65 + i),
      datasource: DS,
      expr,
      legendFormat,
      range: !instant,
      instant,
      ...(instant ? { format: 'table' as const } : {}),
    })),
  };
}

export function buildDashboard(spec: DashboardSpec): GrafanaDashboard {
  const used = new Set(spec.panels.flatMap((p) => p.targets.flatMap(([expr]) => usedFilters(expr))));
  const declared = FILTER_LABELS.filter((name) => spec.filters.includes(name));
  const filtered = FILTER_LABELS.filter((name) => used.has(name));
  if (declared.join() !== filtered.join()) {
    throw new Error(
      `${spec.file}: the panels filter on [${filtered.join(', ')}] but the dashboard declares [${declared.join(', ')}]`,
    );
  }
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  const panels = spec.panels.map((p, i) => {
    const w = p.w ?? 12;
    const h = p.h ?? (p.type === 'stat' ? 4 : 8);
    if (x + w > 24) {
      x = 0;
      y += rowHeight;
      rowHeight = 0;
    }
    const panel = buildPanel(p, i + 1, { h, w, x, y });
    x += w;
    rowHeight = Math.max(rowHeight, h);
    return panel;
  });
  return {
    id: null,
    uid: spec.uid,
    title: spec.title,
    description: spec.description,
    tags: ['gatewayz'],
    editable: true,
    graphTooltip: 1,
    refresh: '30s',
    schemaVersion: 39,
    version: 1,
    time: { from: 'now-1h', to: 'now' },
    timepicker: {},
    timezone: 'browser',
    annotations: {
      list: [
        {
          builtIn: 1,
          datasource: { type: 'grafana', uid: '-- Grafana --' },
          enable: true,
          hide: true,
          iconColor: 'rgba(0, 211, 255, 1)',
          name: 'Annotations & Alerts',
          type: 'dashboard',
        },
      ],
    },
    links: [{ type: 'dashboards', tags: ['gatewayz'], asDropdown: true, title: 'Gatewayz dashboards' }],
    templating: { list: variables(spec.filters) },
    panels,
  };
}

const ERROR_THRESHOLDS: Array<[number, string]> = [
  [0.05, 'yellow'],
  [0.1, 'red'],
];

const HISTOGRAM_NOTE =
  'Estimated with histogram_quantile over the summed http_request_duration_seconds buckets of all selected instances (the classic _bucket series, or the native histogram when Prometheus runs with --enable-feature=native-histograms).';
const TTFT = 'model_time_to_first_token_seconds';
const TPOT = 'model_time_per_output_token_seconds';
const DURATION = 'model_request_duration_seconds';
const TTFT_NOTE =
  'Streamed calls only: estimated with histogram_quantile over the summed model_time_to_first_token_seconds buckets of all selected instances (classic _bucket series, or the native histogram with --enable-feature=native-histograms).';
const TPOT_NOTE =
  '(duration - time to first token) / (output tokens - 1), from the summed model_time_per_output_token_seconds histogram (classic or native).';
const GAUGE_NOTE =
  "The exporter's own gauge, computed per instance over its 5-minute window (NaN without traffic). Percentiles cannot be summed or averaged across instances: use the histogram panels for an aggregate.";

export const DASHBOARD_SPECS: DashboardSpec[] = [
  {
    file: 'overview.json',
    uid: 'gatewayz-overview',
    title: 'Gatewayz / Overview',
    description: 'System overview: targets, uptime, traffic, errors, latency, cache and the exporter self-metrics.',
    filters: ['endpoint'],
    panels: [
      {
        type: 'stat',
        title: 'Targets up',
        description:
          'Scrape targets of the selected jobs that Prometheus reached on its last scrape (the synthetic `up` series).',
        unit: 'short',
        targets: [['sum(up{job=~"$job",instance=~"$instance"})', 'up']],
        w: 4,
      },
      {
        type: 'stat',
        title: 'Uptime (youngest instance)',
        description: 'gatewayz_uptime_seconds of the most recently restarted instance.',
        unit: 's',
        targets: [[`min(${sel('gatewayz_uptime_seconds')})`, 'uptime']],
        w: 4,
      },
      {
        type: 'stat',
        title: 'Request rate',
        description: 'Requests per second across the selected instances and endpoints.',
        unit: 'reqps',
        targets: [[sumRate('', 'http_requests_total'), 'requests']],
        w: 4,
      },
      {
        type: 'stat',
        title: 'Error ratio',
        description: 'Failed requests / all requests; yellow above 5%, red above 10% (the health thresholds).',
        unit: 'percentunit',
        targets: [[ratio('', 'http_request_errors_total', 'http_requests_total'), 'errors']],
        thresholds: ERROR_THRESHOLDS,
        w: 4,
      },
      {
        type: 'stat',
        title: 'p99 latency',
        description: HISTOGRAM_NOTE,
        unit: 's',
        targets: [[quantile(0.99, ''), 'p99']],
        thresholds: [[1, 'red']],
        w: 4,
      },
      {
        type: 'stat',
        title: 'Cache hit ratio',
        description: 'Cache hits / lookups, from the summed counters of the selected instances.',
        unit: 'percentunit',
        targets: [[cacheHitRatio(''), 'hit ratio']],
        w: 4,
      },
      {
        title: 'Request rate by endpoint',
        description: 'Requests per second, summed across the selected instances.',
        unit: 'reqps',
        targets: [[sumRate('endpoint', 'http_requests_total'), '{{endpoint}}']],
      },
      {
        title: 'Latency percentiles (all instances)',
        description: HISTOGRAM_NOTE,
        unit: 's',
        targets: [
          [quantile(0.5, ''), 'p50'],
          [quantile(0.95, ''), 'p95'],
          [quantile(0.99, ''), 'p99'],
        ],
      },
      {
        title: 'Error ratio',
        description: 'Failed requests / all requests across the selected instances and endpoints.',
        unit: 'percentunit',
        min: 0,
        targets: [[ratio('', 'http_request_errors_total', 'http_requests_total'), 'error ratio']],
      },
      {
        title: 'Uptime by instance',
        description: 'Seconds since each instance started; a drop is a restart.',
        unit: 's',
        targets: [[sel('gatewayz_uptime_seconds'), '{{instance}}']],
      },
      {
        title: 'Dropped values by reason',
        description: 'Recorded values the collector refused (NaN, negative, …) per second.',
        unit: 'cps',
        targets: [[`sum by (reason) (rate(${sel('gatewayz_metrics_dropped_values_total')}[${RI}]))`, '{{reason}}']],
        w: 8,
      },
      {
        title: 'Label overflows by label',
        description: 'Records folded into __overflow__ per second because a label hit its cardinality cap.',
        unit: 'cps',
        targets: [[`sum by (label) (rate(${sel('gatewayz_metrics_label_overflow_total')}[${RI}]))`, '{{label}}']],
        w: 8,
      },
      {
        title: 'Series held by label',
        description: 'Distinct label values each instance currently holds, per label.',
        unit: 'short',
        targets: [[`max by (label) (${sel('gatewayz_metrics_series')})`, '{{label}}']],
        w: 8,
      },
    ],
  },
  {
    file: 'latency.json',
    uid: 'gatewayz-latency',
    title: 'Gatewayz / Latency',
    description:
      'Request latency: aggregated percentiles from the histogram, and the exporter percentile gauges per instance.',
    filters: ['endpoint'],
    panels: [
      {
        title: 'Latency percentiles (all instances)',
        description: HISTOGRAM_NOTE,
        unit: 's',
        targets: [
          [quantile(0.5, ''), 'p50'],
          [quantile(0.95, ''), 'p95'],
          [quantile(0.99, ''), 'p99'],
        ],
      },
      {
        title: 'p99 latency by endpoint (all instances)',
        description: HISTOGRAM_NOTE,
        unit: 's',
        targets: [[quantile(0.99, 'endpoint'), '{{endpoint}}']],
      },
      {
        title: 'Average latency by endpoint (all instances)',
        description:
          'Summed http_request_duration_seconds_sum rate / summed _count rate (with native histograms: histogram_sum / histogram_count).',
        unit: 's',
        targets: [[averageLatency('endpoint'), '{{endpoint}}']],
      },
      {
        title: 'Requests served within 250ms',
        description:
          'Share of requests in the le="0.25" histogram bucket, across the selected instances (with native histograms: histogram_fraction(0, 0.25, ...)).',
        unit: 'percentunit',
        min: 0,
        max: 1,
        targets: [[fractionWithin('0.25', 'endpoint'), '{{endpoint}}']],
      },
      {
        title: 'p99 latency per instance (exporter gauge)',
        description: GAUGE_NOTE,
        unit: 's',
        targets: [[sel('http_request_latency_p99_seconds'), '{{instance}} {{endpoint}}']],
      },
      {
        title: 'p95 latency per instance (exporter gauge)',
        description: GAUGE_NOTE,
        unit: 's',
        targets: [[sel('http_request_latency_p95_seconds'), '{{instance}} {{endpoint}}']],
      },
      {
        title: 'p50 latency per instance (exporter gauge)',
        description: GAUGE_NOTE,
        unit: 's',
        targets: [[sel('http_request_latency_p50_seconds'), '{{instance}} {{endpoint}}']],
      },
      {
        title: 'Average latency per instance (exporter gauge)',
        description: GAUGE_NOTE,
        unit: 's',
        targets: [[sel('http_request_latency_avg_seconds'), '{{instance}} {{endpoint}}']],
      },
      {
        title: 'Request rate by endpoint and method',
        description: 'Requests per second, summed across the selected instances.',
        unit: 'reqps',
        targets: [[sumRate('endpoint, method', 'http_requests_total'), '{{method}} {{endpoint}}']],
        w: 24,
      },
    ],
  },
  {
    file: 'errors.json',
    uid: 'gatewayz-errors',
    title: 'Gatewayz / Errors',
    description: 'Errors and response statuses. Ratios are computed from counters summed across instances.',
    filters: ['endpoint'],
    panels: [
      {
        type: 'stat',
        title: 'Error ratio',
        description: 'Failed requests / all requests; yellow above 5%, red above 10%.',
        unit: 'percentunit',
        targets: [[ratio('', 'http_request_errors_total', 'http_requests_total'), 'error ratio']],
        thresholds: ERROR_THRESHOLDS,
        w: 8,
      },
      {
        type: 'stat',
        title: 'Errors in time range',
        description: 'Failed requests during the selected time range.',
        unit: 'short',
        targets: [[`sum(increase(${sel('http_request_errors_total')}[$__range]))`, 'errors']],
        w: 8,
      },
      {
        type: 'stat',
        title: '5xx responses in time range',
        description: 'Responses with a 5xx status during the selected time range.',
        unit: 'short',
        targets: [[`sum(increase(${sel('http_response_status_total', ['status=~"5.."'])}[$__range]))`, '5xx']],
        w: 8,
      },
      {
        title: 'Error ratio by endpoint',
        description: 'Failed requests / all requests per endpoint, across the selected instances.',
        unit: 'percentunit',
        min: 0,
        targets: [[ratio('endpoint', 'http_request_errors_total', 'http_requests_total'), '{{endpoint}}']],
      },
      {
        title: 'Errors per second by endpoint and method',
        description: 'Failed requests per second.',
        unit: 'reqps',
        targets: [[sumRate('endpoint, method', 'http_request_errors_total'), '{{method}} {{endpoint}}']],
      },
      {
        title: '5xx responses per second by status',
        description: 'Server errors per second by status code.',
        unit: 'reqps',
        targets: [[sumRate('status', 'http_response_status_total', ['status=~"5.."']), '{{status}}']],
      },
      {
        title: 'Responses per second by status',
        description: 'All responses per second by status code.',
        unit: 'reqps',
        targets: [[sumRate('status', 'http_response_status_total'), '{{status}}']],
      },
    ],
  },
  {
    file: 'providers.json',
    uid: 'gatewayz-providers',
    title: 'Gatewayz / Providers',
    description: 'AI provider traffic, errors and latency.',
    filters: ['provider'],
    panels: [
      {
        title: 'Requests per second by provider',
        description: 'Requests routed to each provider, summed across the selected instances.',
        unit: 'reqps',
        targets: [[sumRate('provider', 'provider_requests_total'), '{{provider}}']],
      },
      {
        title: 'Error ratio by provider (all instances)',
        description:
          'Failed provider calls / all provider calls, from counters summed across instances. ProviderDown fires above 20%.',
        unit: 'percentunit',
        min: 0,
        targets: [[ratio('provider', 'provider_errors_total', 'provider_requests_total'), '{{provider}}']],
      },
      {
        type: 'bargauge',
        title: 'Current error ratio by provider',
        description: 'Failed provider calls / all provider calls now; red above the ProviderDown threshold of 20%.',
        unit: 'percentunit',
        min: 0,
        max: 1,
        thresholds: [
          [0.05, 'yellow'],
          [0.2, 'red'],
        ],
        targets: [[ratio('provider', 'provider_errors_total', 'provider_requests_total'), '{{provider}}']],
      },
      {
        title: 'Error rate per instance (exporter gauge)',
        description: "The exporter's provider_error_rate gauge, per instance.",
        unit: 'percentunit',
        min: 0,
        targets: [[sel('provider_error_rate'), '{{instance}} {{provider}}']],
      },
      {
        title: 'Average latency per instance',
        description:
          "The exporter's provider_latency_avg_seconds gauge, per instance (averages cannot be averaged again).",
        unit: 's',
        targets: [[sel('provider_latency_avg_seconds'), '{{instance}} {{provider}}']],
      },
      {
        title: 'Min / max latency per instance',
        description: 'provider_latency_min_seconds and provider_latency_max_seconds, per instance.',
        unit: 's',
        targets: [
          [sel('provider_latency_min_seconds'), 'min {{instance}} {{provider}}'],
          [sel('provider_latency_max_seconds'), 'max {{instance}} {{provider}}'],
        ],
      },
      {
        title: 'Errors per second by provider',
        description: 'Failed provider calls per second, summed across the selected instances.',
        unit: 'reqps',
        targets: [[sumRate('provider', 'provider_errors_total'), '{{provider}}']],
        w: 24,
      },
    ],
  },
  {
    file: 'models.json',
    uid: 'gatewayz-models',
    title: 'Gatewayz / Models',
    description: 'Per-model traffic, errors and latency.',
    filters: ['model'],
    panels: [
      {
        title: 'Requests per second by model',
        description: 'Requests per model, summed across the selected instances.',
        unit: 'reqps',
        targets: [[sumRate('model', 'model_requests_total'), '{{model}}']],
      },
      {
        type: 'bargauge',
        title: 'Top 10 models by request rate',
        description: 'The ten busiest models now.',
        unit: 'reqps',
        targets: [[`topk(10, ${sumRate('model', 'model_requests_total')})`, '{{model}}']],
      },
      {
        title: 'Error ratio by model (all instances)',
        description: 'Failed requests / all requests per model, from counters summed across instances.',
        unit: 'percentunit',
        min: 0,
        targets: [[ratio('model', 'model_errors_total', 'model_requests_total'), '{{model}}']],
      },
      {
        title: 'Error rate per instance (exporter gauge)',
        description: "The exporter's model_error_rate gauge, per instance.",
        unit: 'percentunit',
        min: 0,
        targets: [[sel('model_error_rate'), '{{instance}} {{model}}']],
      },
      {
        title: 'Average latency per instance',
        description: "The exporter's model_latency_avg_seconds gauge, per instance.",
        unit: 's',
        targets: [[sel('model_latency_avg_seconds'), '{{instance}} {{model}}']],
      },
      {
        title: 'Errors per second by model',
        description: 'Failed requests per model per second, summed across the selected instances.',
        unit: 'reqps',
        targets: [[sumRate('model', 'model_errors_total'), '{{model}}']],
      },
    ],
  },
  {
    file: 'cache.json',
    uid: 'gatewayz-cache',
    title: 'Gatewayz / Cache',
    description: 'Response cache hits and misses.',
    filters: [],
    panels: [
      {
        type: 'stat',
        title: 'Cache hit ratio',
        description: 'Hits / lookups across the selected instances; LowCacheHitRate fires below 50%.',
        unit: 'percentunit',
        targets: [[cacheHitRatio(''), 'hit ratio']],
        baseColor: 'red',
        thresholds: [[0.5, 'green']],
        w: 8,
      },
      {
        type: 'stat',
        title: 'Lookups in time range',
        description: 'Cache hits plus misses during the selected time range.',
        unit: 'short',
        targets: [
          [
            `sum(increase(${sel('cache_hits_total')}[$__range])) + sum(increase(${sel('cache_misses_total')}[$__range]))`,
            'lookups',
          ],
        ],
        w: 8,
      },
      {
        type: 'stat',
        title: 'Lookups per second',
        description: 'Cache hits plus misses per second.',
        unit: 'ops',
        targets: [[`${sumRate('', 'cache_hits_total')} + ${sumRate('', 'cache_misses_total')}`, 'lookups']],
        w: 8,
      },
      {
        title: 'Cache hit ratio (all instances)',
        description: 'Hits / lookups, from counters summed across instances.',
        unit: 'percentunit',
        min: 0,
        max: 1,
        targets: [[cacheHitRatio(''), 'hit ratio']],
      },
      {
        title: 'Hit rate per instance (exporter gauge)',
        description: "The exporter's cache_hit_rate gauge, per instance.",
        unit: 'percentunit',
        min: 0,
        max: 1,
        targets: [[sel('cache_hit_rate'), '{{instance}}']],
      },
      {
        title: 'Hits and misses per second',
        description: 'Cache hits and misses per second, summed across the selected instances.',
        unit: 'ops',
        targets: [
          [sumRate('', 'cache_hits_total'), 'hits'],
          [sumRate('', 'cache_misses_total'), 'misses'],
        ],
        w: 24,
      },
    ],
  },
  {
    file: 'database.json',
    uid: 'gatewayz-database',
    title: 'Gatewayz / Database & external APIs',
    description: 'Database queries and calls to external services.',
    filters: ['service'],
    panels: [
      {
        title: 'Database queries per second',
        description: 'Queries per second, per instance and in total.',
        unit: 'ops',
        targets: [
          [sumRate('instance', 'db_queries_total'), '{{instance}}'],
          [sumRate('', 'db_queries_total'), 'total'],
        ],
      },
      {
        title: 'Average query latency per instance',
        description: "The exporter's db_query_latency_avg_seconds gauge, per instance.",
        unit: 's',
        targets: [[sel('db_query_latency_avg_seconds'), '{{instance}}']],
      },
      {
        title: 'External API calls per second by service',
        description: 'Calls to each external service, summed across the selected instances.',
        unit: 'reqps',
        targets: [[sumRate('service', 'external_api_calls_total'), '{{service}}']],
      },
      {
        title: 'External API error ratio by service',
        description: 'Failed calls / all calls per service, from counters summed across instances.',
        unit: 'percentunit',
        min: 0,
        targets: [[ratio('service', 'external_api_errors_total', 'external_api_calls_total'), '{{service}}']],
      },
      {
        title: 'External API average latency per instance',
        description: "The exporter's external_api_latency_avg_seconds gauge, per instance.",
        unit: 's',
        targets: [[sel('external_api_latency_avg_seconds'), '{{instance}} {{service}}']],
      },
      {
        title: 'External API errors per second by service',
        description: 'Failed calls per second, summed across the selected instances.',
        unit: 'reqps',
        targets: [[sumRate('service', 'external_api_errors_total'), '{{service}}']],
      },
    ],
  },
  {
    file: 'ai-usage.json',
    uid: 'gatewayz-ai-usage',
    title: 'Gatewayz / AI usage',
    description:
      'Tokens, cost and streaming per provider and model (time to first token, time per output token), requests in flight, stream aborts and the top tenants by cost.',
    filters: ['provider', 'model'],
    panels: [
      {
        type: 'stat',
        title: 'Tokens per second',
        description: 'Input, output and cached input tokens per second across the selected providers and models.',
        unit: 'short',
        targets: [[sumRate('', 'model_tokens_total'), 'tokens/s']],
        w: 4,
      },
      {
        type: 'stat',
        title: 'Cost per hour',
        description: 'USD per hour at the current rate (model_cost_usd_total), across the selected instances.',
        unit: 'currencyUSD',
        targets: [[`${sumRate('', 'model_cost_usd_total')} * 3600`, 'USD/h']],
        w: 4,
      },
      {
        type: 'stat',
        title: 'Cost in time range',
        description: 'USD spent during the selected time range.',
        unit: 'currencyUSD',
        targets: [[`sum(increase(${sel('model_cost_usd_total')}[$__range]))`, 'USD']],
        w: 4,
      },
      {
        type: 'stat',
        title: 'Time to first token p95',
        description: `${TTFT_NOTE} HighTimeToFirstToken fires above 2 s for 10 minutes.`,
        unit: 's',
        targets: [[quantile(0.95, '', TTFT), 'p95']],
        thresholds: [[2, 'red']],
        w: 4,
      },
      {
        type: 'stat',
        title: 'Requests in flight',
        description: 'Model calls started and not yet finished (model_requests_in_flight, summed over instances).',
        unit: 'short',
        targets: [[`sum(${sel('model_requests_in_flight')})`, 'in flight']],
        w: 4,
      },
      {
        type: 'stat',
        title: 'Stream aborts in time range',
        description: 'Streamed answers the client left before the end, during the selected time range.',
        unit: 'short',
        targets: [[`sum(increase(${sel('model_stream_aborts_total')}[$__range]))`, 'aborts']],
        w: 4,
      },
      {
        title: 'Tokens per second by provider, model and type',
        description:
          'model_tokens_total per second, summed across the selected instances; type is input, output or cached_input.',
        unit: 'short',
        targets: [[sumRate('provider, model, type', 'model_tokens_total'), '{{provider}} {{model}} {{type}}']],
      },
      {
        title: 'Cost per hour by provider and model',
        description: 'USD per hour at the current rate, summed across the selected instances.',
        unit: 'currencyUSD',
        targets: [[`${sumRate('provider, model', 'model_cost_usd_total')} * 3600`, '{{provider}} {{model}}']],
      },
      {
        title: 'Time to first token percentiles (streamed, all instances)',
        description: TTFT_NOTE,
        unit: 's',
        targets: [
          [quantile(0.5, '', TTFT), 'p50'],
          [quantile(0.95, '', TTFT), 'p95'],
          [quantile(0.99, '', TTFT), 'p99'],
        ],
      },
      {
        title: 'Time to first token p95 by provider and model',
        description: TTFT_NOTE,
        unit: 's',
        targets: [[quantile(0.95, 'provider, model', TTFT), '{{provider}} {{model}}']],
      },
      {
        title: 'Time per output token percentiles (all instances)',
        description: `${TPOT_NOTE} Its inverse is the output speed in tokens per second.`,
        unit: 's',
        targets: [
          [quantile(0.5, '', TPOT), 'p50'],
          [quantile(0.95, '', TPOT), 'p95'],
          [quantile(0.99, '', TPOT), 'p99'],
        ],
      },
      {
        title: 'Average time per output token by provider and model',
        description: `${TPOT_NOTE} Summed _sum rate / summed _count rate (with native histograms: histogram_sum / histogram_count).`,
        unit: 's',
        targets: [[averageLatency('provider, model', TPOT), '{{provider}} {{model}}']],
      },
      {
        title: 'Model call duration p95 by provider and model',
        description:
          'Estimated with histogram_quantile over the summed model_request_duration_seconds buckets (whole call, to the last token), classic or native.',
        unit: 's',
        targets: [[quantile(0.95, 'provider, model', DURATION), '{{provider}} {{model}}']],
      },
      {
        title: 'Average time to first token by provider and model',
        description: `${TTFT_NOTE} Summed _sum rate / summed _count rate (with native histograms: histogram_sum / histogram_count).`,
        unit: 's',
        targets: [[averageLatency('provider, model', TTFT), '{{provider}} {{model}}']],
      },
      {
        title: 'Model calls per second by provider and model',
        description:
          'Completions per second, from the count of model_request_duration_seconds (with native histograms: histogram_count), with their average duration in the next panel.',
        unit: 'reqps',
        targets: [[observationRate('provider, model', DURATION), '{{provider}} {{model}}']],
      },
      {
        title: 'Average model call duration by provider and model',
        description:
          'Summed model_request_duration_seconds_sum rate / summed _count rate (with native histograms: histogram_sum / histogram_count).',
        unit: 's',
        targets: [[averageLatency('provider, model', DURATION), '{{provider}} {{model}}']],
      },
      {
        title: 'Requests in flight by provider',
        description: 'model_requests_in_flight, summed across the selected instances.',
        unit: 'short',
        targets: [[`sum by (provider) (${sel('model_requests_in_flight')})`, '{{provider}}']],
      },
      {
        title: 'Stream aborts per second by provider and model',
        description: 'Streamed answers the client left mid-stream (recorded once, as status 499), per second.',
        unit: 'cps',
        targets: [[sumRate('provider, model', 'model_stream_aborts_total'), '{{provider}} {{model}}']],
      },
      {
        type: 'bargauge',
        title: 'Top 10 tenants by cost per hour',
        description:
          'topk over the tenant_cost_usd_total rate, in USD per hour. Tenants are capped and expire when idle, so the long tail folds into __overflow__.',
        unit: 'currencyUSD',
        targets: [[`topk(10, ${sumRate('tenant', 'tenant_cost_usd_total')} * 3600)`, '{{tenant}}']],
      },
      {
        type: 'bargauge',
        title: 'Top 10 tenants by tokens per second',
        description: 'topk over the tenant_tokens_total rate, all token types together.',
        unit: 'short',
        targets: [[`topk(10, ${sumRate('tenant', 'tenant_tokens_total')})`, '{{tenant}}']],
      },
    ],
  },
];

/** File name → JSON text of every dashboard, exactly as committed. */
export function renderDashboards(): Map<string, string> {
  return new Map(DASHBOARD_SPECS.map((spec) => [spec.file, `${JSON.stringify(buildDashboard(spec), null, 2)}\n`]));
}

function main(argv: string[]): number {
  const check = argv.includes('--check');
  let stale = 0;
  for (const [file, text] of renderDashboards()) {
    const path = join(DASHBOARDS_DIR, file);
    if (check) {
      let current = '';
      try {
        current = readFileSync(path, 'utf8');
      } catch {}
      if (current !== text) {
        stale++;
        console.error(`${path} is out of date: run \`npx tsx scripts/generate-dashboards.ts\` in deploy/`);
      }
    } else {
      writeFileSync(path, text);
      console.log(`wrote ${path}`);
    }
  }
  return stale === 0 ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = main(process.argv);
