import { LogSketch } from './sketch.js';

/** One sub-window of a ring. Each slot is its own object with its own sketch. */
class Slot {
  epoch = -1;
  requests = 0;
  count = 0;
  errors = 0;
  sum = 0;
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;
  readonly sketch: LogSketch | undefined;

  constructor(scale: number | undefined) {
    this.sketch = scale === undefined ? undefined : new LogSketch(scale);
  }

  reset(epoch: number): void {
    this.epoch = epoch;
    this.requests = 0;
    this.count = 0;
    this.errors = 0;
    this.sum = 0;
    this.min = Number.POSITIVE_INFINITY;
    this.max = Number.NEGATIVE_INFINITY;
    this.sketch?.clear();
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
    this.recordAt(
      epoch,
      latency,
      error,
      Number.isNaN(latency) ? Number.NaN : (this.ring[0]?.sketch?.indexOf(latency) ?? 0),
    );
  }

  /** {@link record} with the sketch bucket index of `latency` already computed (`LogSketch.indexOf`, same scale). */
  recordAt(epoch: number, latency: number, error: boolean, index: number): void {
    const s = this.head(epoch);
    s.requests++;
    if (error) s.errors++;
    if (!Number.isNaN(latency)) {
      s.count++;
      s.sum += latency;
      if (latency < s.min) s.min = latency;
      if (latency > s.max) s.max = latency;
      s.sketch?.addAt(latency, index);
    }
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
        out.requests += s.requests;
        out.errors += s.errors;
        out.count += s.count;
        out.sum += s.sum;
        if (s.min < out.min) out.min = s.min;
        if (s.max > out.max) out.max = s.max;
        if (s.sketch && s.sketch.count > 0) sketches.push(s.sketch);
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
