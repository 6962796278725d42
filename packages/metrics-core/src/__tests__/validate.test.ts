import { describe, expect, it } from 'vitest';
import {
  evaluateHealth,
  MetricsCollector,
  type MetricsCollectorOptions,
  MetricsError,
  type OptionSchema,
  tracked,
  trackRequest,
  validateOptions,
} from '../index.js';
import { closestKey, describeValue } from '../validate.js';

/** The error `f` throws (fails the test when it throws nothing). */
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

const collector = (o: unknown) => () => new MetricsCollector(o as MetricsCollectorOptions);

describe('MetricsCollector options: unknown keys and wrong kinds', () => {
  it.each([
    [{ windowSecond: 60 }, '@gatewayz/metrics-core: unknown option "windowSecond"; did you mean "windowSeconds"?'],
    [{ windowsSlots: 3 }, '@gatewayz/metrics-core: unknown option "windowsSlots"; did you mean "windowSlots"?'],
    [{ isErrorstatus: () => true }, 'unknown option "isErrorstatus"; did you mean "isErrorStatus"?'],
    [{ histogramBukcets: [1] }, 'unknown option "histogramBukcets"; did you mean "histogramBuckets"?'],
    [{ limits: { endpoint: 5 } }, 'unknown option "limits.endpoint"; did you mean "limits.endpoints"?'],
    [{ health: { minRequest: 5 } }, 'unknown option "health.minRequest"; did you mean "health.minRequests"?'],
    [{ limit: { endpoints: 5 } }, 'unknown option "limit"; did you mean "limits"?'],
  ])('%j names the closest valid key', (o, message) => {
    expect(thrown(collector(o)).message).toContain(message);
  });

  it('lists the valid keys when nothing is close', () => {
    const e = thrown(collector({ colour: 'red' }));
    expect(e.message).toBe(
      '@gatewayz/metrics-core: unknown option "colour"; valid options are "windowSeconds", "windowSlots", ' +
        '"sketchScale", "histogramBuckets", "maxLatencySeconds", "limits", "health", "isErrorStatus", "now", ' +
        '"runtimeMetrics", "completions"',
    );
    expect(thrown(collector({ limits: { zzz: 1 } })).message).toMatch(/valid options of "limits" are "endpoints", /);
  });

  it.each([
    [{ windowSeconds: '60' }, 'option "windowSeconds" must be a number, got the string "60"'],
    [{ histogramBuckets: 0.5 }, 'option "histogramBuckets" must be an array, got the number 0.5'],
    [{ limits: 5 }, 'option "limits" must be an object, got the number 5'],
    [{ limits: null }, 'option "limits" must be an object, got null'],
    [{ limits: { models: '9' } }, 'option "limits.models" must be a number, got the string "9"'],
    [{ health: [] }, 'option "health" must be an object, got an array'],
    [{ now: 12 }, 'option "now" must be a function, got the number 12'],
    [{ isErrorStatus: true }, 'option "isErrorStatus" must be a function, got the boolean true'],
  ])('%j names what was given', (o, message) => {
    expect(thrown(collector(o)).message).toBe(`@gatewayz/metrics-core: ${message}`);
  });

  it('rejects a non-object', () => {
    expect(thrown(collector(null)).message).toBe('@gatewayz/metrics-core: options must be an object, got null');
    expect(thrown(collector('fast')).message).toMatch(/options must be an object, got the string "fast"/);
  });

  it('still accepts every documented key, and undefined values', () => {
    const all: Required<MetricsCollectorOptions> = {
      windowSeconds: 60,
      windowSlots: 6,
      sketchScale: 6,
      histogramBuckets: [0.1, 1],
      maxLatencySeconds: 60,
      limits: { endpoints: 1, methods: 1, providers: 1, models: 1, services: 1, labelLength: 8 },
      health: { degradedErrorRate: 0.1, unhealthyErrorRate: 0.2, minRequests: 1 },
      isErrorStatus: (s) => s >= 500,
      now: Date.now,
      runtimeMetrics: true,
      completions: { names: 'otel', prices: { m: { input: 1, output: 2 } }, maxTenants: 10 },
    };
    expect(() => new MetricsCollector(all)).not.toThrow();
    expect(() => new MetricsCollector({ limits: undefined, health: undefined, now: undefined })).not.toThrow();
  });

  it('checks evaluateHealth thresholds the same way', () => {
    const e = thrown(() => evaluateHealth({ requests: 1, errors: 0 }, { degradedRate: 0.1 } as never));
    expect(e.message).toBe(
      '@gatewayz/metrics-core: unknown option "health.degradedRate"; did you mean "health.degradedErrorRate"?',
    );
  });

  it('never throws while recording, whatever the record holds', () => {
    const c = new MetricsCollector();
    expect(() => c.recordRequest({ endpont: '/x', method: 'GET' } as never)).not.toThrow();
    expect(() => c.startRequest({ endpont: '/x' } as never)({ statusCode: 200, extra: 1 } as never)).not.toThrow();
  });
});

describe('trackRequest and tracked options', () => {
  it('rejects a misspelled key when wrapping, never when calling', () => {
    const e = thrown(() => trackRequest({ endpoint: '/x', methd: 'POST' } as never, () => 1));
    expect(e.message).toBe('@gatewayz/metrics-core: unknown option "methd"; did you mean "method"?');
    expect(thrown(() => tracked({ endpoint: '/x', statusof: () => 200 } as never)).message).toMatch(
      /unknown option "statusof"; did you mean "statusOf"\?/,
    );
    expect(thrown(() => trackRequest({ endpoint: '/x', provider: 5 } as never, () => 1)).message).toMatch(
      /option "provider" must be a string, got the number 5/,
    );
    expect(thrown(() => trackRequest({ endpoint: '/x', collector: {} } as never, () => 1)).message).toMatch(
      /option "collector" must be a MetricsCollector/,
    );
    const c = new MetricsCollector();
    const f = trackRequest({ endpoint: '/x', collector: c, statusOf: () => 'x' as never }, () => 1);
    expect(() => f()).not.toThrow();
    expect(c.snapshot().totals.requests).toBe(1);
  });
});

describe('validateOptions and MetricsError for other packages', () => {
  interface Options {
    adminToken?: string | null;
    dashboard?: boolean | { intervalMs?: number };
    protobuf?: boolean;
  }
  const schema: OptionSchema<Options> = {
    adminToken: ['string', 'null'],
    dashboard: ['boolean', { intervalMs: 'number' }],
    protobuf: 'boolean',
  };

  it('starts the message with the given package name', () => {
    const e = thrown(() => validateOptions({ adminTokn: 'x' }, schema, '@gatewayz/metrics-express'));
    expect(e.message).toBe('@gatewayz/metrics-express: unknown option "adminTokn"; did you mean "adminToken"?');
    expect(e.packageName).toBe('@gatewayz/metrics-express');
    expect(e.detail).toBe('unknown option "adminTokn"; did you mean "adminToken"?');
    expect(new MetricsError('INVALID_OPTION', 'x').message).toBe('@gatewayz/metrics-core: x');
  });

  it('names the alternatives and what was given', () => {
    expect(thrown(() => validateOptions({ dashboard: 'yes' }, schema, '@p')).message).toBe(
      '@p: option "dashboard" must be a boolean or an object, got the string "yes"',
    );
    expect(thrown(() => validateOptions({ adminToken: 5 }, schema, '@p')).message).toBe(
      '@p: option "adminToken" must be a string or null, got the number 5',
    );
    expect(thrown(() => validateOptions({ dashboard: { intervalMs: '5' } }, schema, '@p')).message).toBe(
      '@p: option "dashboard.intervalMs" must be a number, got the string "5"',
    );
    expect(thrown(() => validateOptions({ dashboard: { interval: 5 } }, schema, '@p')).message).toBe(
      '@p: unknown option "dashboard.interval"; did you mean "dashboard.intervalMs"?',
    );
    expect(() => validateOptions({ adminToken: null, dashboard: true, protobuf: undefined }, schema)).not.toThrow();
    expect(() => validateOptions(undefined, schema)).not.toThrow();
  });

  it('does not take inherited names for keys', () => {
    expect(thrown(() => validateOptions({ toString: 'x' }, schema)).message).toMatch(/unknown option "toString"/);
  });

  it('never echoes a string long enough to be a token', () => {
    const secret = 's3cr3t-t0ken-value-1234';
    const e = thrown(() => validateOptions({ protobuf: secret }, schema));
    expect(e.message).not.toContain(secret);
    expect(e.message).toContain(`got a string of ${secret.length} characters`);
    expect(describeValue('no')).toBe('the string "no"');
  });

  it('suggests only keys that are close', () => {
    expect(closestKey('adminTokn', ['adminToken', 'prefix'])).toBe('adminToken');
    expect(closestKey('PROTOBUF', ['protobuf'])).toBe('protobuf');
    expect(closestKey('potorbuf', ['protobuf'])).toBe('protobuf');
    expect(closestKey('foo', ['now', 'prefix'])).toBeUndefined();
    expect(closestKey('x', ['now'])).toBeUndefined();
    expect(closestKey('user', ['username', 'password'])).toBe('username');
    expect(closestKey('interval', ['intervalMs', 'intervals'])).toBe('intervals');
    expect(closestKey('wind', ['windowSeconds', 'windowSlots'])).toBeUndefined();
  });
});
