/**
 * A circuit breaker over attempts: `threshold` consecutive failures open it for `resetMs`; then it is
 * half-open and lets one attempt through, whose success closes it and whose failure opens it again.
 */
export class CircuitBreaker {
  private failures = 0;
  private openedAt: number | undefined;
  /** Times the breaker opened. */
  opened = 0;

  constructor(
    private readonly threshold: number,
    private readonly resetMs: number,
  ) {}

  state(now: number): 'closed' | 'open' | 'half-open' {
    if (this.openedAt === undefined) return 'closed';
    return now - this.openedAt >= this.resetMs ? 'half-open' : 'open';
  }

  /** Milliseconds until an attempt may be made (0: now). */
  waitMs(now: number): number {
    if (this.openedAt === undefined) return 0;
    return Math.max(0, this.openedAt + this.resetMs - now);
  }

  success(): void {
    this.failures = 0;
    this.openedAt = undefined;
  }

  failure(now: number): void {
    this.failures++;
    // A failed probe (half-open) opens it again at once.
    if (this.openedAt !== undefined || this.failures >= this.threshold) {
      this.openedAt = now;
      this.opened++;
    }
  }
}
