import { defineConfig, type Options } from 'tsup';

/** The one tsup config every published package uses: ESM + CJS, types, sourcemaps. */
export function packageConfig(overrides: Options = {}) {
  return defineConfig({
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    treeshake: true,
    // For CJS too (tsup splits only ESM by default): with several entries, each module goes into exactly one
    // output file, so that module state (a WeakMap, a cache) has one copy for every entry that require()s it.
    splitting: true,
    ...overrides,
  });
}
