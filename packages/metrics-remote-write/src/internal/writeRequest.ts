import { formatValue } from '@gatewayz/metrics-exporter';
import type { BucketSpan, DecodedFamily, DecodedHistogram } from './exposition.js';
import { ProtoWriter } from './protoWriter.js';

/** A remote-write native histogram (`prometheus.Histogram`, integer counts). */
export interface NativeHistogramSample {
  count: number;
  sum: number;
  schema: number;
  zeroThreshold: number;
  zeroCount: number;
  positiveSpans: BucketSpan[];
  positiveDeltas: number[];
  negativeSpans: BucketSpan[];
  negativeDeltas: number[];
  timestampMs: number;
}

/** One `prometheus.TimeSeries`: labels sorted by name (so `__name__` comes first), one sample or one histogram. */
export interface TimeSeries {
  labels: [string, string][];
  samples: { value: number; timestampMs: number }[];
  histograms: NativeHistogramSample[];
}

export interface ConvertOptions {
  /** Added to every series that does not already have the label. */
  externalLabels: Readonly<Record<string, string>>;
  /** Also send native histograms as remote-write `Histogram`s. */
  nativeHistograms: boolean;
  timestampMs: number;
}

const byName = (a: [string, string], b: [string, string]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

/**
 * Turns decoded exposition families into remote-write series: counters, gauges and untyped as one sample,
 * summaries as `{quantile}` + `_sum` + `_count`, histograms as classic `_bucket{le}` (cumulative, ending in
 * `+Inf`) + `_sum` + `_count`, and, when asked, a native histogram under the family name.
 */
export function toTimeSeries(families: readonly DecodedFamily[], options: ConvertOptions): TimeSeries[] {
  const out: TimeSeries[] = [];
  const ts = options.timestampMs;
  const external = Object.entries(options.externalLabels);
  const series = (name: string, labels: readonly [string, string][], value: number, extra?: [string, string]) => {
    const all: [string, string][] = [['__name__', name], ...labels];
    if (extra) all.push(extra);
    for (const [k, v] of external) if (!all.some((l) => l[0] === k)) all.push([k, v]);
    all.sort(byName);
    out.push({ labels: all, samples: [{ value, timestampMs: ts }], histograms: [] });
  };
  for (const fam of families) {
    for (const m of fam.metrics) {
      const at = m.timestampMs ?? ts;
      if (m.histogram) {
        const h = m.histogram;
        classicHistogram(fam.name, m.labels, h, series);
        if (options.nativeHistograms && h.native) {
          const all: [string, string][] = [['__name__', fam.name], ...m.labels];
          for (const [k, v] of external) if (!all.some((l) => l[0] === k)) all.push([k, v]);
          all.sort(byName);
          out.push({
            labels: all,
            samples: [],
            histograms: [{ count: h.count, sum: h.sum, ...h.native, timestampMs: at }],
          });
        }
      } else if (m.summary) {
        for (const q of m.summary.quantiles) series(fam.name, m.labels, q.value, ['quantile', formatValue(q.quantile)]);
        series(`${fam.name}_sum`, m.labels, m.summary.sum);
        series(`${fam.name}_count`, m.labels, m.summary.count);
      } else if (m.value !== undefined) {
        series(fam.name, m.labels, m.value);
      }
    }
  }
  return out;
}

function classicHistogram(
  name: string,
  labels: readonly [string, string][],
  h: DecodedHistogram,
  series: (name: string, labels: readonly [string, string][], value: number, extra?: [string, string]) => void,
): void {
  let sawInf = false;
  for (const b of h.buckets) {
    if (b.upperBound === Number.POSITIVE_INFINITY) sawInf = true;
    series(`${name}_bucket`, labels, b.cumulativeCount, ['le', formatValue(b.upperBound)]);
  }
  if (!sawInf) series(`${name}_bucket`, labels, h.count, ['le', '+Inf']);
  series(`${name}_sum`, labels, h.sum);
  series(`${name}_count`, labels, h.count);
}

/** `prometheus.MetricMetadata.MetricType`. */
const METADATA_TYPE = { counter: 1, gauge: 2, histogram: 3, gaugehistogram: 4, summary: 5, untyped: 0 } as const;

function writeSpans(w: ProtoWriter, field: number, spans: readonly BucketSpan[]): void {
  for (const s of spans) {
    w.message(field, (sp) => {
      if (s.offset !== 0) sp.sint(1, s.offset);
      if (s.length !== 0) sp.uint(2, s.length);
    });
  }
}

/**
 * Encodes a `prometheus.WriteRequest` (remote write 1.0): field 1 the series, field 3 one metadata entry
 * per family (type and help, which Prometheus and Mimir show in their metadata APIs).
 */
export function encodeWriteRequest(series: readonly TimeSeries[], families: readonly DecodedFamily[] = []): Uint8Array {
  const w = new ProtoWriter();
  for (const s of series) {
    w.message(1, (t) => {
      for (const [k, v] of s.labels) {
        t.message(1, (l) => {
          l.string(1, k);
          l.string(2, v);
        });
      }
      for (const sample of s.samples) {
        t.message(2, (x) => {
          x.double(1, sample.value);
          x.int64(2, sample.timestampMs);
        });
      }
      for (const h of s.histograms) {
        t.message(4, (x) => {
          x.uint(1, h.count);
          x.double(3, h.sum);
          x.sint(4, h.schema);
          x.double(5, h.zeroThreshold);
          x.uint(6, h.zeroCount);
          writeSpans(x, 8, h.negativeSpans);
          x.packedSint(9, h.negativeDeltas);
          writeSpans(x, 11, h.positiveSpans);
          x.packedSint(12, h.positiveDeltas);
          x.int64(15, h.timestampMs);
        });
      }
    });
  }
  for (const f of families) {
    w.message(3, (m) => {
      m.uint(1, METADATA_TYPE[f.type]);
      m.string(2, f.name);
      m.string(4, f.help);
    });
  }
  return w.finish();
}

/** The number of samples (float samples plus histograms) in a list of series. */
export function sampleCount(series: readonly TimeSeries[]): number {
  let n = 0;
  for (const s of series) n += s.samples.length + s.histograms.length;
  return n;
}
