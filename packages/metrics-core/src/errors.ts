/** Codes carried by {@link MetricsError}. */
export type MetricsErrorCode = 'INVALID_OPTION' | 'INCOMPATIBLE_STATE';

/** The one error class this package throws, at configuration time only (never while recording). */
export class MetricsError extends TypeError {
  readonly code: MetricsErrorCode;
  constructor(code: MetricsErrorCode, message: string) {
    super(`@gatewayz/metrics-core: ${message}`);
    this.name = 'MetricsError';
    this.code = code;
  }
}
