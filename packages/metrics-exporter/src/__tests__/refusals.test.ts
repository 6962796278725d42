import { METRICS_ERROR_CODES, MetricsCollector, MetricsError } from '@gatewayz/metrics-core';
import { describe, expect, it } from 'vitest';
import { PrometheusExporter, registerPromClientMetrics } from '../index.js';
import { APPEND_REASONS } from '../internal/appended.js';
import { APPEND_REFUSAL_REASONS, REFUSAL_REASONS } from '../refusals.js';

const refusalSeries = (text: string): Map<string, number> =>
  new Map(
    [...text.matchAll(/^gatewayz_metrics_admin_refusals_total\{reason="([^"]+)"\} (\S+)$/gm)].map((m) => [
      m[1]!,
      Number(m[2]),
    ]),
  );

describe('refusal reasons: one list that the rendering, the handlers and append agree on', () => {
  it('a fresh exporter shows exactly REFUSAL_REASONS, each at 0', () => {
    const e = new PrometheusExporter(new MetricsCollector({ runtimeMetrics: false }));
    const shown = refusalSeries(e.export());
    expect([...shown.keys()].sort()).toEqual([...REFUSAL_REASONS].sort());
    expect([...shown.values()].every((v) => v === 0)).toBe(true);
  });

  it('an append reason is shown once counted, beside the five', () => {
    const e = new PrometheusExporter(new MetricsCollector({ runtimeMetrics: false }));
    e.countRefusal('append_timeout');
    e.countRefusal('wrong_token');
    const shown = refusalSeries(e.export());
    expect(shown.get('append_timeout')).toBe(1);
    expect(shown.get('wrong_token')).toBe(1);
    expect(shown.size).toBe(REFUSAL_REASONS.length + 1);
  });

  it('append counts each of APPEND_REFUSAL_REASONS, and only those', () => {
    expect(Object.values(APPEND_REASONS).sort()).toEqual([...APPEND_REFUSAL_REASONS].sort());
    expect(REFUSAL_REASONS.filter((r) => (APPEND_REFUSAL_REASONS as readonly string[]).includes(r))).toEqual([]);
  });
});

describe('one error style: the exporter names itself and the value it got', () => {
  const P = '@gatewayz/metrics-exporter: ';
  const collector = new MetricsCollector({ runtimeMetrics: false });
  it.each([
    ['an exporter without a source', () => new PrometheusExporter(5 as never), 'got the number 5'],
    ['an exporter over a plain object', () => new PrometheusExporter({} as never), 'got an object'],
    ['a negative cacheMs', () => new PrometheusExporter(collector, { cacheMs: -1 }), 'got -1'],
    ['a misspelled exporter option', () => new PrometheusExporter(collector, { cacheMS: 1 } as never), '"cacheMS"'],
    ['prom-client without a registry', () => registerPromClientMetrics(null as never), 'got null'],
    ['prom-client with a string', () => registerPromClientMetrics('register' as never), 'got the string "register"'],
  ])('%s', (_name, f, shown) => {
    let error: unknown;
    try {
      f();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MetricsError);
    const e = error as MetricsError;
    expect(METRICS_ERROR_CODES).toContain(e.code);
    expect(e.code).toBe('INVALID_OPTION');
    expect(e.message).toBe(P + e.detail);
    expect(e.detail, e.message).toContain(shown);
  });
});
