import { MetricsError, type MetricsErrorCode } from '@gatewayz/metrics-core';

export const REMOTE_WRITE_PACKAGE = '@gatewayz/metrics-remote-write';

/**
 * Why a WriteRequest was not accepted. `REJECTED`: a 4xx other than 429, never retried (a 404, 405, 415 or
 * 400 usually means the url is not a remote-write endpoint). `SERVER_ERROR`/`NETWORK`: a 5xx or 429, or no
 * answer (these are retried; a flush sees them as `RETRIES_EXHAUSTED` once the retries are spent).
 * `CIRCUIT_OPEN`: a flush or stop found the breaker open after its probe failed (it does not wait for the reset).
 * `SNAPSHOT_FAILED`: the collector's state could not be read or encoded.
 * Each is one of the core's `MetricsErrorCode`s: the compiler fails here if the core's union loses one.
 */
export type RemoteWriteErrorCode = Extract<
  MetricsErrorCode,
  'REJECTED' | 'SERVER_ERROR' | 'NETWORK' | 'RETRIES_EXHAUSTED' | 'CIRCUIT_OPEN' | 'SNAPSHOT_FAILED'
>;

/**
 * The error `flush()`/`stop()` reject with and `onError` receives: a `MetricsError` (so `instanceof MetricsError`
 * and `err.code` work as for every gatewayz error), whose message starts with the package name.
 */
export class RemoteWriteError extends MetricsError {
  declare readonly code: RemoteWriteErrorCode;
  /** The receiver's HTTP status, when it answered. */
  readonly status: number | undefined;
  /** The receiver's answer body, when it answered. */
  readonly body: string | undefined;
  /** Whether the writer retries this kind of failure (5xx, 429, network). */
  readonly retryable: boolean;
  /** The receiver's `Retry-After`, in seconds, when it sent one. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: RemoteWriteErrorCode,
    detail: string,
    extra: {
      status?: number | undefined;
      body?: string | undefined;
      retryable?: boolean;
      retryAfterSeconds?: number | undefined;
    } = {},
  ) {
    super(code, detail, REMOTE_WRITE_PACKAGE);
    this.name = 'RemoteWriteError';
    this.status = extra.status;
    this.body = extra.body;
    this.retryable = extra.retryable ?? false;
    this.retryAfterSeconds = extra.retryAfterSeconds;
  }
}
