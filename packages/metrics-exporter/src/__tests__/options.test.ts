import { MetricsCollector, MetricsError } from '@gatewayz/metrics-core';
import { afterEach, describe, expect, it } from 'vitest';
import { bearerTokenProblem } from '../bearerToken.js';
import { metricsDashboard } from '../entries/dashboard.js';
import { resolveHttpMetricsOptions } from '../entries/node.js';
import {
  createMetricsHandlers,
  type MetricsHandlersOptions,
  PrometheusExporter,
  registerPromClientMetrics,
} from '../index.js';

const TOKEN = 'abcdefghijklmnop-0123456789';

/** The MetricsError `f` throws (the test fails when it throws nothing or something else). */
function thrown(f: () => unknown): MetricsError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(MetricsError);
    expect(e).toBeInstanceOf(TypeError);
    expect((e as MetricsError).code).toBe('INVALID_OPTION');
    return e as MetricsError;
  }
  throw new Error('expected a MetricsError, nothing was thrown');
}

const handlers = (o: unknown) => () =>
  createMetricsHandlers({ collector: new MetricsCollector(), adminToken: null, ...(o as object) });
const P = '@gatewayz/metrics-exporter: ';
const DASHBOARD_HINT =
  'option "dashboard" takes the page of metricsDashboard() from "@gatewayz/metrics-exporter/dashboard" (dashboard: metricsDashboard({ title }))';

describe('createMetricsHandlers: unknown keys and wrong kinds (issue 9, defect 3)', () => {
  it.each([
    [{ adminTokn: TOKEN }, 'unknown option "adminTokn"; did you mean "adminToken"?'],
    [{ dashbord: true }, 'unknown option "dashbord"; did you mean "dashboard"?'],
    [{ Protobuf: false }, 'unknown option "Protobuf"; did you mean "protobuf"?'],
    [
      { scrapeAuth: { bearerTokn: TOKEN } },
      'unknown option "scrapeAuth.bearerTokn"; did you mean "scrapeAuth.bearerToken"?',
    ],
    [
      { scrapeAuth: { basic: { user: 'prom', password: 'pw' } } },
      'unknown option "scrapeAuth.basic.user"; did you mean "scrapeAuth.basic.username"?',
    ],
  ])('%j names the closest valid key', (o, message) => {
    expect(thrown(handlers(o)).message).toBe(P + message);
  });

  it('names the closest valid key of the dashboard options', () => {
    expect(thrown(() => metricsDashboard({ titel: 'x' } as never)).message).toBe(
      `${P}unknown option "dashboard.titel"; did you mean "dashboard.title"?`,
    );
  });

  it('lists the valid keys when nothing is close', () => {
    expect(thrown(handlers({ verbose: true })).message).toMatch(
      /^@gatewayz\/metrics-exporter: unknown option "verbose"; valid options are "collector", "exporter", "adminToken", /,
    );
  });

  it.each([
    [{ dashboard: 'yes' }, `${DASHBOARD_HINT}, got the string "yes"`],
    [{ dashboard: true }, `${DASHBOARD_HINT}, got the boolean true`],
    [{ dashboard: { title: 't' } }, `${DASHBOARD_HINT}, got an object`],
    [{ protobuf: 'no' }, 'option "protobuf" must be a boolean, got the string "no"'],
    [{ append: 'x' }, 'option "append" must be a function, got the string "x"'],
    [{ prefix: 5 }, 'option "prefix" must be a string, got the number 5'],
    [{ adminToken: 1234567890123456 }, 'option "adminToken" must be a string or null, got the number 1234567890123456'],
    [{ scrapeAuth: 'token' }, 'option "scrapeAuth" must be an object, got the string "token"'],
    [{ exporter: {} }, 'option "exporter" must be a PrometheusExporter'],
    [{ appendTimeoutMs: 0 }, 'appendTimeoutMs must be a number of milliseconds above 0, got 0'],
    [{ appendTimeoutMs: '5s' }, 'option "appendTimeoutMs" must be a number, got the string "5s"'],
    [{ cacheMs: '1s' }, 'option "cacheMs" must be a number, got the string "1s"'],
    [{ compression: 'gzip' }, 'option "compression" must be a boolean, got the string "gzip"'],
    [{ cacheMs: -1 }, 'cacheMs must be a number of milliseconds >= 0, got -1'],
    [{ cacheMs: Number.NaN }, 'cacheMs must be a number of milliseconds >= 0, got NaN'],
  ])('%j names what was given', (o, message) => {
    expect(thrown(handlers(o)).message).toBe(P + message);
  });

  it('names what was given to the dashboard', () => {
    expect(thrown(() => metricsDashboard({ intervalMs: '1000' } as never)).message).toBe(
      `${P}option "dashboard.intervalMs" must be a number, got the string "1000"`,
    );
  });

  it('rejects a non-object', () => {
    expect(thrown(() => createMetricsHandlers(null as never)).message).toBe(`${P}options must be an object, got null`);
  });

  it('accepts every documented option', () => {
    const collector = new MetricsCollector();
    const all: Required<MetricsHandlersOptions> = {
      collector,
      exporter: new PrometheusExporter(collector),
      adminToken: TOKEN,
      prefix: '/m',
      scrapeAuth: { bearerToken: TOKEN, basic: { username: 'prom', password: 'pw' } },
      append: () => '',
      appendTimeoutMs: 2000,
      dashboard: metricsDashboard({ intervalMs: 500, title: 't' }),
      protobuf: false,
      cacheMs: 250,
      compression: false,
    };
    // cacheMs configures the exporter the handlers create, so it comes without `exporter` (with it: an error).
    const { cacheMs: _, ...withExporter } = all;
    const { exporter: __, ...withCache } = all;
    expect(() => createMetricsHandlers(withExporter)).not.toThrow();
    expect(() => createMetricsHandlers(withCache)).not.toThrow();
    expect(thrown(() => createMetricsHandlers(all)).message).toBe(
      `${P}option "cacheMs" goes on the exporter passed as "exporter"`,
    );
    expect(() =>
      createMetricsHandlers({ collector, adminToken: undefined, dashboard: metricsDashboard() }),
    ).not.toThrow();
  });
});

describe('bearer tokens that could never match are refused at construction (issue 13, item 6)', () => {
  const saved = process.env.METRICS_ADMIN_TOKEN;
  afterEach(() => {
    if (saved === undefined) delete process.env.METRICS_ADMIN_TOKEN;
    else process.env.METRICS_ADMIN_TOKEN = saved;
  });

  const bad: [string, string][] = [
    ['abcdefgh ijklmnopq', 'contains a space at position 9'],
    [' abcdefghijklmnopq', 'contains a space at position 1'],
    ['abcdefghijklmnopq ', 'contains a space at position 18'],
    ['abcdefghijklmnopq\n', 'contains a line break at position 18'],
    ['abcdefgh\tijklmnopq', 'contains a tab at position 9'],
    ['abcdéfghijklmnopq', 'contains a non-ASCII character at position 5'],
    ['abcdefghijklmnopq\u0000', 'contains a control character at position 18'],
    ['abcdefgh=ijklmnopq', 'contains an "=" that is not at the end at position 9'],
    ['abcdefgh"ijklmnopq', 'contains a character a bearer token cannot hold at position 9'],
    ['================', 'holds only "=" padding'],
  ];

  it.each(bad)('adminToken %j: %s', (token, problem) => {
    const e = thrown(handlers({ adminToken: token }));
    expect(e.message).toBe(
      `${P}adminToken ${problem}; a bearer token may hold only A-Z, a-z, 0-9, "-", ".", "_", "~", "+", "/" and trailing "="`,
    );
    expect(e.message).not.toContain(token.trim());
  });

  it.each(bad)('scrapeAuth.bearerToken %j: %s', (token, problem) => {
    const e = thrown(handlers({ scrapeAuth: { bearerToken: token } }));
    expect(e.message).toMatch(
      new RegExp(`^@gatewayz/metrics-exporter: scrapeAuth\\.bearerToken ${problem.replace(/"/g, '.')};`),
    );
    expect(e.message).not.toContain(token.trim());
  });

  it('names METRICS_ADMIN_TOKEN when the token came from it', () => {
    process.env.METRICS_ADMIN_TOKEN = ' abcdefghijklmnopq';
    const e = thrown(() => createMetricsHandlers({ collector: new MetricsCollector() }));
    expect(e.message).toMatch(
      /^@gatewayz\/metrics-exporter: adminToken contains a space at position 1 \(it comes from METRICS_ADMIN_TOKEN\); /,
    );
    process.env.METRICS_ADMIN_TOKEN = 'short';
    expect(thrown(() => createMetricsHandlers({ collector: new MetricsCollector() })).message).toBe(
      `${P}adminToken must be at least 16 characters (it comes from METRICS_ADMIN_TOKEN)`,
    );
  });

  it('accepts every b64token, and the token then matches', async () => {
    for (const token of [
      'abcdefghijklmnop',
      'A-Z.a_z~0+9/abcdefgh',
      'YWRtaW46c2VjcmV0LXRva2Vu==',
      '0123456789abcdef=',
    ]) {
      expect(bearerTokenProblem(token), token).toBeUndefined();
      const h = createMetricsHandlers({ collector: new MetricsCollector(), adminToken: token });
      const r = await h.reset({ method: 'POST', headers: { authorization: `Bearer ${token}` } });
      expect(r.status, token).toBe(200);
    }
  });
});

describe('PrometheusExporter and registerPromClientMetrics options', () => {
  const collector = new MetricsCollector();

  it('PrometheusExporter rejects unknown keys and wrong kinds', () => {
    expect(thrown(() => new PrometheusExporter(collector, { cacheMS: 5 } as never)).message).toBe(
      `${P}unknown option "cacheMS"; did you mean "cacheMs"?`,
    );
    expect(thrown(() => new PrometheusExporter(collector, { yieldBetweenChunks: 'no' } as never)).message).toBe(
      `${P}option "yieldBetweenChunks" must be a boolean, got the string "no"`,
    );
    expect(thrown(() => new PrometheusExporter(collector, { cacheMs: '5' } as never)).message).toBe(
      `${P}option "cacheMs" must be a number, got the string "5"`,
    );
  });

  it('registerPromClientMetrics rejects unknown keys', () => {
    const registry = { registerMetric: () => undefined };
    expect(thrown(() => registerPromClientMetrics(registry, { colector: collector } as never)).message).toBe(
      `${P}unknown option "colector"; did you mean "collector"?`,
    );
    expect(thrown(() => registerPromClientMetrics(registry, { exporter: 5 } as never)).message).toBe(
      `${P}option "exporter" must be an object, got the number 5`,
    );
  });
});

describe('resolveHttpMetricsOptions (what every adapter calls)', () => {
  const collector = new MetricsCollector();
  const resolve = (o: unknown) => () => resolveHttpMetricsOptions({ collector, ...(o as object) }, '@x/adapter');

  it.each([
    [{ adminTokn: TOKEN }, 'unknown option "adminTokn"; did you mean "adminToken"?'],
    [{ exlude: '/x' }, 'unknown option "exlude"; did you mean "exclude"?'],
    [{ unmatchedLable: 'x' }, 'unknown option "unmatchedLable"; did you mean "unmatchedLabel"?'],
    [{ exporter: 'x' }, 'unknown option "exporter"; valid options are "collector", '],
    [{ protobuf: 'no' }, 'option "protobuf" must be a boolean, got the string "no"'],
    [{ dashboard: 'yes' }, `${DASHBOARD_HINT}, got the string "yes"`],
    [{ dashboard: true }, `${DASHBOARD_HINT}, got the boolean true`],
    [{ append: 'x' }, 'option "append" must be a function, got the string "x"'],
    [{ exclude: 5 }, 'option "exclude" must be a string, a RegExp, a function or an array, got the number 5'],
    [{ labels: {} }, 'option "labels" must be a function, got an object'],
    [{ adminToken: 'abcdefgh ijklmnopq' }, 'adminToken contains a space at position 9; '],
    [{ scrapeAuth: {} }, 'scrapeAuth needs bearerToken or basic'],
  ])('%j: the error starts with the adapter name', (o, message) => {
    expect(thrown(resolve(o)).message.startsWith(`@x/adapter: ${message}`)).toBe(true);
  });
});
