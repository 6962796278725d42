import { type CollectorState, type MetricsSnapshot, summarizeState } from '@gatewayz/metrics-core';
import type { HealthThresholds } from '@gatewayz/metrics-core';
import { type ExpositionFormat, negotiateFormat } from './negotiate.js';
import { renderProtobuf } from './protobufFormat.js';
import { type ExporterSelfState, renderChunks, renderText } from './textFormat.js';

/** Anything that yields a collector state: a `MetricsCollector`, or an aggregator of several. */
export interface MetricsSource {
  /** The state to render; a cluster aggregator returns it asynchronously. */
  state(): CollectorState | Promise<CollectorState>;
  options?: { health?: HealthThresholds };
}

export interface PrometheusExporterOptions {
  /**
   * Serialise in chunks and yield to the event loop between them when the output is large, in
   * {@link PrometheusExporter.exportAsync}. @default true
   */
  yieldBetweenChunks?: boolean;
  /**
   * Concurrent scrapes within this many milliseconds share one rendering (per format). 0 disables. @default 0
   */
  cacheMs?: number;
}

/** Renders a collector's metrics as Prometheus text 0.0.4, OpenMetrics 1.0 or JSON. */
export class PrometheusExporter {
  readonly source: MetricsSource;
  private readonly options: Required<PrometheusExporterOptions>;
  /** Counters the exporter owns, rendered as `gatewayz_metrics_admin_refusals_total`. */
  readonly self: ExporterSelfState = { refusals: {} };
  private readonly cache = new Map<ExpositionFormat, { at: number; body: Promise<string> }>();

  constructor(source: MetricsSource, options: PrometheusExporterOptions = {}) {
    if (!source || typeof source.state !== 'function') {
      throw new TypeError('@gatewayz/metrics-exporter: PrometheusExporter needs a MetricsCollector (or any object with state())');
    }
    const cacheMs = options.cacheMs ?? 0;
    if (typeof cacheMs !== 'number' || !(cacheMs >= 0)) throw new TypeError('@gatewayz/metrics-exporter: cacheMs must be >= 0');
    this.source = source;
    this.options = { yieldBetweenChunks: options.yieldBetweenChunks ?? true, cacheMs };
  }

  private syncState(): CollectorState {
    const s = this.source.state();
    if (typeof (s as Promise<CollectorState>).then === 'function') {
      throw new TypeError('@gatewayz/metrics-exporter: this source is asynchronous; use exportAsync()');
    }
    return s as CollectorState;
  }

  /** Prometheus text format 0.0.4. */
  export(): string {
    return renderText(this.syncState(), 'text', this.self);
  }

  /** OpenMetrics 1.0 text, ending with `# EOF`. */
  exportOpenMetrics(): string {
    return renderText(this.syncState(), 'openmetrics', this.self);
  }

  /** Either format, rendered in chunks that yield to the event loop so a large scrape does not block it. */
  exportAsync(format: ExpositionFormat = 'text'): Promise<string> {
    const { cacheMs } = this.options;
    if (cacheMs > 0) {
      const hit = this.cache.get(format);
      const now = Date.now();
      if (hit && now - hit.at < cacheMs) return hit.body;
      const body = this.renderAsync(format);
      this.cache.set(format, { at: now, body });
      return body;
    }
    return this.renderAsync(format);
  }

  private async renderAsync(format: ExpositionFormat): Promise<string> {
    const state = await this.source.state();
    let out = '';
    let first = true;
    for (const chunk of renderChunks(state, format, this.self)) {
      if (!first && this.options.yieldBetweenChunks) await new Promise<void>((r) => setImmediate(r));
      first = false;
      out += chunk;
    }
    return format === 'openmetrics' ? `${out}# EOF\n` : out;
  }

  /** Delimited protobuf `MetricFamily` messages, with native-histogram buckets on `http_request_duration_seconds`. */
  async exportProtobuf(): Promise<Buffer> {
    const bytes = renderProtobuf(await this.source.state(), this.self);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Picks the format from an `Accept` header. */
  exportFor(accept: string | string[] | undefined): { body: string; contentType: string } {
    const { format, contentType } = negotiateFormat(accept);
    return { body: format === 'openmetrics' ? this.exportOpenMetrics() : this.export(), contentType };
  }

  /** The JSON view served at `/metrics/json`: the collector's snapshot. */
  snapshot(): MetricsSnapshot {
    return summarizeState(this.syncState(), this.source.options?.health);
  }

  /** {@link snapshot} for synchronous and asynchronous sources alike. */
  async snapshotAsync(): Promise<MetricsSnapshot> {
    return summarizeState(await this.source.state(), this.source.options?.health);
  }

  /** Counts a refused admin or scrape request under `reason`. */
  countRefusal(reason: string): void {
    this.self.refusals[reason] = (this.self.refusals[reason] ?? 0) + 1;
  }
}
