import { spawnSync } from 'node:child_process';
import { mergeStates, sideBySide } from '@gatewayz/metrics-core';
import { describe, expect, it } from 'vitest';
import { METRIC_FAMILIES, PrometheusExporter, renderProtobuf, renderText } from '../index.js';
import { parseExposition } from './helpers/exposition.js';
import { NASTY, populatedCollector } from './helpers/fixtures.js';

/** `http_requests_in_flight`: the family the issue-13 abort fix added, in every format the exporter writes. */
function withRequestsInFlight() {
  const { collector, clock } = populatedCollector();
  collector.startInFlight('/api/chat');
  collector.startInFlight('/api/chat');
  collector.startInFlight(NASTY.endpoint);
  collector.startInFlight('__unmatched__');
  collector.endInFlight('__unmatched__');
  return { collector, clock };
}

/** The 0.0.4 text without the lines of one family. */
const without = (text: string, family: string) =>
  text
    .split('\n')
    .filter((l) => !l.startsWith(`${family}{`) && !l.startsWith(`${family} `) && !l.includes(` ${family} `))
    .join('\n');

describe('http_requests_in_flight', () => {
  it('is a gauge per endpoint, written right after the duration histogram, zeros kept', () => {
    const { collector } = withRequestsInFlight();
    const text = new PrometheusExporter(collector).export();
    expect(text).toContain(
      '# HELP http_requests_in_flight HTTP requests received and not yet answered or aborted.\n' +
        '# TYPE http_requests_in_flight gauge\n' +
        'http_requests_in_flight{endpoint="/api/chat"} 2\n',
    );
    expect(text).toContain('http_requests_in_flight{endpoint="__unmatched__"} 0\n');
    const names = [...parseExposition(text).families.keys()];
    expect(names.indexOf('http_requests_in_flight')).toBe(names.indexOf('http_request_duration_seconds') + 1);
    expect(METRIC_FAMILIES.inFlight).toMatchObject({ name: 'http_requests_in_flight', type: 'gauge' });
  });

  it('adds only its own lines: the rest of the exposition is the same with or without requests in flight', () => {
    const a = populatedCollector().collector;
    const b = withRequestsInFlight().collector;
    const strip = (t: string) => without(t, 'http_requests_in_flight').replace(/gatewayz_uptime_seconds .*/, '');
    expect(strip(new PrometheusExporter(b).export())).toBe(strip(new PrometheusExporter(a).export()));
  });

  it('the async (sliced) export writes the same bytes as the synchronous one', async () => {
    const { collector } = withRequestsInFlight();
    const exporter = new PrometheusExporter(collector);
    expect(await exporter.exportAsync('text')).toBe(exporter.export());
    expect(await exporter.exportAsync('openmetrics')).toBe(exporter.exportOpenMetrics());
  });

  it('passes promtool and the strict OpenMetrics parser', () => {
    const { collector } = withRequestsInFlight();
    const exporter = new PrometheusExporter(collector);
    const p = spawnSync('promtool', ['check', 'metrics'], { input: exporter.export(), encoding: 'utf8' });
    expect(p.error).toBeUndefined();
    expect({ status: p.status, output: `${p.stdout}${p.stderr}` }).toEqual({ status: 0, output: '' });
    const script = [
      'import json, sys',
      'from prometheus_client.openmetrics.parser import text_string_to_metric_families',
      'for f in text_string_to_metric_families(sys.stdin.read()):',
      '    if f.name == "http_requests_in_flight":',
      '        print(json.dumps([f.type, sorted([s.labels["endpoint"], s.value] for s in f.samples)]))',
    ].join('\n');
    const om = spawnSync('/usr/bin/python3', ['-c', script], { input: exporter.exportOpenMetrics(), encoding: 'utf8' });
    expect(om.stderr).toBe('');
    expect(JSON.parse(om.stdout)).toEqual([
      'gauge',
      [
        [NASTY.endpoint, 1],
        ['/api/chat', 2],
        ['__unmatched__', 0],
      ].sort((x, y) => (String(x[0]) < String(y[0]) ? -1 : 1)),
    ]);
  });

  it('is in the protobuf exposition and the JSON view', async () => {
    const { collector } = withRequestsInFlight();
    const exporter = new PrometheusExporter(collector);
    const pb = Buffer.from(await exporter.exportProtobuf());
    expect(pb.includes('http_requests_in_flight')).toBe(true);
    expect(exporter.snapshot().inFlight).toEqual([
      { endpoint: '/api/chat', requests: 2 },
      { endpoint: NASTY.endpoint, requests: 1 },
      { endpoint: '__unmatched__', requests: 0 },
    ]);
    expect(renderProtobuf(collector.state()).byteLength).toBe(pb.byteLength);
  });

  it('sums across merged states (the cluster primary) and keeps each worker apart under perWorker', () => {
    const a = withRequestsInFlight().collector.state();
    const b = withRequestsInFlight().collector.state();
    const merged = mergeStates([a, b]);
    const text = renderText(merged);
    expect(text).toContain('http_requests_in_flight{endpoint="/api/chat"} 4\n');
    const split = renderText(
      sideBySide(
        merged,
        [
          { value: 'w1', state: a },
          { value: 'w2', state: b },
        ],
        'worker',
      ),
    );
    expect(split).toContain('http_requests_in_flight{worker="w1",endpoint="/api/chat"} 2\n');
    expect(split).toContain('http_requests_in_flight{worker="w2",endpoint="/api/chat"} 2\n');
  });
});
