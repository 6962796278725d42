import { describe, expect, it } from 'vitest';
import { LogSketch, METRICS_ERROR_CODES, MetricsCollector, MetricsError, trackRequest } from '../index.js';

const P = '@gatewayz/metrics-core: ';

/** The error `f` throws, checked against the house style: a MetricsError with a known code, named and showing `shown`. */
function expectStyle(f: () => unknown, code: string, shown: string): void {
  let error: unknown;
  try {
    f();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(MetricsError);
  const e = error as MetricsError;
  expect(METRICS_ERROR_CODES).toContain(e.code);
  expect(e.code).toBe(code);
  expect(e.packageName).toBe('@gatewayz/metrics-core');
  expect(e.message.startsWith(P), e.message).toBe(true);
  expect(e.message).toBe(P + e.detail);
  expect(e.detail, e.message).toContain(shown);
}

describe('one error style: every core option error is a MetricsError that names the package and shows the value', () => {
  const collector = (o: object) => () => new MetricsCollector(o as never);
  it.each([
    ['windowSeconds', collector({ windowSeconds: -3 }), 'got the number -3'],
    ['windowSlots', collector({ windowSlots: 0 }), 'got 0'],
    ['sketchScale', collector({ sketchScale: 9 }), 'got the number 9'],
    ['histogramBuckets (empty)', collector({ histogramBuckets: [] }), 'got an array'],
    ['histogramBuckets (negative)', collector({ histogramBuckets: [1, -2] }), 'got the number -2 at index 1'],
    ['histogramBuckets (order)', collector({ histogramBuckets: [2, 1] }), 'got 1 after 2'],
    ['maxLatencySeconds', collector({ maxLatencySeconds: 0 }), 'got the number 0'],
    ['health.degradedErrorRate', collector({ health: { degradedErrorRate: 2 } }), 'got the number 2'],
    [
      'health rates in order',
      collector({ health: { degradedErrorRate: 0.5, unhealthyErrorRate: 0.2 } }),
      'got 0.5 > 0.2',
    ],
    ['health.minRequests', collector({ health: { minRequests: 1.5 } }), 'got the number 1.5'],
    ['a misspelled key', collector({ windowSecond: 60 }), '"windowSecond"'],
    ['a wrong kind', collector({ now: 'soon' }), 'got the string "soon"'],
    ['completions.names', collector({ completions: { names: 'x' } }), `got the string "x"`],
    ['completions.maxTenants', collector({ completions: { maxTenants: -1 } }), 'got the number -1'],
    ['completions.maxCostUsd', collector({ completions: { maxCostUsd: 0 } }), 'got the number 0'],
    ['a price', collector({ completions: { prices: { m: { input: -1, output: 1 } } } }), 'got the number -1'],
    ['trackRequest without a function', () => trackRequest({ endpoint: '/x' }, 5 as never), 'got the number 5'],
    ['trackRequest without an endpoint', () => trackRequest({} as never, () => 1), 'got endpoint undefined'],
    ['LogSketch scale', () => new LogSketch(12), 'got the number 12'],
  ])('%s', (_name, f, shown) => expectStyle(f, 'INVALID_OPTION', shown));

  it('an incompatible merge shows both scales', () => {
    expectStyle(() => new LogSketch(6).merge(new LogSketch(5)), 'INCOMPATIBLE_STATE', 'got scale 5 into scale 6');
  });
});
