import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  fromSeed,
  MetricsCollector,
  mergeStates,
  type RequestRecord,
  reviveState,
  seedView,
} from '@gatewayz/metrics-core';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveHttpMetricsOptions } from '../entries/node.js';
import { PrometheusExporter, renderText } from '../index.js';
import { activeSpanExemplar, parseTraceparent } from '../internal/traceContext.js';
import { parseExposition } from './helpers/exposition.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';
const VALID = `00-${TRACE}-${SPAN}-01`;

describe('parseTraceparent', () => {
  it('reads the trace and parent span of a valid version-00 header, whatever the flags', () => {
    expect(parseTraceparent(VALID)).toEqual({ traceId: TRACE, spanId: SPAN });
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-00`)).toEqual({ traceId: TRACE, spanId: SPAN });
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-ff`)).toEqual({ traceId: TRACE, spanId: SPAN });
  });

  it.each([
    ['upper-case hex', VALID.toUpperCase()],
    ['upper-case trace id', `00-${TRACE.toUpperCase()}-${SPAN}-01`],
    ['version 01', `01-${TRACE}-${SPAN}-01`],
    ['version ff', `ff-${TRACE}-${SPAN}-01`],
    ['all-zero trace id', `00-${'0'.repeat(32)}-${SPAN}-01`],
    ['all-zero span id', `00-${TRACE}-${'0'.repeat(16)}-01`],
    ['short trace id', `00-${TRACE.slice(1)}-${SPAN}-01`],
    ['long span id', `00-${TRACE}-${SPAN}0-01`],
    ['trailing text', `${VALID}-extra`],
    ['leading space', ` ${VALID}`],
    ['trailing newline', `${VALID}\n`],
    ['two headers joined', `${VALID}, ${VALID}`],
    ['label injection', `00-${TRACE.slice(0, 28)}"} 1-${SPAN}-01`],
    ['quote in trace id, right length', `00-${TRACE.slice(0, 31)}"-${SPAN}-01`],
    ['non-hex', `00-${'g'.repeat(32)}-${SPAN}-01`],
    ['one-digit flags', `00-${TRACE}-${SPAN}-1`],
    ['no dashes', `00${TRACE}${SPAN}01`],
    ['empty', ''],
    ['unicode digits', `00-${'٣'.repeat(32)}-${SPAN}-01`],
    ['huge', 'a'.repeat(1 << 20)],
    ['array', [VALID]],
    ['number', 42],
    ['undefined', undefined],
  ])('ignores %s', (_, header) => {
    expect(parseTraceparent(header)).toBeUndefined();
  });
});

const KEY = Symbol.for('opentelemetry.js.api.1');
const SPAN_KEY = Symbol.for('OpenTelemetry Context Key SPAN');
const g = globalThis as unknown as Record<symbol, unknown>;

/** A stand-in for `@opentelemetry/api`'s global registration, with `span` as the active span. */
function fakeOtel(spanContext: (() => unknown) | undefined): void {
  g[KEY] = {
    version: '1.9.0',
    context: {
      active: () => ({ getValue: (k: symbol) => (k === SPAN_KEY && spanContext ? { spanContext } : undefined) }),
    },
  };
}

describe('the active OpenTelemetry span', () => {
  afterEach(() => {
    delete g[KEY];
  });

  it('is read from the API global registration, without importing the API', () => {
    expect(activeSpanExemplar()).toBeUndefined();
    fakeOtel(() => ({ traceId: TRACE, spanId: SPAN, traceFlags: 1 }));
    expect(activeSpanExemplar()).toEqual({ traceId: TRACE, spanId: SPAN });
  });

  it('ignores invalid span contexts (the API uses all zeros for "no span") and a throwing context manager', () => {
    fakeOtel(() => ({ traceId: '0'.repeat(32), spanId: '0'.repeat(16) }));
    expect(activeSpanExemplar()).toBeUndefined();
    fakeOtel(() => ({ traceId: `${TRACE.slice(0, 31)}"`, spanId: SPAN }));
    expect(activeSpanExemplar()).toBeUndefined();
    fakeOtel(() => ({ traceId: TRACE, spanId: 'nope' }));
    expect(activeSpanExemplar()).toEqual({ traceId: TRACE });
    fakeOtel(() => {
      throw new Error('boom');
    });
    expect(activeSpanExemplar()).toBeUndefined();
    g[KEY] = { version: '1.9.0' }; // the API loaded, no context manager registered
    expect(activeSpanExemplar()).toBeUndefined();
  });

  it('with the real @opentelemetry/api (when installed, as in bench/) and an AsyncLocalStorage context manager', async (ctx) => {
    // Optional peer: this package never depends on it. bench/ has it installed; elsewhere this sub-case is skipped.
    const benchPkg = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../bench/package.json');
    // The few members of the API this test uses (its types are not installed here).
    type Ctx = object;
    interface OtelApi {
      ROOT_CONTEXT: Ctx;
      context: {
        setGlobalContextManager(m: unknown): boolean;
        active(): Ctx;
        with<T>(c: Ctx, fn: () => T): T;
        disable(): void;
      };
      trace: { wrapSpanContext(sc: object): unknown; setSpan(c: Ctx, span: unknown): Ctx };
    }
    let api: OtelApi | undefined;
    try {
      if (existsSync(benchPkg)) api = createRequire(benchPkg)('@opentelemetry/api') as OtelApi;
    } catch {
      api = undefined;
    }
    if (!api) {
      ctx.skip('@opentelemetry/api is not installed (it is an optional peer; bench/ installs it)');
      return;
    }
    const { AsyncLocalStorage } = await import('node:async_hooks');
    const als = new AsyncLocalStorage<Ctx>();
    const { context, trace, ROOT_CONTEXT } = api;
    const manager = {
      active: () => als.getStore() ?? ROOT_CONTEXT,
      with: (c: Ctx, fn: (...a: unknown[]) => unknown, thisArg?: unknown, ...args: unknown[]) =>
        als.run(c, () => fn.apply(thisArg, args)),
      bind: <T>(_c: unknown, target: T) => target,
      enable() {
        return this;
      },
      disable() {
        return this;
      },
    };
    expect(context.setGlobalContextManager(manager)).toBe(true);
    try {
      const span = trace.wrapSpanContext({ traceId: TRACE, spanId: SPAN, traceFlags: 1 });
      const seen = context.with(trace.setSpan(context.active(), span), () => activeSpanExemplar());
      expect(seen).toEqual({ traceId: TRACE, spanId: SPAN });
      expect(activeSpanExemplar()).toBeUndefined();
    } finally {
      context.disable();
    }
  });
});

const rec = (latencySeconds: number, exemplar?: RequestRecord['exemplar']): RequestRecord => ({
  endpoint: '/v1/chat/completions',
  method: 'POST',
  latencySeconds,
  statusCode: 200,
  ...(exemplar ? { exemplar } : {}),
});

function pair() {
  const now = () => 1_700_000_000_123;
  const withEx = new MetricsCollector({ runtimeMetrics: false, now });
  const without = new MetricsCollector({ runtimeMetrics: false, now });
  const records: [number, RequestRecord['exemplar']][] = [
    [0.245, { traceId: TRACE, spanId: SPAN }],
    [0.003, { traceId: '0af7651916cd43dd8448eb211c80319c' }],
    [200, { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16) }],
    [0.3, undefined],
  ];
  for (const [l, e] of records) {
    withEx.recordRequest(rec(l, e));
    without.recordRequest(rec(l));
  }
  return { withEx, without };
}

function strictParse(text: string): { status: number | null; stdout: string; stderr: string } {
  const script = [
    'import json, sys',
    'from prometheus_client.openmetrics.parser import text_string_to_metric_families',
    'out = []',
    'for f in text_string_to_metric_families(sys.stdin.read()):',
    '    for s in f.samples:',
    '        if s.exemplar is not None:',
    '            out.append([s.name, s.labels.get("le"), s.exemplar.labels, s.exemplar.value,',
    '                        None if s.exemplar.timestamp is None else float(s.exemplar.timestamp)])',
    'print(json.dumps(out))',
  ].join('\n');
  const r = spawnSync('/usr/bin/python3', ['-c', script], { input: text, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('exemplars in the expositions', () => {
  it('OpenMetrics carries them on the buckets and on http_requests_total, and the strict parser reads them', () => {
    const { withEx } = pair();
    const om = new PrometheusExporter(withEx).exportOpenMetrics();
    expect(om).toContain(
      `http_request_duration_seconds_bucket{endpoint="/v1/chat/completions",method="POST",le="0.25"} 2 # {trace_id="${TRACE}",span_id="${SPAN}"} 0.245 1700000000.123\n`,
    );
    parseExposition(om, 'openmetrics');
    const r = strictParse(om);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const got = JSON.parse(r.stdout) as [string, string | null, Record<string, string>, number, number][];
    expect(got).toEqual([
      ['http_requests_total', null, { trace_id: 'a'.repeat(32), span_id: 'b'.repeat(16) }, 1, 1700000000.123],
      [
        'http_request_duration_seconds_bucket',
        '0.005',
        { trace_id: '0af7651916cd43dd8448eb211c80319c' },
        0.003,
        1700000000.123,
      ],
      ['http_request_duration_seconds_bucket', '0.25', { trace_id: TRACE, span_id: SPAN }, 0.245, 1700000000.123],
      [
        'http_request_duration_seconds_bucket',
        '+Inf',
        { trace_id: 'a'.repeat(32), span_id: 'b'.repeat(16) },
        200,
        1700000000.123,
      ],
    ]);
  });

  it('text 0.0.4 stays byte for byte what it is without exemplars, and promtool is clean', () => {
    const { withEx, without } = pair();
    const a = withEx.state();
    const b = without.state();
    const text = renderText(a, 'text');
    expect(text).toBe(renderText(b, 'text'));
    expect(text).not.toContain('trace_id');
    const p = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 30_000 });
    expect(p.error).toBeUndefined();
    expect({ status: p.status, output: `${p.stdout}${p.stderr}` }).toEqual({ status: 0, output: '' });
    // OpenMetrics differs only by the exemplar suffixes.
    const strip = (s: string) => s.replace(/ # \{[^}]*\} \S+ \S+$/gm, '');
    expect(strip(renderText(a, 'openmetrics'))).toBe(renderText(b, 'openmetrics'));
  });

  it('renders merged (cluster) states: the latest exemplar per bucket across workers', () => {
    const a = new MetricsCollector({ runtimeMetrics: false, now: () => 1000 });
    const b = new MetricsCollector({ runtimeMetrics: false, now: () => 2000 });
    a.recordRequest(rec(0.2, { traceId: '1'.repeat(32) }));
    b.recordRequest(rec(0.2, { traceId: '2'.repeat(32) }));
    const merged = mergeStates([a.state(), reviveState(JSON.parse(JSON.stringify(b.state())))]);
    const om = renderText(merged, 'openmetrics');
    expect(om).toContain(`le="0.25"} 2 # {trace_id="${'2'.repeat(32)}"} 0.2 2.000\n`);
    expect(strictParse(om).status).toBe(0);
  });

  it('keeps the latest exemplar when duplicate series of a hand-built state are summed into one', () => {
    const a = new MetricsCollector({ runtimeMetrics: false, now: () => 1000 });
    const b = new MetricsCollector({ runtimeMetrics: false, now: () => 2000 });
    a.recordRequest(rec(0.2, { traceId: '1'.repeat(32) }));
    a.recordRequest(rec(2, { traceId: '3'.repeat(32) }));
    b.recordRequest(rec(0.2, { traceId: '2'.repeat(32) }));
    const s = seedView(a.state());
    s.endpoints[0]!.methods.push(seedView(b.state()).endpoints[0]!.methods[0]!); // two POST series in one endpoint
    const om = renderText(fromSeed(s), 'openmetrics');
    expect(om).toContain(`le="0.25"} 2 # {trace_id="${'2'.repeat(32)}"} 0.2 2.000\n`);
    expect(om).toContain(`le="2.5"} 3 # {trace_id="${'3'.repeat(32)}"} 2 1.000\n`);
    expect(om).toMatch(/^http_requests_total\{[^}]*\} 3 # \{trace_id="2{32}"\} 1 2\.000$/m);
    expect(strictParse(om).status).toBe(0);
  });

  it('leaves out an exemplar of a hand-built state whose labels pass 128 characters, and escapes its values', () => {
    const c = new MetricsCollector({ runtimeMetrics: false, now: () => 1000 });
    c.recordRequest(rec(0.2, { traceId: TRACE }));
    const s = seedView(c.state());
    const m = s.endpoints[0]!.methods[0]!;
    m.exemplars = m.exemplars!.map((e) => e && { ...e, traceId: 'x'.repeat(121) });
    m.requestExemplar = { traceId: 'q"\n\\', value: 1, timestampMs: 1000 };
    const om = renderText(fromSeed(s), 'openmetrics');
    expect(om).not.toContain('x'.repeat(121));
    expect(om).toContain('# {trace_id="q\\"\\n\\\\"} 1 1.000');
    expect(strictParse(om).status).toBe(0);
  });
});

describe('track() passes the trace of each request', () => {
  let server: Server | undefined;
  afterEach(async () => {
    delete g[KEY];
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
    server = undefined;
  });

  async function serve(options: { exemplars?: boolean } = {}) {
    const collector = new MetricsCollector({ runtimeMetrics: false });
    const m = resolveHttpMetricsOptions({ collector, ...options }, 'pkg');
    server = createServer((req, res) => {
      m.track(req, res, req.url ?? '/', () => '/traced');
      res.end('ok');
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/traced`;
    const get = async (headers: Record<string, string> = {}) => {
      await (await fetch(url, { headers })).text();
      await new Promise((r) => setTimeout(r, 10));
    };
    return { collector, get };
  }

  it('from traceparent; a malformed header is ignored; exemplars: false turns it off', async () => {
    const { collector, get } = await serve();
    await get({ traceparent: VALID });
    let s = seedView(collector.state()).endpoints[0]!.methods[0]!;
    expect(s.requestExemplar).toMatchObject({ traceId: TRACE, spanId: SPAN });
    await get({ traceparent: `00-${'1'.repeat(32)}-${SPAN}-01"} 1` });
    await get();
    s = seedView(collector.state()).endpoints[0]!.methods[0]!;
    expect(s.requests).toBe(3);
    expect(s.requestExemplar?.traceId).toBe(TRACE);
    expect(seedView(collector.state()).dropped.invalid_exemplar).toBeUndefined();
    expect(new PrometheusExporter(collector).exportOpenMetrics()).toContain(`trace_id="${TRACE}"`);
    await new Promise((r) => server!.close(r));

    const off = await serve({ exemplars: false });
    await off.get({ traceparent: VALID });
    expect(seedView(off.collector.state()).endpoints[0]!.methods[0]!.requestExemplar).toBeUndefined();
  });

  it('from the active OpenTelemetry span when there is no traceparent', async () => {
    const { collector, get } = await serve();
    fakeOtel(() => ({ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331' }));
    await get();
    expect(seedView(collector.state()).endpoints[0]!.methods[0]!.requestExemplar).toMatchObject({
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
    });
    await get({ traceparent: VALID }); // the header wins
    expect(seedView(collector.state()).endpoints[0]!.methods[0]!.requestExemplar?.traceId).toBe(TRACE);
  });

  it('rejects a non-boolean exemplars option', () => {
    expect(() => resolveHttpMetricsOptions({ exemplars: 'yes' as never }, '@x/pkg')).toThrow(/^@x\/pkg/);
  });
});
