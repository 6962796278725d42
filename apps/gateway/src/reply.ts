/** A response in plain values, for a framework file to write back. */
export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export type GatewayErrorCode =
  | 'invalid_json'
  | 'invalid_request'
  | 'unknown_model'
  | 'payload_too_large'
  | 'unauthorized'
  | 'forbidden'
  | 'admin_disabled'
  | 'not_found'
  | 'upstream_error'
  | 'upstream_timeout'
  | 'internal_error';

/** An error the gateway answers with `{"error": {"code", "message"}}` and its status. */
export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  constructor(
    readonly status: number,
    readonly code: GatewayErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export function json(status: number, body: unknown): Reply {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify(body) };
}

/**
 * The reply for any thrown value: a {@link GatewayError} keeps its status; a framework's client error
 * (a 4xx `status` or `statusCode`, e.g. Express's URIError for a malformed `%zz` in a path parameter)
 * keeps its 4xx, so bad input never counts as a server error; anything else is a 500.
 */
export function errorReply(err: unknown): Reply {
  if (err instanceof GatewayError) {
    return json(err.status, { error: { code: err.code, message: err.message, ...err.details } });
  }
  const status = clientErrorStatus(err);
  if (status !== undefined) {
    const message = err instanceof URIError ? 'malformed URL: invalid percent-encoding' : 'bad request';
    return json(status, { error: { code: status === 404 ? 'not_found' : 'invalid_request', message } });
  }
  return json(500, { error: { code: 'internal_error', message: 'internal error' } });
}

function clientErrorStatus(err: unknown): number | undefined {
  if (err === null || typeof err !== 'object') return undefined;
  const { status, statusCode } = err as { status?: unknown; statusCode?: unknown };
  const s = typeof status === 'number' ? status : statusCode;
  return typeof s === 'number' && Number.isInteger(s) && s >= 400 && s < 500 ? s : undefined;
}
