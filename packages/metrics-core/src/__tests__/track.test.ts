import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterEach, describe, expect, it } from 'vitest';
import {
  getMetricsCollector,
  MetricsCollector,
  type MetricsCollectorOptions,
  seedView,
  setMetricsCollector,
  tracked,
  trackRequest,
} from '../index.js';
import { statusOfError } from '../track.js';
import type { defineHandlers as DefineHandlers } from './fixtures/decorated.js';

const here = dirname(fileURLToPath(import.meta.url));
const pkgDir = join(here, '..', '..');

function clocked(options: MetricsCollectorOptions = {}) {
  const clock = { t: 5_000 };
  const c = new MetricsCollector({ ...options, now: () => clock.t });
  return { c, clock };
}

/** [endpoint, method, status, count] for every recorded status. */
function statuses(c: MetricsCollector) {
  return seedView(c.state()).endpoints.flatMap((e) =>
    e.statuses.map((s) => [e.endpoint, e.methods.map((m) => m.method).join(), s.status, s.count] as const),
  );
}

describe('trackRequest', () => {
  it('wraps a sync function and stays sync, passing this, arguments and result through', () => {
    const { c } = clocked();
    const obj = {
      base: 10,
      add: trackRequest({ endpoint: '/add', collector: c }, function (this: { base: number }, a: number, b: number) {
        return this.base + a + b;
      }),
    };
    const out = obj.add(1, 2);
    expect(out).toBe(13);
    expect(out).not.toBeInstanceOf(Promise);
    expect(statuses(c)).toEqual([['/add', 'GET', '200', 1]]);
    const result = { big: 'object' };
    const same = trackRequest({ endpoint: '/o', collector: c }, () => result);
    expect(same()).toBe(result);
  });

  it('keeps the wrapped function name and length', () => {
    function handler(_a: number, _b: string) {
      return 1;
    }
    const w = trackRequest({ endpoint: '/n' }, handler);
    expect(w.name).toBe('handler');
    expect(w.length).toBe(2);
  });

  it('rethrows the very same error from a sync function and records 500', () => {
    const { c } = clocked();
    const err = new Error('boom');
    const f = trackRequest({ endpoint: '/t', method: 'POST', collector: c }, () => {
      throw err;
    });
    let caught: unknown;
    try {
      f();
    } catch (e) {
      caught = e;
    }
    expect(caught).toBe(err);
    expect(statuses(c)).toEqual([['/t', 'POST', '500', 1]]);
    expect(seedView(c.state()).totals.errors).toBe(1);
  });

  it('records the numeric statusCode or status a thrown error carries', () => {
    const { c } = clocked();
    const throwing = (e: unknown) =>
      trackRequest({ endpoint: '/s', collector: c }, () => {
        throw e;
      });
    for (const e of [
      Object.assign(new Error(), { statusCode: 404 }),
      { status: 503 },
      { statusCode: '404' }, // not numeric: 500
      { statusCode: 1000, status: 429 }, // statusCode invalid, status valid
      'a string',
      null,
    ]) {
      expect(() => throwing(e)()).toThrow();
    }
    expect(seedView(c.state()).endpoints[0]!.statuses).toEqual([
      { status: '404', count: 1 },
      { status: '503', count: 1 },
      { status: '500', count: 3 },
      { status: '429', count: 1 },
    ]);
    // Every throw is an error, whatever its status.
    expect(seedView(c.state()).totals.errors).toBe(6);
    expect(statusOfError({ statusCode: 302.5 })).toBe(500);
    expect(statusOfError(undefined)).toBe(500);
  });

  it('wraps an async function and returns the very same promise', async () => {
    const { c, clock } = clocked();
    let p!: Promise<string>;
    const f = trackRequest({ endpoint: '/async', collector: c }, function (this: unknown, x: string) {
      expect(this).toBe(ctx);
      p = new Promise((resolve) => setTimeout(() => resolve(x + '!'), 5));
      return p;
    });
    const ctx = { me: 1 };
    clock.t = 5_000;
    const returned = f.call(ctx, 'hi');
    expect(returned).toBe(p);
    expect(seedView(c.state()).totals.requests).toBe(0); // not recorded until settled
    clock.t = 5_750;
    await expect(returned).resolves.toBe('hi!');
    expect(statuses(c)).toEqual([['/async', 'GET', '200', 1]]);
    expect(seedView(c.state()).endpoints[0]!.window.min).toBe(0.75);
  });

  it('an async rejection keeps its identity and is recorded with the error status', async () => {
    const { c } = clocked();
    const err = Object.assign(new Error('nope'), { status: 429 });
    let p!: Promise<never>;
    const f = trackRequest({ endpoint: '/r', collector: c }, () => {
      p = Promise.reject(err);
      return p;
    });
    const returned = f();
    expect(returned).toBe(p);
    await expect(returned).rejects.toBe(err);
    expect(statuses(c)).toEqual([['/r', 'GET', '429', 1]]);
    expect(seedView(c.state()).totals.errors).toBe(1);
  });

  it('statusOf and errorStatusOf options decide the recorded status', async () => {
    const { c } = clocked();
    const ok = trackRequest({ endpoint: '/x', collector: c, statusOf: (r: { code: number }) => r.code }, () => ({
      code: 201,
    }));
    ok();
    const okAsync = trackRequest({ endpoint: '/x', collector: c, statusOf: (r: number) => r }, async () => 503);
    await okAsync();
    const bad = trackRequest({ endpoint: '/x', collector: c, errorStatusOf: () => 502 }, () => {
      throw Object.assign(new Error(), { statusCode: 404 });
    });
    expect(() => bad()).toThrow();
    // A throwing statusOf falls back to 200 and never disturbs the caller.
    const weird = trackRequest(
      {
        endpoint: '/x',
        collector: c,
        statusOf: () => {
          throw new Error('bad mapper');
        },
      },
      () => 'fine',
    );
    expect(weird()).toBe('fine');
    expect(seedView(c.state()).endpoints[0]!.statuses).toEqual([
      { status: '201', count: 1 },
      { status: '503', count: 1 },
      { status: '502', count: 1 },
      { status: '200', count: 1 },
    ]);
    expect(seedView(c.state()).totals.errors).toBe(2);
  });

  it('records provider and model labels', () => {
    const { c } = clocked();
    trackRequest(
      { endpoint: '/chat', method: 'POST', provider: 'anthropic', model: 'claude', collector: c },
      () => 1,
    )();
    const s = c.snapshot();
    expect(s.providers.map((p) => [p.provider, p.requests])).toEqual([['anthropic', 1]]);
    expect(s.models.map((p) => [p.model, p.requests])).toEqual([['claude', 1]]);
  });

  it('validates its arguments at wrap time', () => {
    expect(() => trackRequest({ endpoint: '/x' }, 5 as never)).toThrow(/^@gatewayz\/metrics-core:/);
    expect(() => trackRequest({} as never, () => 1)).toThrow(TypeError);
  });
});

describe('the tracked decorator (TC39 / TypeScript 5)', () => {
  // Compile the fixture exactly as tsc would for this package, then evaluate it.
  const source = readFileSync(join(here, 'fixtures', 'decorated.ts'), 'utf8');
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, experimentalDecorators: false },
  });
  const mod: { exports: { defineHandlers?: typeof DefineHandlers } } = { exports: {} };
  new Function('module', 'exports', 'require', outputText)(mod, mod.exports, () => ({}));
  const defineHandlers = mod.exports.defineHandlers!;

  it('the fixture really uses standard decorators (no legacy __decorate helper)', () => {
    expect(outputText).toContain('__esDecorate');
    expect(outputText).not.toContain('__decorate(');
  });

  it('tracks a sync method, keeping this, arguments, result and sync-ness', () => {
    const { c } = clocked();
    const Handler = defineHandlers(tracked, c);
    const h = new Handler();
    h.prefix = 'hi ';
    const out = h.greet('ada');
    expect(out).toBe('hi ada');
    expect(statuses(c)).toEqual([['/chat', 'POST', '200', 1]]);
    expect(c.snapshot().providers[0]!.provider).toBe('openai');
    expect(h.greet.name).toBe('greet');
  });

  it('tracks an async method, returning a promise and recording its outcome', async () => {
    const { c } = clocked();
    const h = new (defineHandlers(tracked, c))();
    await expect(h.greetLater('bob')).resolves.toBe('hello bob');
    const rejected = h.greetLater('bad');
    expect(rejected).toBeInstanceOf(Promise);
    await expect(rejected).rejects.toThrow('teapot');
    expect(seedView(c.state()).endpoints[0]!.statuses).toEqual([
      { status: '200', count: 1 },
      { status: '418', count: 1 },
    ]);
  });

  it('rethrows from a sync method and records 500', () => {
    const { c } = clocked();
    const h = new (defineHandlers(tracked, c))();
    expect(() => h.fail()).toThrow('sync failure');
    expect(statuses(c)).toEqual([['/chat/fail', 'GET', '500', 1]]);
  });
});

describe('manual timer: startRequest', () => {
  it('measures latency with the injected clock and ignores a second end()', () => {
    const { c, clock } = clocked();
    clock.t = 10_000;
    const end = c.startRequest({ endpoint: '/manual', method: 'PUT', provider: 'openai' });
    clock.t = 10_250;
    end({ statusCode: 201, model: 'gpt-4o' });
    clock.t = 99_000;
    end({ statusCode: 500 });
    const st = seedView(c.state());
    expect(st.totals.requests).toBe(1);
    expect(st.totals.errors).toBe(0);
    const ep = st.endpoints[0]!;
    expect(ep.methods[0]!.method).toBe('PUT');
    expect(ep.methods[0]!.sum).toBe(0.25);
    expect(ep.window.min).toBe(0.25);
    expect(ep.window.max).toBe(0.25);
    expect(ep.statuses).toEqual([{ status: '201', count: 1 }]);
    expect(st.providers.map((p) => p.label)).toEqual(['openai']);
    expect(st.models.map((p) => p.label)).toEqual(['gpt-4o']);
  });

  it('records error: true and a thrown-style 500', () => {
    const { c, clock } = clocked();
    const end = c.startRequest({ endpoint: '/m', method: 'GET' });
    clock.t += 1;
    end({ statusCode: 200, error: true });
    expect(seedView(c.state()).totals.errors).toBe(1);
    expect(seedView(c.state()).endpoints[0]!.window.sum).toBe(0.001);
  });
});

describe('the process-wide collector', () => {
  const original = getMetricsCollector();
  afterEach(() => {
    setMetricsCollector(original);
  });

  it('getMetricsCollector() returns one instance, and trackRequest uses it by default', () => {
    const a = getMetricsCollector();
    expect(a).toBeInstanceOf(MetricsCollector);
    expect(getMetricsCollector()).toBe(a);
    const before = seedView(a.state()).totals.requests;
    trackRequest({ endpoint: '/default' }, () => 1)();
    expect(seedView(a.state()).totals.requests).toBe(before + 1);
  });

  it('setMetricsCollector replaces it and returns the previous one', () => {
    const { c } = clocked();
    const prev = setMetricsCollector(c);
    expect(prev).toBe(original);
    expect(getMetricsCollector()).toBe(c);
    trackRequest({ endpoint: '/swap' }, () => 1)();
    expect(seedView(c.state()).totals.requests).toBe(1);
  });

  const cjs = join(pkgDir, 'dist', 'index.cjs');
  it.runIf(existsSync(cjs))('the built CJS entry shares the same instance', () => {
    const require = createRequire(import.meta.url);
    const mod = require(cjs) as typeof import('../index.js');
    expect(mod.getMetricsCollector()).toBe(getMetricsCollector());
    const { c } = clocked();
    setMetricsCollector(c);
    expect(mod.getMetricsCollector()).toBe(c);
    mod.setMetricsCollector(original);
    expect(getMetricsCollector()).toBe(original);
  });
});
