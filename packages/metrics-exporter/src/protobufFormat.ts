import { type CollectorState, type Exemplar, SKETCH_ZERO_THRESHOLD } from '@gatewayz/metrics-core';
import type { MetricFamilyInfo } from './families.js';
import { writeExemplar } from './internal/exemplarProto.js';
import { labelPair, ProtoWriter } from './internal/protoWriter.js';
import { RENDER_SLABS } from './internal/slabPool.js';
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

/** Metric messages are cut into chunks of about this many bytes, so no step copies a whole family at once. */
const CHUNK = 64 * 1024;
/** A slab goes on taking chunks while it has room for one more and for the metric that fills it. */
const CHUNK_ROOM = CHUNK + 4096;

/** One `MetricFamily`: its header, and its `metric` fields (tag, length, message) in chunks. */
interface Group {
  info: MetricFamilyInfo;
  chunks: Uint8Array[];
  bytes: number;
}

/**
 * Writes `io.prometheus.client.MetricFamily` messages; histograms carry classic and native buckets.
 * Each metric is written straight into a chunk of its family's body; a family's header (its length
 * prefix, name, help and type) is written only when the output is assembled, once the body's length
 * is known. With `grouped`, a family written again (a later slice of endpoints) continues its earlier
 * group, as the grouped text writer does; families come out in the order first written.
 */
export class ProtobufWriter implements FamilyWriter<Uint8Array> {
  private readonly groups: Group[] = [];
  private readonly byName = new Map<string, Group>();
  private current: Group | undefined;
  /**
   * Metrics are written into slabs from {@link RENDER_SLABS}; `flush()` hands the current family a view of what it
   * wrote since the last flush (no copy, and no ArrayBuffer per flush), and a full slab is followed by another. The
   * slabs go back to the pool once `assemble()` has copied them out: use a writer for one render.
   */
  private readonly slabs: Buffer[] = [RENDER_SLABS.take()];
  private readonly body = new ProtoWriter(this.slabs[0]);
  /** One reused writer for label sets, each copied out with `slice()`. */
  private readonly scratch = new ProtoWriter(4096);

  constructor(private readonly grouped = false) {}

  labels(base: LabelPairs, names: readonly string[], values: readonly string[]): Uint8Array {
    const w = this.scratch;
    w.reset();
    for (const [k, v] of base) labelPair(w, k, v);
    for (let i = 0; i < names.length; i++) labelPair(w, names[i]!, values[i] ?? '');
    return w.copy();
  }

  family(info: MetricFamilyInfo): void {
    this.flush();
    const known = this.grouped ? this.byName.get(info.name) : undefined;
    if (known) {
      this.current = known;
      return;
    }
    const g: Group = { info, chunks: [], bytes: 0 };
    this.groups.push(g);
    if (this.grouped) this.byName.set(info.name, g);
    this.current = g;
  }

  sample(labels: Uint8Array, value: number, exemplar?: Exemplar): void {
    const counter = this.current?.info.type === 'counter';
    const m = this.body;
    const metric = m.open(4);
    m.raw(labels);
    const v = m.open(counter ? 3 : 2);
    m.double(1, value);
    if (counter && exemplar !== undefined) writeExemplar(m, 2, exemplar);
    m.close(v);
    m.close(metric);
    if (m.pending >= CHUNK) this.flush();
  }

  histogram(labels: Uint8Array, h: HistogramData): void {
    const m = this.body;
    const metric = m.open(4);
    m.raw(labels);
    const hist = m.open(7);
    writeHistogram(m, h);
    m.close(hist);
    m.close(metric);
    if (m.pending >= CHUNK) this.flush();
  }

  endFamily(): void {
    this.flush();
    this.current = undefined;
  }

  /** Moves the pending metrics into the current family's chunks. */
  flush(): void {
    const g = this.current;
    if (g === undefined || this.body.pending === 0) return;
    const chunk = this.body.take();
    g.chunks.push(chunk);
    g.bytes += chunk.length;
    if (this.body.room < CHUNK_ROOM) {
      const slab = RENDER_SLABS.take();
      this.slabs.push(slab);
      this.body.renew(slab);
    }
  }

  /**
   * Copies {@link pieces} into one buffer. Pauses after each piece, so an async caller can yield between copies;
   * returns the whole exposition.
   */
  *assemble(): Generator<void, Uint8Array, undefined> {
    const all = [...this.pieces()];
    let total = 0;
    for (const p of all) total += p.length;
    // Not from Buffer's shared pool: the result's `.buffer` holds this exposition and nothing else.
    const b = Buffer.allocUnsafeSlow(total);
    const out = new Uint8Array(b.buffer, b.byteOffset, total);
    let at = 0;
    for (const p of all) {
      out.set(p, at);
      at += p.length;
      yield;
    }
    this.release();
    return out;
  }

  /**
   * The exposition piece by piece, in order (each family's delimited header, then its chunks), without copying it into
   * one buffer. The pieces are views of the writer's slabs: read them before {@link release}.
   */
  *pieces(): Generator<Uint8Array, void, undefined> {
    const heads = this.heads();
    for (const [i, g] of this.groups.entries()) {
      yield heads[i]!;
      yield* g.chunks;
    }
  }

  /** Gives the slabs back to the pool; the writer's pieces must not be read afterwards. */
  release(): void {
    this.groups.length = 0;
    this.byName.clear();
    RENDER_SLABS.give(this.slabs.splice(0));
  }

  /** Each family's delimited header (length prefix, name, help, type), once its body's length is known. */
  private heads(): Uint8Array[] {
    this.flush();
    return this.groups.map((g) => {
      const f = new ProtoWriter(128);
      f.string(1, g.info.name);
      f.string(2, g.info.help);
      f.uint(3, TYPE[g.info.type]);
      const fields = f.finish();
      const head = new ProtoWriter(fields.length + 10);
      head.varint(fields.length + g.bytes);
      head.raw(fields);
      return head.finish();
    });
  }
}

/**
 * A `Histogram` message: count, sum, classic buckets, then the native-histogram schema, spans and deltas. Written with
 * `open()`/`close()` and plain loops, no callback per bucket or span: at 10k series that allocated about 60 MB of
 * closures and boxed numbers per render, and the scavenges and mark-compacts it caused were the longest stretches of a
 * sliced protobuf render (`HeapProfiler` sampling, bench/scrape-slices.mjs under `--trace-gc`).
 */
function writeHistogram(w: ProtoWriter, h: HistogramData): void {
  let count = 0;
  for (const c of h.buckets) count += c;
  w.uint(1, count);
  w.double(2, h.sum);
  let cumulative = 0;
  for (let i = 0; i < h.bounds.length; i++) {
    cumulative += h.buckets[i] ?? 0;
    const b = w.open(3);
    w.uint(1, cumulative);
    w.double(2, h.bounds[i]!);
    // The +Inf bucket is implied by the count here, so its exemplar has no bucket to go in.
    if (h.exemplars) writeExemplar(w, 3, h.exemplars[i]);
    w.close(b);
  }
  const s = h.native;
  if (!s) return;
  w.sint(5, s.scale);
  w.double(6, SKETCH_ZERO_THRESHOLD);
  w.uint(7, s.zeroCount);
  // Read from the sketch's dense array (spans, then deltas) rather than collected into lists: thousands of series
  // times hundreds of buckets made that the render's largest allocation. The runs go into one reused scratch array.
  const { counts, offset } = s;
  const n = nativeRuns(counts, RUNS);
  if (n === 0) {
    // An empty native histogram still needs a span list to be recognised as native: one empty span.
    const sp = w.open(12);
    w.sint(1, 0);
    w.uint(2, 0);
    w.close(sp);
    return;
  }
  let prevEnd = 0;
  for (let r = 0; r < n; r++) {
    const from = RUNS[2 * r]!;
    const to = RUNS[2 * r + 1]!;
    // Each span's gap from the previous one's end (the first: its bucket index).
    const sp = w.open(12);
    w.sint(1, r === 0 ? from + offset : from - prevEnd);
    w.uint(2, to - from);
    w.close(sp);
    prevEnd = to;
  }
  let prev = 0;
  for (let r = 0; r < n; r++) {
    const to = RUNS[2 * r + 1]!;
    for (let j = RUNS[2 * r]!; j < to; j++) {
      const c = counts[j]!;
      w.sint(13, c - prev);
      prev = c;
    }
  }
}

/** {@link nativeRuns}' output, reused by every render (it is read before the next histogram is written). */
const RUNS: number[] = [];

/**
 * Spans of consecutive buckets, short runs of empty buckets (up to 2) kept inside a span: writes each span's first
 * and end positions in `counts` to `out` (as pairs: out[2r], out[2r + 1]), and returns how many there are.
 */
function nativeRuns(counts: ArrayLike<number>, out: number[]): number {
  let n = 0;
  let from = -1;
  let end = -1;
  for (let j = 0; j < counts.length; j++) {
    if (counts[j] === 0) continue;
    if (from >= 0 && j - end <= 2) {
      end = j + 1;
      continue;
    }
    if (from >= 0) {
      out[2 * n] = from;
      out[2 * n + 1] = end;
      n++;
    }
    from = j;
    end = j + 1;
  }
  if (from >= 0) {
    out[2 * n] = from;
    out[2 * n + 1] = end;
    n++;
  }
  return n;
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
  return yield* w.assemble();
}
