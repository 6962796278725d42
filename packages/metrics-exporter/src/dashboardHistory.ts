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
  /**
   * Model tokens (input and output; `cached_input` is part of input) and USD so far, summed over every series of `model_tokens_total` and
   * `model_cost_usd_total` (or the OTel `gen_ai_client_token_usage` histogram's sum); `null` while the family
   * is absent (no model call, or no priced one, recorded yet).
   */
  tokens?: number | null;
  costUsd?: number | null;
  /** Count and sum so far of `model_time_to_first_token_seconds` (OTel: `gen_ai_server_time_to_first_token_seconds`). */
  ttftCount?: number | null;
  ttftSum?: number | null;
  /** Tokens per second and USD per hour since the previous sample; `null` for the first one, after a reset or without the family. */
  tokensPerSec?: number | null;
  costPerHour?: number | null;
  /**
   * Mean time to first token of the streams that got their first token since the previous sample (delta of the
   * histogram's sum over the delta of its count); `null` when none did. The JSON snapshot carries a histogram's
   * count and sum (no buckets, and the AI families have no window views), so the mean is what it can give.
   */
  ttftAvg?: number | null;
}

/** Most points a history may hold, whatever the options say. */
export const MAX_HISTORY_POINTS = 10_000;

const perSecond = (now: number, before: number, seconds: number): number | null =>
  seconds > 0 && now >= before ? (now - before) / seconds : null;

/** The family names the AI charts read: ours first, then the OTel ones (`completions: { names: 'otel' }`). */
export const DASHBOARD_AI_FAMILIES = {
  tokens: ['model_tokens_total', 'gen_ai_client_token_usage'],
  cost: ['model_cost_usd_total'],
  ttft: ['model_time_to_first_token_seconds', 'gen_ai_server_time_to_first_token_seconds'],
} as const;

/**
 * The sum over all series of the first family of `names` present in `s`: counters and gauges add their
 * `value`, histograms their `field` (`sum` or `count`); `cached_input` token series are skipped (they are part of
 * `input`). `null` when none of the families is there.
 */
export function familyTotal(
  s: Pick<MetricsSnapshot, 'families'>,
  names: readonly string[],
  field: 'sum' | 'count' = 'sum',
): number | null {
  const f = s.families?.find((x) => names.includes(x.name));
  if (!f) return null;
  let total = 0;
  for (const x of f.series) {
    // `cached_input` tokens are part of `input` already.
    if (x.labels.type === 'cached_input' || x.labels.gen_ai_token_type === 'cached_input') continue;
    const v = f.type === 'histogram' ? x[field] : x.value;
    if (typeof v === 'number' && Number.isFinite(v)) total += v;
  }
  return total;
}

const delta = (now: number | null, before: number | null | undefined): number | null =>
  now !== null && typeof before === 'number' && now >= before ? now - before : null;

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
    const tokens = familyTotal(s, DASHBOARD_AI_FAMILIES.tokens);
    const costUsd = familyTotal(s, DASHBOARD_AI_FAMILIES.cost);
    const ttftCount = familyTotal(s, DASHBOARD_AI_FAMILIES.ttft, 'count');
    const ttftSum = familyTotal(s, DASHBOARD_AI_FAMILIES.ttft, 'sum');
    const dTokens = prev && seconds > 0 ? delta(tokens, prev.tokens) : null;
    const dCost = prev && seconds > 0 ? delta(costUsd, prev.costUsd) : null;
    const dCount = prev ? delta(ttftCount, prev.ttftCount) : null;
    const dSum = prev ? delta(ttftSum, prev.ttftSum) : null;
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
      tokens,
      costUsd,
      ttftCount,
      ttftSum,
      tokensPerSec: dTokens === null ? null : dTokens / seconds,
      costPerHour: dCost === null ? null : (dCost / seconds) * 3600,
      ttftAvg: dCount && dSum !== null ? dSum / dCount : null,
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
