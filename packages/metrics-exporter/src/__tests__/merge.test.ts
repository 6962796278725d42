import { MetricsCollector, mergeStates, type RequestRecord, reviveState } from '@gatewayz/metrics-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { renderText } from '../index.js';
import { parseExposition, sampleMap } from './helpers/exposition.js';
import { manualClock } from './helpers/fixtures.js';

const request = fc.record({
  endpoint: fc.constantFrom('/a', '/b', '/c"\\\n'),
  method: fc.constantFrom('GET', 'POST'),
  statusCode: fc.constantFrom(200, 201, 404, 500, 503),
  // multiples of 1/1024 so that sums are exact in any order
  latencySeconds: fc.integer({ min: 1, max: 200_000 }).map((n) => n / 1024),
  provider: fc.constantFrom('openai', 'anthropic', undefined),
  model: fc.constantFrom('gpt-4o', 'claude', undefined),
});
const event = fc.oneof(
  { weight: 6, arbitrary: request.map((r) => ({ kind: 'request' as const, r: r as RequestRecord })) },
  { weight: 1, arbitrary: fc.constantFrom({ kind: 'hit' as const }, { kind: 'miss' as const }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 4096 }).map((n) => ({ kind: 'db' as const, s: n / 1024 })) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('ext' as const),
      service: fc.constantFrom('billing', 'auth'),
      error: fc.boolean(),
    }),
  },
);
type Event = typeof event extends fc.Arbitrary<infer T> ? T : never;

function apply(c: MetricsCollector, e: Event) {
  if (e.kind === 'request') c.recordRequest(e.r);
  else if (e.kind === 'hit') c.recordCacheHit();
  else if (e.kind === 'miss') c.recordCacheMiss();
  else if (e.kind === 'db') c.recordDbQuery(e.s);
  else c.recordExternalApiCall(e.service, { error: e.error, latencySeconds: 0.5 });
}

describe('mergeStates rendered equals one collector that saw everything', () => {
  it('for every series: counters, histogram, window gauges and self-metrics', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(event, fc.boolean()), { minLength: 1, maxLength: 120 }), (events) => {
        const clock = manualClock();
        const all = new MetricsCollector({ runtimeMetrics: false, now: clock.now });
        const a = new MetricsCollector({ runtimeMetrics: false, now: clock.now });
        const b = new MetricsCollector({ runtimeMetrics: false, now: clock.now });
        for (const [e, toA] of events) {
          apply(all, e);
          apply(toA ? a : b, e);
        }
        clock.advance(1000);
        const merged = mergeStates([a.state(), b.state()]);
        for (const format of ['text', 'openmetrics'] as const) {
          const got = sampleMap(parseExposition(renderText(merged, format), format));
          const want = sampleMap(parseExposition(renderText(all.state(), format), format));
          expect(got).toEqual(want);
        }
        // through JSON, as cluster workers send it
        const viaJson = mergeStates([
          reviveState(JSON.parse(JSON.stringify(a.state()))),
          reviveState(JSON.parse(JSON.stringify(b.state()))),
        ]);
        expect(sampleMap(parseExposition(renderText(viaJson)))).toEqual(
          sampleMap(parseExposition(renderText(all.state()))),
        );
      }),
      { numRuns: 60 },
    );
  });
});
