import { LogSketch } from './sketch.js';

/** A slot's valid latencies when its window keeps no sketch: count, sum, minimum, maximum. */
class Stats {
  count = 0;
  sum = 0;
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;

  addAt(v: number, _index: number): void {
    this.count++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  clear(): void {
    this.count = 0;
    this.sum = 0;
    this.min = Number.POSITIVE_INFINITY;
    this.max = Number.NEGATIVE_INFINITY;
  }
}

/**
 * One sub-window of a ring. Its valid latencies' count, sum, minimum and maximum are kept once, by its sketch (which
 * keeps them anyway) or, in a window without one, by a {@link Stats}. A number in an object field that is not a small
 * integer is boxed, and every box is an object the major GC marks: when each slot kept its own sum, minimum and maximum
 * beside its sketch's, a collector of 10k endpoint series held 450k boxes, about a quarter of a full GC's cost.
 */
class Slot {
  epoch = -1;
  requests = 0;
  errors = 0;
  readonly stats: LogSketch | Stats;

  constructor(scale: number | undefined) {
    this.stats = scale === undefined ? new Stats() : new LogSketch(scale);
  }

  reset(epoch: number): void {
    this.epoch = epoch;
    this.requests = 0;
    this.errors = 0;
    this.stats.clear();
  }
}

/** The `last` slot of a window that has not recorded yet: shared, never written, its epoch matches none. */
const NO_SLOT = new Slot(undefined);
NO_SLOT.epoch = Number.NaN;

/** The merged view of a window: plain, mergeable across windows and processes. */
export interface WindowView {
  /** Requests seen in the window (with or without a valid latency). */
  requests: number;
  /** Errors seen in the window. */
  errors: number;
  /** Valid latencies seen in the window. */
  count: number;
  sum: number;
  min: number;
  max: number;
  sketch: LogSketch | undefined;
}

export function emptyView(scale: number | undefined): WindowView {
  return {
    requests: 0,
    errors: 0,
    count: 0,
    sum: 0,
    min: Number.POSITIVE_INFINITY,
    max: Number.NEGATIVE_INFINITY,
    sketch: scale === undefined ? undefined : new LogSketch(scale),
  };
}

/** Adds `b` into `a` exactly: sums counts, merges sketches, takes min of mins and max of maxes. */
export function mergeViews(a: WindowView, b: WindowView): WindowView {
  a.requests += b.requests;
  a.errors += b.errors;
  a.count += b.count;
  a.sum += b.sum;
  if (b.min < a.min) a.min = b.min;
  if (b.max > a.max) a.max = b.max;
  if (a.sketch && b.sketch) a.sketch.merge(b.sketch);
  return a;
}

/**
 * A sliding window kept as a ring of `slots` sub-windows of `slotMs` each. Recording touches only
 * the head slot (reset in place when its epoch has passed); reads merge the live slots.
 */
export class SlidingWindow {
  private readonly ring: Slot[];
  /** The slot last recorded into: consecutive records of one sub-window skip the ring lookup. */
  private last: Slot;

  constructor(
    private readonly slotMs: number,
    slots: number,
    private readonly scale: number | undefined,
  ) {
    this.ring = Array.from({ length: slots }, () => new Slot(scale));
    this.last = NO_SLOT;
  }

  private head(epoch: number): Slot {
    const last = this.last;
    if (last.epoch === epoch) return last;
    const n = this.ring.length;
    // A clock before 1970 (or a test clock starting below 0) gives a negative epoch: wrap it into the ring.
    const slot = this.ring[((epoch % n) + n) % n]!;
    if (slot.epoch !== epoch) slot.reset(epoch);
    this.last = slot;
    return slot;
  }

  /** Records one request in sub-window `epoch` (see {@link epochOf}). `latency` is a validated value in seconds, or NaN when it had none. */
  record(epoch: number, latency: number, error: boolean): void {
    const stats = this.ring[0]?.stats;
    this.recordAt(
      epoch,
      latency,
      error,
      Number.isNaN(latency) || !(stats instanceof LogSketch) ? Number.NaN : stats.indexOf(latency),
    );
  }

  /** {@link record} with the sketch bucket index of `latency` already computed (`LogSketch.indexOf`, same scale). */
  recordAt(epoch: number, latency: number, error: boolean, index: number): void {
    const s = this.head(epoch);
    s.requests++;
    if (error) s.errors++;
    if (!Number.isNaN(latency)) s.stats.addAt(latency, index);
  }

  /** The sub-window a clock reading falls in; every window of one collector shares it. */
  static epochOf(nowMs: number, slotMs: number): number {
    return Math.floor(nowMs / slotMs);
  }

  view(nowMs: number): WindowView {
    const epoch = Math.floor(nowMs / this.slotMs);
    const out = emptyView(this.scale);
    const sketches: LogSketch[] = [];
    for (const s of this.ring) {
      if (s.epoch > epoch - this.ring.length && s.epoch <= epoch) {
        const st = s.stats;
        out.requests += s.requests;
        out.errors += s.errors;
        out.count += st.count;
        out.sum += st.sum;
        if (st.min < out.min) out.min = st.min;
        if (st.max > out.max) out.max = st.max;
        if (st instanceof LogSketch && st.count > 0) sketches.push(st);
      }
    }
    if (out.sketch && sketches.length > 0) out.sketch.mergeAll(sketches);
    return out;
  }

  clear(): void {
    for (const s of this.ring) s.reset(-1);
    // A cleared slot has epoch -1, which a clock before 1970 can ask for: the shortcut must not hand it out.
    this.last = NO_SLOT;
  }
}
