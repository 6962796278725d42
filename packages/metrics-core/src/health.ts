import { type HealthThresholds, resolveHealth } from './options.js';

export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy';

export interface HealthReport {
  status: HealthStatus;
  /** Errors / requests over the window; 0 when the window is empty. */
  errorRate: number;
  /** Requests in the window. */
  requests: number;
  /** Errors in the window. */
  errors: number;
  /** True when the window holds fewer than `minRequests` requests: status is then `healthy`. */
  insufficientData: boolean;
  thresholds: Required<HealthThresholds>;
}

/**
 * Classifies a window: error rate below `degradedErrorRate` (5%) is healthy, up to and including
 * `unhealthyErrorRate` (10%) is degraded, above it unhealthy. Fewer than `minRequests` requests
 * (10) is too little evidence to alarm on, so it reports healthy with `insufficientData: true`.
 */
export function evaluateHealth(
  window: { requests: number; errors: number },
  thresholds?: HealthThresholds,
): HealthReport {
  const t = resolveHealth(thresholds);
  const requests = window.requests > 0 ? window.requests : 0;
  const errors = Math.min(Math.max(window.errors, 0), requests);
  const errorRate = requests > 0 ? errors / requests : 0;
  const insufficientData = requests < t.minRequests;
  let status: HealthStatus = 'healthy';
  if (!insufficientData) {
    if (errorRate > t.unhealthyErrorRate) status = 'unhealthy';
    else if (errorRate >= t.degradedErrorRate) status = 'degraded';
  }
  return { status, errorRate, requests, errors, insufficientData, thresholds: t };
}
