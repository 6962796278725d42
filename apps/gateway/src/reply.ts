/** A response in plain values, for a framework file to write back. */
export interface Reply {
  status: number;
  headers: Record<string, string>;
  /**
   * The body, or the chunks of a streamed body: each is written (and so flushed) as it comes. The framework
   * file ends the iteration early (its `return()`) when the client goes away.
   */
  body: string | AsyncIterable<string>;
}

export type GatewayErrorCode =
  | 'invalid_json'
  | 'invalid_request'
  | 'unknown_model'
  | 'model_not_found'
  | 'missing_api_key'
  | 'payload_too_large'
  | 'unauthorized'
  | 'forbidden'
  | 'admin_disabled'
  | 'not_found'
  | 'upstream_error'
  | 'upstream_timeout'
  | 'upstream_unavailable'
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

/**
 * The same reply in OpenAI's error shape, `{"error": {"message", "type", "param", "code"}}`, for the
 * OpenAI-compatible routes: the official SDKs read `type` and `code` from there.
 */
export function openAiErrorReply(err: unknown): Reply {
  let status = 500;
  let message = 'internal error';
  let code: string = 'internal_error';
  let param: unknown = null;
  if (err instanceof GatewayError) {
    ({ status, message, code } = err);
    param = err.details?.param ?? null;
  } else {
    const s = clientErrorStatus(err);
    if (s !== undefined) {
      status = s;
      message = err instanceof URIError ? 'malformed URL: invalid percent-encoding' : 'bad request';
      code = s === 404 ? 'not_found' : 'invalid_request';
    }
  }
  // As OpenAI answers: every 4xx (a missing key included) is an invalid_request_error.
  const type = status < 500 ? 'invalid_request_error' : status === 500 ? 'server_error' : 'api_error';
  return json(status, { error: { message, type, param, code } });
}

function clientErrorStatus(err: unknown): number | undefined {
  if (err === null || typeof err !== 'object') return undefined;
  const { status, statusCode } = err as { status?: unknown; statusCode?: unknown };
  const s = typeof status === 'number' ? status : statusCode;
  return typeof s === 'number' && Number.isInteger(s) && s >= 400 && s < 500 ? s : undefined;
}
