import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const pkgDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const repoRoot = resolve(pkgDir, '..', '..');
const bin = (name: string) => join(repoRoot, 'node_modules', '.bin', name);

function run(cmd: string, args: string[], cwd: string): string {
  try {
    return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: 'pipe', env: { ...process.env, NO_COLOR: '1' } });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `${cmd} ${args.join(' ')} failed in ${cwd}:\n${err.stdout ?? ''}\n${err.stderr ?? ''}\n${err.message}`,
    );
  }
}

describe('the packed tarball', () => {
  let tmp: string;
  let tarball: string;
  let project: string;

  beforeAll(() => {
    // turbo's `test` task depends on `build`, so dist normally exists; build it here only if it is missing.
    if (!existsSync(join(pkgDir, 'dist', 'index.js')) || !existsSync(join(pkgDir, 'dist', 'index.cjs'))) {
      run(bin('tsup'), [], pkgDir);
    }
    tmp = mkdtempSync(join(tmpdir(), 'metrics-core-pack-'));
    const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', tmp], pkgDir)) as {
      filename: string;
    }[];
    tarball = join(tmp, packed[0]!.filename);
    project = join(tmp, 'consumer');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
    run('npm', ['install', '--no-audit', '--no-fund', tarball], project);
  });

  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('installs with zero dependencies', () => {
    const top = readdirSync(join(project, 'node_modules')).filter((n) => !n.startsWith('.'));
    expect(top).toEqual(['@gatewayz']);
    expect(readdirSync(join(project, 'node_modules', '@gatewayz'))).toEqual(['metrics-core']);
    const installed = createRequire(join(project, 'index.js'))('@gatewayz/metrics-core/package.json') as {
      dependencies?: object;
    };
    expect(installed.dependencies ?? {}).toEqual({});
  });

  const script = (api: string) => `
    const c = new ${api}MetricsCollector({ now: () => 1000 });
    c.recordRequest({ endpoint: '/x', method: 'GET', latencySeconds: 0.25, statusCode: 200 });
    const t = ${api}trackRequest({ endpoint: '/y', collector: c }, (a) => a * 2);
    const r = t(21);
    const s = c.snapshot();
    console.log(JSON.stringify({ r, requests: s.totals.requests, max: s.window.latency.max, p50: s.endpoints[0].latency.p50,
      same: ${api}getMetricsCollector() === ${api}getMetricsCollector() }));`;

  it('works through import (ESM)', () => {
    writeFileSync(
      join(project, 'use.mjs'),
      `import * as m from '@gatewayz/metrics-core';\nconst api = m;\n${script('api.')}`,
    );
    const out = JSON.parse(run(process.execPath, ['use.mjs'], project));
    expect(out).toMatchObject({ r: 42, requests: 2, same: true });
    expect(out.max).toBe(0.25);
    expect(out.p50).toBeCloseTo(0.25, 2);
  });

  it('works through require (CJS)', () => {
    writeFileSync(join(project, 'use.cjs'), `const api = require('@gatewayz/metrics-core');\n${script('api.')}`);
    const out = JSON.parse(run(process.execPath, ['use.cjs'], project));
    expect(out).toMatchObject({ r: 42, requests: 2, same: true });
  });

  it('typechecks from TypeScript with module NodeNext, as ESM and as CJS', () => {
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2022',
          lib: ['ES2023'],
          types: [],
          strict: true,
          noEmit: true,
          skipLibCheck: false,
        },
        files: ['use-esm.mts', 'use-cjs.cts'],
      }),
    );
    const body = `
const c = new MetricsCollector({ windowSeconds: 60, limits: { endpoints: 10 } });
c.recordRequest({ endpoint: '/x', method: 'GET', latencySeconds: 0.1, statusCode: 200, provider: 'openai' });
const s: MetricsSnapshot = c.snapshot();
const p99: number | null = s.window.latency.p99;
const h: 'healthy' | 'degraded' | 'unhealthy' = evaluateHealth({ requests: 1, errors: 0 }).status;
const wrapped: (a: number) => number = trackRequest({ endpoint: '/y' }, (a: number) => a + 1);
const sameInstance: MetricsCollector = getMetricsCollector();
export { p99, h, wrapped, sameInstance };
`;
    const imports = `import { evaluateHealth, getMetricsCollector, MetricsCollector, trackRequest, type MetricsSnapshot } from '@gatewayz/metrics-core';`;
    writeFileSync(join(project, 'use-esm.mts'), imports + body);
    writeFileSync(join(project, 'use-cjs.cts'), imports + body);
    run(bin('tsc'), ['-p', 'tsconfig.json'], project);

    // And a type error is reported (the check can fail).
    writeFileSync(
      join(project, 'bad.mts'),
      `import { MetricsCollector } from '@gatewayz/metrics-core';\nnew MetricsCollector({ windowSeconds: 'x' });\n`,
    );
    writeFileSync(
      join(project, 'tsconfig.bad.json'),
      JSON.stringify({ extends: './tsconfig.json', files: ['bad.mts'] }),
    );
    expect(() => run(bin('tsc'), ['-p', 'tsconfig.bad.json'], project)).toThrow(/TS2322/);
  });

  // publint --strict and attw run for every package in docs-check/src/publish.test.ts.
});

describe('public API', () => {
  it('exports exactly these names', async () => {
    const names = Object.keys(await import('../index.js')).sort();
    expect(names).toMatchInlineSnapshot(`
      [
        "DEFAULT_BUCKETS",
        "DEFAULT_HEALTH",
        "DEFAULT_LIMITS",
        "DROP_REASONS",
        "LogSketch",
        "METRICS_ERROR_CODES",
        "MetricsCollector",
        "MetricsError",
        "OPERATION_DURATION_BUCKETS",
        "OTHER_METHOD",
        "OVERFLOW_LABEL",
        "SEED_FAMILIES",
        "SKETCH_ZERO_THRESHOLD",
        "STANDARD_METHODS",
        "TIME_PER_OUTPUT_TOKEN_BUCKETS",
        "TIME_TO_FIRST_TOKEN_BUCKETS",
        "TOKEN_USAGE_BUCKETS",
        "describeValue",
        "emptyState",
        "evaluateHealth",
        "familyViews",
        "fromSeed",
        "getMetricsCollector",
        "labelPerInstance",
        "mergeFamilies",
        "mergeStates",
        "retiredState",
        "reviveState",
        "seedView",
        "setMetricsCollector",
        "sideBySide",
        "sketchRelativeAccuracy",
        "stableHash",
        "stateFamilies",
        "summarizeState",
        "trackRequest",
        "tracked",
        "validateOptions",
        "viewValue",
      ]
    `);
    const dist = join(pkgDir, 'dist');
    if (existsSync(join(dist, 'index.cjs'))) {
      expect(Object.keys(createRequire(import.meta.url)(join(dist, 'index.cjs'))).sort()).toEqual(names);
    }
  });
});
