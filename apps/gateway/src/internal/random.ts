/** A seedable uniform [0, 1) generator (mulberry32), so simulations can be replayed. */
export type Random = () => number;

export function createRandom(seed?: number): Random {
  if (seed === undefined) return Math.random;
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal draw (Box-Muller). */
export function normal(random: Random): number {
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Lognormal latency parameters, in milliseconds. */
export interface LatencyProfile {
  /** Median latency. */
  medianMs: number;
  /** Spread (sigma of the underlying normal); 0.5 puts p95 at about 2.3x the median. */
  sigma: number;
  /** Clamp. */
  maxMs: number;
}

/** One lognormal draw in milliseconds, clamped to [1, maxMs]. */
export function lognormalMs(random: Random, p: LatencyProfile): number {
  return Math.min(p.maxMs, Math.max(1, p.medianMs * Math.exp(p.sigma * normal(random))));
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
