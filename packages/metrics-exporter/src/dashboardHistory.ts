import type { MetricsSnapshot } from '@gatewayz/metrics-core';

/** One sample of what the dashboard charts. Latencies are in seconds, rates per second, `hitRate` in 0..1. */
export interface DashboardPoint {
  /** Time of the sample, milliseconds since the epoch (the collector's clock). */
  t: number;
  /** Total requests and errors so far, so that a page can compute the rate to its own next sample. */
  requests: number;
  errors: number;
  /** Sliding-window latency quantiles; `null` while the window is empty. */
  p50: number | null;
  p95: number | null;
  p99: number | null;
  /** Requests and errors per second since the previous sample; `null` for the first one and after a reset. */
  rps: number | null;
  eps: number | null;
  /** Window cache hit rate; `null` when the window saw no cache lookups. */
  hitRate: number | null;
}

/** Most points a history may hold, whatever the options say. */
export const MAX_HISTORY_POINTS = 10_000;

const perSecond = (now: number, before: number, seconds: number): number | null =>
  seconds > 0 && now >= before ? (now - before) / seconds : null;

/**
 * A bounded ring of dashboard points, filled from snapshots by a timer (never on the request path), so that
 * the page's charts are already full when it opens.
 */
export class DashboardHistory {
  readonly capacity: number;
  private readonly ring: DashboardPoint[] = [];
  private next = 0;
  private sampling = false;

  constructor(
    capacity: number,
    private readonly snapshot: () => Promise<MetricsSnapshot>,
  ) {
    this.capacity = Math.max(1, Math.min(MAX_HISTORY_POINTS, Math.floor(capacity)));
  }

  /** The points, oldest first. */
  points(): DashboardPoint[] {
    return this.ring.length < this.capacity
      ? this.ring.slice()
      : [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)];
  }

  /** Appends the point for snapshot `s`, dropping the oldest one when full. */
  record(s: MetricsSnapshot): DashboardPoint {
    const t = Date.parse(s.timestamp);
    const prev = this.ring.length ? this.ring[(this.next - 1 + this.capacity) % this.capacity] : undefined;
    const seconds = prev ? (t - prev.t) / 1000 : 0;
    const { p50, p95, p99 } = s.window.latency;
    const point: DashboardPoint = {
      t,
      requests: s.totals.requests,
      errors: s.totals.errors,
      p50,
      p95,
      p99,
      rps: prev ? perSecond(s.totals.requests, prev.requests, seconds) : null,
      eps: prev ? perSecond(s.totals.errors, prev.errors, seconds) : null,
      hitRate: s.cache.hitRate,
    };
    if (this.ring.length < this.capacity) this.ring.push(point);
    else this.ring[this.next] = point;
    this.next = (this.next + 1) % this.capacity;
    return point;
  }

  /** Takes one sample; a sample still in flight makes this a no-op, and a failing source is skipped. */
  async sample(): Promise<void> {
    if (this.sampling) return;
    this.sampling = true;
    try {
      this.record(await this.snapshot());
    } catch {
      // The next tick tries again; the page simply shows a gap.
    } finally {
      this.sampling = false;
    }
  }
}

/**
 * Samples `history` every `intervalMs` on an unref'd timer, so it never keeps the process alive. The timer
 * holds the history only weakly and stops once the history (and the handlers owning it) are garbage.
 */
export function startSampling(history: DashboardHistory, intervalMs: number): void {
  const ref = new WeakRef(history);
  const timer = setInterval(() => {
    const h = ref.deref();
    if (h) void h.sample();
    else clearInterval(timer);
  }, intervalMs);
  timer.unref();
}
