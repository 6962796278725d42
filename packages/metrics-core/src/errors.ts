/** Codes carried by {@link MetricsError}. */
export type MetricsErrorCode = 'INVALID_OPTION' | 'INCOMPATIBLE_STATE';

/** The name the core's own errors start with. */
export const CORE_PACKAGE_NAME = '@gatewayz/metrics-core';

/**
 * The one error class every gatewayz package throws, at configuration time only (never while recording).
 * The message starts with the throwing package's name: `@gatewayz/metrics-express: unknown option "adminTokn"; …`.
 */
export class MetricsError extends TypeError {
  readonly code: MetricsErrorCode;
  /** The package that threw, which starts the message. */
  readonly packageName: string;
  /** The message without the package name. */
  readonly detail: string;
  constructor(code: MetricsErrorCode, message: string, packageName: string = CORE_PACKAGE_NAME) {
    super(`${packageName}: ${message}`);
    this.name = 'MetricsError';
    this.code = code;
    this.packageName = packageName;
    this.detail = message;
  }
}
