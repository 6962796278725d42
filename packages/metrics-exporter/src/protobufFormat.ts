import { type CollectorState, type Exemplar, SKETCH_ZERO_THRESHOLD } from '@gatewayz/metrics-core';
import type { MetricFamilyInfo } from './families.js';
import { writeExemplar } from './internal/exemplarProto.js';
import { ProtoWriter } from './internal/protoWriter.js';
import {
  type ExporterSelfState,
  type FamilyWriter,
  type HistogramData,
  type LabelPairs,
  partsOf,
  type StatePart,
  walkFamilies,
} from './internal/walk.js';

const TYPE = { counter: 0, gauge: 1, histogram: 4 } as const;

/** Writes `io.prometheus.client.MetricFamily` messages; histograms carry classic and native buckets. */
class ProtobufWriter implements FamilyWriter<Uint8Array> {
  readonly out = new ProtoWriter();
  private info: MetricFamilyInfo | undefined;
  private metrics: Uint8Array[] = [];
  /** One reused writer for label sets and metrics, each copied out with `slice()`. */
  private readonly scratch = new ProtoWriter(4096);

  labels(pairs: LabelPairs): Uint8Array {
    const w = this.scratch;
    w.reset();
    for (const [k, v] of pairs) {
      w.message(1, (p) => {
        p.string(1, k);
        p.string(2, v);
      });
    }
    return w.finish().slice();
  }

  family(info: MetricFamilyInfo): void {
    this.info = info;
    this.metrics = [];
  }

  sample(labels: Uint8Array, value: number, exemplar?: Exemplar): void {
    const m = this.scratch;
    m.reset();
    m.raw(labels);
    const counter = this.info?.type === 'counter';
    m.message(counter ? 3 : 2, (v) => {
      v.double(1, value);
      if (counter && exemplar !== undefined) writeExemplar(v, 2, exemplar);
    });
    this.metrics.push(m.finish().slice());
  }

  histogram(labels: Uint8Array, h: HistogramData): void {
    const m = this.scratch;
    m.reset();
    m.raw(labels);
    m.message(7, (w) => {
      let count = 0;
      for (const c of h.buckets) count += c;
      w.uint(1, count);
      w.double(2, h.sum);
      let cumulative = 0;
      for (let i = 0; i < h.bounds.length; i++) {
        cumulative += h.buckets[i] ?? 0;
        w.message(3, (b) => {
          b.uint(1, cumulative);
          b.double(2, h.bounds[i]!);
          // The +Inf bucket is implied by the count here, so its exemplar has no bucket to go in.
          if (h.exemplars) writeExemplar(b, 3, h.exemplars[i]);
        });
      }
      const s = h.native;
      if (s) {
        w.sint(5, s.scale);
        w.double(6, SKETCH_ZERO_THRESHOLD);
        w.uint(7, s.zeroCount);
        // Spans of consecutive buckets (short runs of empty buckets are kept inside a span), then deltas.
        const spans: [number, number][] = [];
        const counts: number[] = [];
        let prevEnd = 0;
        let spanStart = Number.NaN;
        let spanLen = 0;
        let gap = 0;
        for (const [index, c] of s.buckets()) {
          if (spanLen > 0 && index - (spanStart + spanLen) <= 2) {
            while (spanStart + spanLen < index) {
              counts.push(0);
              spanLen++;
            }
          } else {
            if (spanLen > 0) {
              spans.push([gap, spanLen]);
              prevEnd = spanStart + spanLen;
            }
            gap = spans.length === 0 ? index : index - prevEnd;
            spanStart = index;
            spanLen = 0;
          }
          counts.push(c);
          spanLen++;
        }
        if (spanLen > 0) spans.push([gap, spanLen]);
        if (spans.length === 0) {
          // An empty native histogram still needs a span list to be recognised as native: one empty span.
          w.message(12, (sp) => {
            sp.sint(1, 0);
            sp.uint(2, 0);
          });
        }
        for (const [offset, length] of spans) {
          w.message(12, (sp) => {
            sp.sint(1, offset);
            sp.uint(2, length);
          });
        }
        let prev = 0;
        for (const c of counts) {
          w.sint(13, c - prev);
          prev = c;
        }
      }
    });
    this.metrics.push(m.finish().slice());
  }

  endFamily(): void {
    const info = this.info;
    if (!info) return;
    const f = new ProtoWriter();
    f.string(1, info.name);
    f.string(2, info.help);
    f.uint(3, TYPE[info.type]);
    for (const m of this.metrics) f.bytes(4, m);
    this.out.delimited(f.finish());
    this.info = undefined;
    this.metrics = [];
  }
}

/**
 * The exposition as delimited protobuf `MetricFamily` messages, the format Prometheus asks for when
 * native histograms are enabled. `http_request_duration_seconds` carries both its classic buckets
 * and its native-histogram buckets (the collector's cumulative sketch, schema = sketch scale).
 */
export function renderProtobuf(
  state: CollectorState | readonly StatePart[],
  self: ExporterSelfState = { refusals: {} },
): Uint8Array {
  const gen = protobufSlices(state, self);
  let r = gen.next();
  while (!r.done) r = gen.next();
  return r.value;
}

/**
 * {@link renderProtobuf} as a generator that pauses at the walk's yield points (every 128 series or
 * so), for an async caller to give the event loop back; returns the same bytes.
 */
export function* protobufSlices(
  state: CollectorState | readonly StatePart[],
  self: ExporterSelfState = { refusals: {} },
): Generator<void, Uint8Array, undefined> {
  const w = new ProtobufWriter();
  yield* walkFamilies(partsOf(state), self, w);
  return w.out.finish();
}
