import { describeValue, getMetricsCollector, validateOptions } from '@gatewayz/metrics-core';
import { type MetricsSource, PrometheusExporter } from './exporter.js';
import type { MetricFamilyInfo } from './families.js';
import { formatValue } from './internal/escape.js';
import { EXPORTER_PACKAGE, invalidOption, PROM_CLIENT_OPTIONS } from './internal/options.js';
import { type FamilyWriter, type HistogramData, type LabelPairs, partsOf, walkFamilies } from './internal/walk.js';
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

/** Collects the walked families as prom-client `get()` values: raw label values, which prom-client escapes itself. */
class PromClientWriter implements FamilyWriter<Record<string, string>> {
  readonly families = new Map<string, PromValue[]>();
  private name = '';
  private values: PromValue[] = [];

  labels(base: LabelPairs, names: readonly string[], values: readonly string[]): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of base) out[k] = v;
    for (let i = 0; i < names.length; i++) out[names[i]!] = values[i] ?? '';
    return out;
  }

  family(info: MetricFamilyInfo): void {
    this.name = info.name;
    let values = this.families.get(info.name);
    if (!values) {
      values = [];
      this.families.set(info.name, values);
    }
    this.values = values;
  }

  sample(labels: Record<string, string>, value: number): void {
    this.values.push({ labels, value, metricName: this.name });
  }

  histogram(labels: Record<string, string>, h: HistogramData): void {
    const name = this.name;
    let cumulative = 0;
    for (let i = 0; i <= h.bounds.length; i++) {
      cumulative += h.buckets[i] ?? 0;
      const le = i < h.bounds.length ? formatValue(h.bounds[i]!) : '+Inf';
      this.values.push({ labels: { ...labels, le }, value: cumulative, metricName: `${name}_bucket` });
    }
    this.values.push({ labels, value: h.sum, metricName: `${name}_sum` });
    this.values.push({ labels, value: cumulative, metricName: `${name}_count` });
  }

  endFamily(): void {}
}

/** Our families of one scrape, walked straight from the state (no text in between). */
async function readFamilies(exporter: PrometheusExporter): Promise<Map<string, PromValue[]>> {
  const source = exporter.source;
  const state = await source.state();
  const w = new PromClientWriter();
  for (const _ of walkFamilies(partsOf(state), exporter.self, w)) {
    // One pass; the walk's yield points are not needed here.
  }
  return w.families;
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
    throw invalidOption(
      `registerPromClientMetrics needs a prom-client Registry (with registerMetric()), got ${describeValue(registry)}`,
    );
  }
  validateOptions(options, PROM_CLIENT_OPTIONS, EXPORTER_PACKAGE);
  const exporter = options.exporter ?? new PrometheusExporter(options.collector ?? getMetricsCollector());
  let pending: Promise<Map<string, PromValue[]>> | undefined;
  const scrape = () => {
    if (!pending) {
      pending = readFamilies(exporter);
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
