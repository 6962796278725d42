import { createHash, timingSafeEqual } from 'node:crypto';

/** RFC 6750 `b64token`: `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const TOKEN_CHAR = /[A-Za-z0-9\-._~+/]/;

function describeChar(c: string): string {
  const code = c.charCodeAt(0);
  if (c === ' ') return 'a space';
  if (c === '\t') return 'a tab';
  if (c === '\n' || c === '\r') return 'a line break';
  if (code < 0x20 || code === 0x7f) return 'a control character';
  if (code > 0x7e) return 'a non-ASCII character';
  if (c === '=') return 'an "=" that is not at the end';
  return 'a character a bearer token cannot hold';
}

/**
 * What makes `token` unusable as an `Authorization: Bearer` credential (RFC 6750 `b64token`: letters,
 * digits, `-._~+/`, then optional trailing `=`), or `undefined` when it is usable. Says what is wrong and
 * where, never what the token holds: `contains a space at position 1` (positions count from 1).
 */
export function bearerTokenProblem(token: string): string | undefined {
  if (B64TOKEN.test(token)) return undefined;
  if (token === '') return 'is empty';
  let i = 0;
  while (i < token.length && TOKEN_CHAR.test(token[i]!)) i++;
  let j = i;
  while (j < token.length && token[j] === '=') j++;
  if (j === token.length) return 'holds only "=" padding';
  const at = j > i ? i : j;
  return `contains ${describeChar(token[at]!)} at position ${at + 1}`;
}

/** What `bearerTokenProblem` accepts, for error messages. */
export const BEARER_TOKEN_CHARACTERS = 'A-Z, a-z, 0-9, "-", ".", "_", "~", "+", "/" and trailing "="';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Constant-time equality of two secrets (compares equal-length SHA-256 digests). */
export function secretsEqual(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/** The credentials of an `Authorization: <scheme> <credentials>` header; the scheme is case-insensitive. */
export function authorizationCredentials(
  authorization: string | undefined,
  scheme: 'bearer' | 'basic',
): string | undefined {
  if (!authorization) return undefined;
  const m = /^(\S+)[ \t]+(\S+)[ \t]*$/.exec(authorization);
  return m && m[1]!.toLowerCase() === scheme ? m[2] : undefined;
}

/** The token of an `Authorization: Bearer <token>` header (scheme in any case), or `undefined` without one. */
export function bearerCredentials(authorization: string | undefined): string | undefined {
  return authorizationCredentials(authorization, 'bearer');
}

/** What {@link checkBearer} found: the right token, no bearer token at all (a 401), or another one (a 403). */
export type BearerCheck = 'ok' | 'missing' | 'wrong';

/**
 * Checks an `Authorization` header against `token` as `POST /metrics/reset` does: the bearer credentials,
 * compared in constant time. For an app's own admin routes guarded by the same token.
 */
export function checkBearer(authorization: string | undefined, token: string): BearerCheck {
  const given = bearerCredentials(authorization);
  if (given === undefined) return 'missing';
  return secretsEqual(given, token) ? 'ok' : 'wrong';
}
