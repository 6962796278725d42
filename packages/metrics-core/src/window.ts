import { LogSketch } from './sketch.js';

/**
 * A slot's fields in {@link SlidingWindow}'s one array of doubles: `FIELDS` numbers per slot. Numbers kept in object
 * fields are boxed one by one when they are not small integers (a sum, a minimum, a maximum), and every box is an
 * object the major GC has to mark: with a Slot object per sub-window, a collector of 10k endpoint series held 450k
 * boxes, about a quarter of the cost of a full GC. In an array of doubles they are plain bytes.
 */
const EPOCH = 0;
const REQUESTS = 1;
const ERRORS = 2;
const COUNT = 3;
const SUM = 4;
const MIN = 5;
const MAX = 6;
const FIELDS = 7;

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
  /**
   * Every slot's fields, `FIELDS` numbers per slot (see EPOCH … MAX). A plain array of doubles, which V8 keeps
   * unboxed on the JS heap next to the window, rather than a Float64Array, whose bytes live outside the heap: one
   * more cache miss per record and two more objects per window.
   */
  private readonly slots: number[];
  /** Each slot's own sketch (none without a scale). */
  private readonly sketches: (LogSketch | undefined)[];
  /** The slot last recorded into (-1: none yet): consecutive records of one sub-window skip the ring lookup. */
  private last = -1;

  constructor(
    private readonly slotMs: number,
    slots: number,
    private readonly scale: number | undefined,
  ) {
    const fields: number[] = [];
    // Pushed as doubles from the start (the infinities), so the array keeps double elements and never boxes one.
    for (let i = 0; i < slots; i++) fields.push(-1, 0, 0, 0, 0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY);
    this.slots = fields;
    this.sketches = Array.from({ length: slots }, () => (scale === undefined ? undefined : new LogSketch(scale)));
  }

  private reset(i: number, epoch: number): void {
    const s = this.slots;
    const at = i * FIELDS;
    s[at + EPOCH] = epoch;
    s[at + REQUESTS] = 0;
    s[at + ERRORS] = 0;
    s[at + COUNT] = 0;
    s[at + SUM] = 0;
    s[at + MIN] = Number.POSITIVE_INFINITY;
    s[at + MAX] = Number.NEGATIVE_INFINITY;
    this.sketches[i]?.clear();
  }

  /** The index of the slot for `epoch`, reset in place when it last held an older one. */
  private head(epoch: number): number {
    const last = this.last;
    if (last >= 0 && this.slots[last * FIELDS + EPOCH] === epoch) return last;
    const n = this.sketches.length;
    // A clock before 1970 (or a test clock starting below 0) gives a negative epoch: wrap it into the ring.
    const i = ((epoch % n) + n) % n;
    if (this.slots[i * FIELDS + EPOCH] !== epoch) this.reset(i, epoch);
    this.last = i;
    return i;
  }

  /** Records one request in sub-window `epoch` (see {@link epochOf}). `latency` is a validated value in seconds, or NaN when it had none. */
  record(epoch: number, latency: number, error: boolean): void {
    this.recordAt(
      epoch,
      latency,
      error,
      Number.isNaN(latency) ? Number.NaN : (this.sketches[0]?.indexOf(latency) ?? 0),
    );
  }

  /** {@link record} with the sketch bucket index of `latency` already computed (`LogSketch.indexOf`, same scale). */
  recordAt(epoch: number, latency: number, error: boolean, index: number): void {
    const i = this.head(epoch);
    const s = this.slots;
    const at = i * FIELDS;
    s[at + REQUESTS]!++;
    if (error) s[at + ERRORS]!++;
    if (!Number.isNaN(latency)) {
      s[at + COUNT]!++;
      s[at + SUM]! += latency;
      if (latency < s[at + MIN]!) s[at + MIN] = latency;
      if (latency > s[at + MAX]!) s[at + MAX] = latency;
      this.sketches[i]?.addAt(latency, index);
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
    const s = this.slots;
    const n = this.sketches.length;
    for (let i = 0; i < n; i++) {
      const at = i * FIELDS;
      const e = s[at + EPOCH]!;
      if (e > epoch - n && e <= epoch) {
        out.requests += s[at + REQUESTS]!;
        out.errors += s[at + ERRORS]!;
        out.count += s[at + COUNT]!;
        out.sum += s[at + SUM]!;
        if (s[at + MIN]! < out.min) out.min = s[at + MIN]!;
        if (s[at + MAX]! > out.max) out.max = s[at + MAX]!;
        const sk = this.sketches[i];
        if (sk && sk.count > 0) sketches.push(sk);
      }
    }
    if (out.sketch && sketches.length > 0) out.sketch.mergeAll(sketches);
    return out;
  }

  clear(): void {
    // A cleared slot has epoch -1, which a clock before 1970 can ask for: the shortcut must not hand it out.
    for (let i = 0; i < this.sketches.length; i++) this.reset(i, -1);
    this.last = -1;
  }
}
