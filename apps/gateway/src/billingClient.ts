import type { MetricsCollector } from '@gatewayz/metrics-core';

/** One usage record sent to billing. */
export interface UsageReport {
  model: string;
  provider: string;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
}

export interface BillingClientOptions {
  /** Base URL of the billing API. */
  url: string;
  collector: MetricsCollector;
  /** @default 2000 */
  timeoutMs?: number;
}

/**
 * Reports usage to the external billing API and records each call as `external_api_*{service="billing"}`.
 * A failed report never fails the chat request: it is counted and the result says so.
 */
export class BillingClient {
  private readonly endpoint: string;
  private readonly timeoutMs: number;
  private calls = 0;
  private errors = 0;

  constructor(private readonly options: BillingClientOptions) {
    this.endpoint = new URL('/v1/usage', options.url).href;
    this.timeoutMs = options.timeoutMs ?? 2000;
  }

  async report(usage: UsageReport): Promise<boolean> {
    const t0 = performance.now();
    let ok = false;
    try {
      const res = await fetch(this.endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(usage),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      await res.arrayBuffer();
      ok = res.ok;
    } catch {
      ok = false;
    }
    this.calls++;
    if (!ok) this.errors++;
    this.options.collector.recordExternalApiCall('billing', {
      error: !ok,
      latencySeconds: (performance.now() - t0) / 1000,
    });
    return ok;
  }

  stats(): { calls: number; errors: number } {
    return { calls: this.calls, errors: this.errors };
  }
}
