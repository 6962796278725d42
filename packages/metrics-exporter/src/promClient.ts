import { getMetricsCollector } from '@gatewayz/metrics-core';
import { type MetricsSource, PrometheusExporter } from './exporter.js';
import { METRIC_FAMILIES } from './textFormat.js';

/** The part of a prom-client `Registry` this module uses (prom-client 15). */
export interface PromClientRegistryLike {
  registerMetric(metric: any): void;
  removeSingleMetric?(name: string): void;
}

export interface PromClientMetricsOptions {
  /** Where the metrics come from. @default getMetricsCollector() */
  collector?: MetricsSource;
  /** Use this exporter instead of creating one over `collector`. */
  exporter?: PrometheusExporter;
}

interface PromValue {
  labels: Record<string, string>;
  value: number;
  metricName?: string;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
const unescapeValue = (s: string) => s.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
const number = (s: string) =>
  s === '+Inf' ? Number.POSITIVE_INFINITY : s === '-Inf' ? Number.NEGATIVE_INFINITY : Number(s);

/** Samples of our 0.0.4 text exposition, grouped by the family of the `# TYPE` line above them. */
function parseFamilies(text: string): Map<string, PromValue[]> {
  const families = new Map<string, PromValue[]>();
  let current: PromValue[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('# TYPE ')) {
      current = [];
      families.set(line.split(' ')[2] ?? '', current);
      continue;
    }
    const m = line.startsWith('#') ? null : SAMPLE.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1]!] = unescapeValue(l[2]!);
    current.push({ labels, value: number(m[3]!), metricName: m[1]! });
  }
  return families;
}

/**
 * Registers every gatewayz metric family into a prom-client `Registry`, so that the `/metrics` you already
 * serve with `register.metrics()` (or `Registry.merge([...])`) includes them. Each family is a metric
 * object whose `get()` reads the collector at scrape time; the families of one scrape share one rendering.
 * Returns a function that removes them again.
 *
 * ```ts
 * import { register } from 'prom-client';
 * registerPromClientMetrics(register);
 * ```
 */
export function registerPromClientMetrics(
  registry: PromClientRegistryLike,
  options: PromClientMetricsOptions = {},
): () => void {
  if (!registry || typeof registry.registerMetric !== 'function') {
    throw new TypeError('@gatewayz/metrics-exporter: registerPromClientMetrics needs a prom-client Registry');
  }
  const exporter = options.exporter ?? new PrometheusExporter(options.collector ?? getMetricsCollector());
  let pending: Promise<Map<string, PromValue[]>> | undefined;
  const scrape = () => {
    if (!pending) {
      pending = exporter.exportAsync('text').then(parseFamilies);
      queueMicrotask(() => {
        pending = undefined;
      });
    }
    return pending;
  };
  const names: string[] = [];
  for (const family of Object.values(METRIC_FAMILIES)) {
    const metric = {
      name: family.name,
      help: family.help,
      type: family.type,
      aggregator: 'sum',
      async get() {
        const values = (await scrape()).get(family.name) ?? [];
        // prom-client names OpenMetrics counters itself (it strips `_total` from `name` and appends it).
        const plain = metric.type === 'counter' ? values.map(({ labels, value }) => ({ labels, value })) : values;
        return { name: metric.name, help: family.help, type: family.type, aggregator: 'sum', values: plain };
      },
    };
    registry.registerMetric(metric);
    names.push(family.name);
  }
  return () => {
    for (const name of names) registry.removeSingleMetric?.(name);
  };
}
