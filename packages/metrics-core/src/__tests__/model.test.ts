import { describe, expect, it } from 'vitest';
import { fromSeed, MetricsCollector, mergeStates, seedView, stateFamilies } from '../index.js';

function traffic(c: MetricsCollector, endpoints: string[]): void {
  for (const [i, endpoint] of endpoints.entries()) {
    c.recordRequest({ endpoint, method: 'GET', latencySeconds: 0.01 * (i + 1), statusCode: 200, provider: 'p' });
    c.recordRequest({ endpoint, method: 'POST', latencySeconds: 0.2, statusCode: 503, model: 'm' });
  }
  c.recordCacheHit();
  c.recordDbQuery(0.003);
  c.recordExternalApiCall('billing', { latencySeconds: 0.05 });
}

const sampleOf = (families: ReturnType<typeof stateFamilies>, name: string, labels: string[]) =>
  families.find((f) => f.name === name)?.series.find((s) => s.labels.join() === labels.join())?.value;

describe('one metrics model', () => {
  it('holds every family in one generic list, and seedView/fromSeed read and build the seed figures losslessly', () => {
    const c = new MetricsCollector({ runtimeMetrics: false, now: () => 1_700_000_000_000 });
    traffic(c, ['/a', '/b']);
    const state = c.state();
    expect(Object.keys(state).sort()).toEqual(['families', 'sketchScale', 'startMs', 'timestampMs', 'windowSeconds']);
    const names = state.families.map((f) => f.name);
    expect(names).toContain('http_requests_total');
    expect(names.filter((n) => n.startsWith('window:'))).toHaveLength(6);
    const view = seedView(state);
    expect(view.totals).toMatchObject({ requests: 4, errors: 2 });
    expect(JSON.stringify(seedView(fromSeed(view)))).toBe(JSON.stringify(view));
  });

  it('a renderer sums series of a copied family that repeat a label set (a hand-built state)', () => {
    const c = new MetricsCollector({ runtimeMetrics: false });
    traffic(c, ['/a']);
    const state = c.state();
    state.families = state.families.map((f) =>
      f.name === 'http_requests_total' ? { ...f, series: [...f.series, { ...f.series[0]!, value: 5 }] } : f,
    );
    const families = stateFamilies(state);
    const requests = families.find((f) => f.name === 'http_requests_total')!;
    expect(requests.series.filter((s) => s.labels.join() === '/a,GET')).toHaveLength(1);
    expect(sampleOf(families, 'http_requests_total', ['/a', 'GET'])).toBe(6);
  });

  it('a merge counts the distinct label values held again, from the merged series', () => {
    const a = new MetricsCollector({ runtimeMetrics: false });
    const b = new MetricsCollector({ runtimeMetrics: false });
    traffic(a, ['/a', '/shared']);
    traffic(b, ['/b', '/shared']);
    const merged = stateFamilies(mergeStates([a.state(), b.state()]));
    expect(sampleOf(merged, 'gatewayz_metrics_series', ['endpoint'])).toBe(3);
    expect(sampleOf(merged, 'gatewayz_metrics_series', ['provider'])).toBe(1);
    expect(sampleOf(merged, 'http_requests_total', ['/shared', 'GET'])).toBe(2);
    expect(seedView(mergeStates([a.state(), b.state()])).cardinality).toEqual({
      endpoints: 3,
      providers: 1,
      models: 1,
      services: 1,
    });
  });

  it('the self-report comes last and uptime follows the state clock (an aggregator sets its own)', () => {
    const c = new MetricsCollector({ runtimeMetrics: false, now: () => 1_700_000_000_000 });
    c.counter({ name: 'jobs_total', help: 'Jobs.' }).inc();
    const state = { ...c.state(), startMs: 1_700_000_000_000 - 42_000 };
    const names = stateFamilies(state).map((f) => f.name);
    expect(names.slice(-3)).toEqual([
      'gatewayz_metrics_dropped_values_total',
      'gatewayz_metrics_label_overflow_total',
      'gatewayz_metrics_series',
    ]);
    expect(names.indexOf('jobs_total')).toBeGreaterThan(names.indexOf('gatewayz_uptime_seconds'));
    expect(sampleOf(stateFamilies(state), 'gatewayz_uptime_seconds', [])).toBe(42);
  });
});
