import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { buildSync } from 'esbuild';
import { describe, expect, it } from 'vitest';

const pkgDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * What an app pays for the core: its published ESM entry, bundled and minified by esbuild, gzipped.
 * 7.2 kB when this budget was set; the budget leaves about 25 % headroom. Raise it on purpose, in its own commit.
 * Raised from 9 KiB to 14.5 KiB for the declared-family registry and the runtime families (issue 10): measured
 * 8,882 B before, 14,127 B after (registry.ts alone minifies to 4.3 kB gzipped, runtime.ts to 1.6 kB).
 * Raised to 19 KiB for the AI families (issue 11: recordCompletion, startCompletion, trackStream, prices,
 * tenants): measured 17,552 B with them (completion.ts alone minifies to 3.9 kB gzipped).
 * Raised to 22.5 KiB for one metrics model (issue 10): the seed's family declarations (names, types, help texts) moved
 * in from the exporter, with the conversion of a state to generic families and the state helpers the cluster had
 * (`emptyState`, `retiredState`): measured 18,718 B before, 21,067 B after.
 */
const BUDGET_GZIP_BYTES = 22.5 * 1024;

describe('bundle size', () => {
  const entry = join(pkgDir, 'dist', 'index.js');
  if (!existsSync(entry)) execFileSync(join(pkgDir, '..', '..', 'node_modules', '.bin', 'tsup'), [], { cwd: pkgDir });

  // platform 'neutral' resolves no Node built-in: the bundle fails if the core ever imports one.
  const out = buildSync({
    entryPoints: [entry],
    absWorkingDir: pkgDir,
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'neutral',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const code = out.outputFiles[0]!.contents;
  const gzipped = gzipSync(code, { level: 9 }).length;

  it(`is under ${BUDGET_GZIP_BYTES} bytes minified and gzipped`, () => {
    expect(gzipped).toBeGreaterThan(1000); // the bundle really holds the core
    expect(gzipped).toBeLessThan(BUDGET_GZIP_BYTES);
  });

  it('bundles nothing but the core itself (zero dependencies, no Node built-ins)', () => {
    expect(Object.keys(out.metafile.inputs)).toEqual(['dist/index.js']);
    expect(out.metafile.outputs[Object.keys(out.metafile.outputs)[0]!]!.imports).toEqual([]);
  });
});
