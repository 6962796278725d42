import { expect } from 'vitest';
import { strictOpenMetrics } from './openmetrics.js';

/** What prom-client 15's `register.metrics()` returns in 0.0.4 mode: families separated by blank lines, `Nan`. */
export const PROM_CLIENT_TEXT = [
  '# HELP legacy_jobs_total Jobs "done".',
  '# TYPE legacy_jobs_total counter',
  'legacy_jobs_total{queue="a\u2028b \\"c\\""} 3',
  '',
  '# HELP legacy_lag_seconds Lag.',
  '# TYPE legacy_lag_seconds gauge',
  'legacy_lag_seconds Nan',
  '',
  '# HELP legacy_job_seconds Job time.',
  '# TYPE legacy_job_seconds histogram',
  'legacy_job_seconds_bucket{le="0.5"} 1',
  'legacy_job_seconds_bucket{le="+Inf"} 2',
  'legacy_job_seconds_sum 1.5',
  'legacy_job_seconds_count 2',
  '',
].join('\n');

export const OPENMETRICS_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
export const PROTOBUF_ACCEPT =
  'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.9,' +
  OPENMETRICS_ACCEPT.replace('version=1.0.0', 'version=1.0.0;q=0.8');

/**
 * Asserts that an adapter mounted with `append: () => PROM_CLIENT_TEXT` serves it converted to every
 * negotiated format: strict OpenMetrics with the appended families, 0.0.4 without blank lines, and protobuf.
 * `scrape(accept)` fetches `/metrics` with that Accept header.
 */
export async function expectAppendConverted(
  scrape: (accept: string | undefined) => Promise<{ contentType: string; body: Buffer }>,
): Promise<void> {
  const om = await scrape(OPENMETRICS_ACCEPT);
  expect(om.contentType).toMatch(/^application\/openmetrics-text/);
  const families = new Map(strictOpenMetrics(om.body.toString('utf8')).map((f) => [f[0], f]));
  const [name, labels, value] = families.get('legacy_jobs')?.[2][0] ?? [];
  expect([name, labels, Number(value)]).toEqual(['legacy_jobs_total', { queue: 'a\u2028b "c"' }, 3]);
  expect(families.get('legacy_job_seconds')?.[1]).toBe('histogram');
  expect(families.get('http_requests')?.[1]).toBe('counter');
  const text = await scrape(undefined);
  expect(text.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  expect(text.body.toString('utf8')).not.toContain('\n\n');
  expect(text.body.toString('utf8')).toContain('legacy_lag_seconds NaN\n');
  const proto = await scrape(PROTOBUF_ACCEPT);
  expect(proto.contentType).toMatch(/^application\/vnd\.google\.protobuf/);
  expect(proto.body.includes(Buffer.from('legacy_job_seconds'))).toBe(true);
}
