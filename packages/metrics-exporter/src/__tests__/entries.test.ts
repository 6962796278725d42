import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MetricsCollector } from '@gatewayz/metrics-core';
import { beforeAll, describe, expect, it } from 'vitest';

// The built package, as `require()` and `import` users get it: each module in exactly one output file per format.
// A module bundled into two entry files would give a CommonJS user two copies of its state (the WeakMap behind
// setMetricsLabels, a class behind `instanceof`): labels set through one entry would be unseen by the other.
const pkgDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dist = join(pkgDir, 'dist');
const ENTRIES = ['index', 'node', 'dashboard'] as const;

beforeAll(() => {
  // turbo's `test` task depends on `build`, so dist normally exists; build it here only if it is missing.
  if (!ENTRIES.every((e) => existsSync(join(dist, `${e}.cjs`)) && existsSync(join(dist, `${e}.js`)))) {
    execFileSync(join(pkgDir, '..', '..', 'node_modules', '.bin', 'tsup'), [], { cwd: pkgDir, stdio: 'pipe' });
  }
}, 120_000);

/** The source files (relative to src/) bundled into each output file of one format, from its source map. */
function sourcesByFile(ext: '.js' | '.cjs'): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const f of readdirSync(dist).filter((n) => n.endsWith(`${ext}.map`))) {
    const { sources } = JSON.parse(readFileSync(join(dist, f), 'utf8')) as { sources: string[] };
    out.set(
      f.slice(0, -'.map'.length),
      sources.map((s) => s.replace(/^.*\/src\//, '')),
    );
  }
  return out;
}

describe('the built entries', () => {
  it.each(['.js', '.cjs'] as const)('bundle each source module into one %s file only', (ext) => {
    const byFile = sourcesByFile(ext);
    const owners = new Map<string, string[]>();
    for (const [file, sources] of byFile) for (const s of sources) owners.set(s, [...(owners.get(s) ?? []), file]);
    expect(owners.get('node.ts')).toEqual([`node${ext}`]);
    expect(owners.get('handlers.ts')).toHaveLength(1);
    const twice = [...owners].filter(([, files]) => files.length > 1);
    expect(twice).toEqual([]);
  });

  it.each(['.js', '.cjs'] as const)('keep the node layer and the dashboard out of the main %s entry', (ext) => {
    const mainSources = new Set<string>();
    const byFile = sourcesByFile(ext);
    // The main entry and the chunks it loads.
    const main = readFileSync(join(dist, `index${ext}`), 'utf8');
    for (const [file, sources] of byFile) {
      if (file === `index${ext}` || main.includes(file)) for (const s of sources) mainSources.add(s);
    }
    for (const s of ['node.ts', 'dashboard.ts', 'dashboardScript.ts', 'dashboardHistory.ts']) {
      expect(mainSources.has(s), s).toBe(false);
    }
    expect(mainSources.has('handlers.ts')).toBe(true);
  });

  it.each(['.js', '.cjs'] as const)('keep the dashboard out of the node %s entry the adapters load', (ext) => {
    const byFile = sourcesByFile(ext);
    const node = readFileSync(join(dist, `node${ext}`), 'utf8');
    const loaded = [...byFile].filter(([file]) => file === `node${ext}` || node.includes(file)).flatMap(([, s]) => s);
    expect(loaded).toContain('node.ts');
    expect(loaded.filter((s) => s.startsWith('dashboard'))).toEqual([]);
  });

  it('share one copy of each module between the CommonJS entries', () => {
    const require = createRequire(import.meta.url);
    const main = require(join(dist, 'index.cjs')) as typeof import('../index.js');
    const node = require(join(dist, 'node.cjs')) as typeof import('../entries/node.js');
    const dashboard = require(join(dist, 'dashboard.cjs')) as typeof import('../entries/dashboard.js');
    const metrics = node.resolveHttpMetricsOptions({
      collector: new MetricsCollector(),
      adminToken: null,
      dashboard: dashboard.metricsDashboard({ historySeconds: 0 }),
    });
    // The exporter the node layer builds is the main entry's class, not a second copy of it.
    expect(metrics.handlers.exporter).toBeInstanceOf(main.PrometheusExporter);
    expect(metrics.handlers.owns('/metrics/dashboard')).toBe(true);
  });
});
