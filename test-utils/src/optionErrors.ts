import { MetricsError } from '@gatewayz/metrics-core';
import { expect } from 'vitest';

/** A token every adapter accepts (RFC 6750 b64token, at least 16 characters). */
export const GOOD_TOKEN = 'adapter-admin-token_0123456789';

const CHARS = 'a bearer token may hold only A-Z, a-z, 0-9, "-", ".", "_", "~", "+", "/" and trailing "="';

/**
 * Options every adapter must refuse at construction, each with its message after the package name:
 * misspelled keys (issue 9), wrong kinds (issue 9) and tokens that could never match (issue 13).
 */
export const BAD_ADAPTER_OPTIONS: readonly { name: string; options: Record<string, unknown>; message: string }[] = [
  {
    name: 'a misspelled adminToken',
    options: { adminTokn: GOOD_TOKEN },
    message: 'unknown option "adminTokn"; did you mean "adminToken"?',
  },
  {
    name: 'a misspelled exclude',
    options: { exlude: '/health' },
    message: 'unknown option "exlude"; did you mean "exclude"?',
  },
  {
    name: 'a misspelled nested key',
    options: { scrapeAuth: { bearerTokn: GOOD_TOKEN } },
    message: 'unknown option "scrapeAuth.bearerTokn"; did you mean "scrapeAuth.bearerToken"?',
  },
  {
    name: 'an unknown key with nothing close',
    options: { colour: 'red' },
    message: 'unknown option "colour"; valid options are "collector", "prefix", "adminToken", "scrapeAuth", "append", ',
  },
  {
    name: 'append that is a string',
    options: { append: 'x' },
    message: 'option "append" must be a function, got the string "x"',
  },
  {
    name: 'dashboard that is a string',
    options: { dashboard: 'yes' },
    message:
      'option "dashboard" takes the page of metricsDashboard() from "@gatewayz/metrics-exporter/dashboard" (dashboard: metricsDashboard({ title })), got the string "yes"',
  },
  {
    name: 'dashboard: true (the option of earlier versions)',
    options: { dashboard: true },
    message:
      'option "dashboard" takes the page of metricsDashboard() from "@gatewayz/metrics-exporter/dashboard" (dashboard: metricsDashboard({ title })), got the boolean true',
  },
  {
    name: 'protobuf that is a string',
    options: { protobuf: 'no' },
    message: 'option "protobuf" must be a boolean, got the string "no"',
  },
  {
    name: 'cacheMs that is a string',
    options: { cacheMs: '1s' },
    message: 'option "cacheMs" must be a number, got the string "1s"',
  },
  {
    name: 'a negative cacheMs',
    options: { cacheMs: -5 },
    message: 'cacheMs must be a number of milliseconds >= 0, got -5',
  },
  {
    name: 'an admin token with a space',
    options: { adminToken: 'adapter admin token 0123' },
    message: `adminToken contains a space at position 8; ${CHARS}`,
  },
  {
    name: 'an admin token with a leading space',
    options: { adminToken: ` ${GOOD_TOKEN}` },
    message: `adminToken contains a space at position 1; ${CHARS}`,
  },
  {
    name: 'an admin token with a non-ASCII character',
    options: { adminToken: 'adapter-admin-tökén-0123' },
    message: `adminToken contains a non-ASCII character at position 16; ${CHARS}`,
  },
  {
    name: 'a scrape bearer token with a line break',
    options: { scrapeAuth: { bearerToken: `${GOOD_TOKEN}\n` } },
    message: `scrapeAuth.bearerToken contains a line break at position ${GOOD_TOKEN.length + 1}; ${CHARS}`,
  },
];

/**
 * Asserts that `error` is the `MetricsError` (a `TypeError`, code `INVALID_OPTION`) that `packageName` throws
 * for `message` (a message that ends with ", " is a prefix), and that it never echoes a token.
 */
export function expectOptionError(error: unknown, packageName: string, message: string): void {
  expect(error).toBeInstanceOf(MetricsError);
  expect(error).toBeInstanceOf(TypeError);
  expect((error as MetricsError).code).toBe('INVALID_OPTION');
  const text = (error as Error).message;
  if (message.endsWith(', ')) expect(text.startsWith(`${packageName}: ${message}`), text).toBe(true);
  else expect(text).toBe(`${packageName}: ${message}`);
  expect(text).not.toContain('admin token 0123');
  expect(text).not.toContain('tökén');
}
