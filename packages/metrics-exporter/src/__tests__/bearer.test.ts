import { describe, expect, it } from 'vitest';
import { bearerCredentials, checkBearer } from '../index.js';

const TOKEN = 'abcdefghijklmnop-0123';

describe('checkBearer (the check of POST /metrics/reset, for an app admin routes)', () => {
  it.each([
    [`Bearer ${TOKEN}`, 'ok'],
    [`bearer ${TOKEN}`, 'ok'],
    [`BEARER \t${TOKEN} `, 'ok'],
    [`Bearer ${TOKEN}x`, 'wrong'],
    ['Bearer abc', 'wrong'],
    [undefined, 'missing'],
    ['', 'missing'],
    [`Basic ${TOKEN}`, 'missing'],
    [`Bearer${TOKEN}`, 'missing'],
    [`Bearer ${TOKEN} extra`, 'missing'],
  ] as const)('%j is %s', (header, expected) => {
    expect(checkBearer(header, TOKEN)).toBe(expected);
  });

  it('reads the token whatever the case of the scheme', () => {
    expect(bearerCredentials('bEaReR k-1')).toBe('k-1');
    expect(bearerCredentials('Token k-1')).toBeUndefined();
  });
});
