import { ProtoReader } from './protoReader.js';

/** `io.prometheus.client.MetricType`. */
export type ClientMetricType = 'counter' | 'gauge' | 'summary' | 'untyped' | 'histogram' | 'gaugehistogram';
const CLIENT_TYPES: readonly ClientMetricType[] = [
  'counter',
  'gauge',
  'summary',
  'untyped',
  'histogram',
  'gaugehistogram',
];

export interface BucketSpan {
  offset: number;
  length: number;
}

export interface DecodedHistogram {
  count: number;
  sum: number;
  /** Classic buckets: cumulative count and upper bound. */
  buckets: { cumulativeCount: number; upperBound: number }[];
  /** Present when the histogram carries native buckets (a schema, a zero threshold or spans were sent). */
  native?: {
    schema: number;
    zeroThreshold: number;
    zeroCount: number;
    positiveSpans: BucketSpan[];
    positiveDeltas: number[];
    negativeSpans: BucketSpan[];
    negativeDeltas: number[];
  };
}

export interface DecodedMetric {
  labels: [string, string][];
  value?: number;
  summary?: { count: number; sum: number; quantiles: { quantile: number; value: number }[] };
  histogram?: DecodedHistogram;
  timestampMs?: number;
}

export interface DecodedFamily {
  name: string;
  help: string;
  type: ClientMetricType;
  metrics: DecodedMetric[];
}

function numberOf(r: ProtoReader): number {
  let v = 0;
  while (!r.done) {
    const [f, w] = r.tag();
    if (f === 1 && w === 1) v = r.double();
    else r.skip(w);
  }
  return v;
}

function spanOf(r: ProtoReader): BucketSpan {
  const s = { offset: 0, length: 0 };
  while (!r.done) {
    const [f, w] = r.tag();
    if (f === 1) s.offset = r.svarint();
    else if (f === 2) s.length = r.varint();
    else r.skip(w);
  }
  return s;
}

function histogramOf(r: ProtoReader): DecodedHistogram {
  const h: DecodedHistogram = { count: 0, sum: 0, buckets: [] };
  let countFloat: number | undefined;
  let isNative = false;
  const n = {
    schema: 0,
    zeroThreshold: 0,
    zeroCount: 0,
    positiveSpans: [] as BucketSpan[],
    positiveDeltas: [] as number[],
    negativeSpans: [] as BucketSpan[],
    negativeDeltas: [] as number[],
  };
  while (!r.done) {
    const [f, w] = r.tag();
    switch (f) {
      case 1:
        h.count = r.varint();
        break;
      case 4:
        countFloat = r.double();
        break;
      case 2:
        h.sum = r.double();
        break;
      case 3: {
        const b = r.sub();
        const bucket = { cumulativeCount: 0, upperBound: 0 };
        while (!b.done) {
          const [bf, bw] = b.tag();
          if (bf === 1) bucket.cumulativeCount = b.varint();
          else if (bf === 4) bucket.cumulativeCount = b.double();
          else if (bf === 2) bucket.upperBound = b.double();
          else b.skip(bw);
        }
        h.buckets.push(bucket);
        break;
      }
      case 5:
        n.schema = r.svarint();
        isNative = true;
        break;
      case 6:
        n.zeroThreshold = r.double();
        isNative = true;
        break;
      case 7:
        n.zeroCount = r.varint();
        break;
      case 9:
        n.negativeSpans.push(spanOf(r.sub()));
        isNative = true;
        break;
      case 10:
        r.repeated(w, (x) => x.svarint(), n.negativeDeltas);
        break;
      case 12:
        n.positiveSpans.push(spanOf(r.sub()));
        isNative = true;
        break;
      case 13:
        r.repeated(w, (x) => x.svarint(), n.positiveDeltas);
        break;
      default:
        r.skip(w);
    }
  }
  if (countFloat !== undefined && h.count === 0) h.count = countFloat;
  if (isNative) h.native = n;
  return h;
}

function summaryOf(r: ProtoReader): NonNullable<DecodedMetric['summary']> {
  const s: NonNullable<DecodedMetric['summary']> = { count: 0, sum: 0, quantiles: [] };
  while (!r.done) {
    const [f, w] = r.tag();
    if (f === 1) s.count = r.varint();
    else if (f === 2) s.sum = r.double();
    else if (f === 3) {
      const q = r.sub();
      const quantile = { quantile: 0, value: 0 };
      while (!q.done) {
        const [qf, qw] = q.tag();
        if (qf === 1) quantile.quantile = q.double();
        else if (qf === 2) quantile.value = q.double();
        else q.skip(qw);
      }
      s.quantiles.push(quantile);
    } else r.skip(w);
  }
  return s;
}

function metricOf(r: ProtoReader): DecodedMetric {
  const m: DecodedMetric = { labels: [] };
  while (!r.done) {
    const [f, w] = r.tag();
    switch (f) {
      case 1: {
        const l = r.sub();
        let name = '';
        let value = '';
        while (!l.done) {
          const [lf, lw] = l.tag();
          if (lf === 1) name = l.string();
          else if (lf === 2) value = l.string();
          else l.skip(lw);
        }
        m.labels.push([name, value]);
        break;
      }
      case 2:
      case 3:
      case 5:
        m.value = numberOf(r.sub());
        break;
      case 4:
        m.summary = summaryOf(r.sub());
        break;
      case 7:
        m.histogram = histogramOf(r.sub());
        break;
      case 6:
        m.timestampMs = r.int64();
        break;
      default:
        r.skip(w);
    }
  }
  return m;
}

/**
 * Decodes the protobuf exposition: varint-delimited `io.prometheus.client.MetricFamily` messages, as
 * `PrometheusExporter.exportProtobuf()` returns them (and as any Prometheus client serves them).
 */
export function decodeExposition(bytes: Uint8Array): DecodedFamily[] {
  const out: DecodedFamily[] = [];
  const top = new ProtoReader(bytes);
  while (!top.done) {
    const r = top.sub();
    const fam: DecodedFamily = { name: '', help: '', type: 'counter', metrics: [] };
    while (!r.done) {
      const [f, w] = r.tag();
      if (f === 1) fam.name = r.string();
      else if (f === 2) fam.help = r.string();
      else if (f === 3) fam.type = CLIENT_TYPES[r.varint()] ?? 'untyped';
      else if (f === 4) fam.metrics.push(metricOf(r.sub()));
      else r.skip(w);
    }
    out.push(fam);
  }
  return out;
}
