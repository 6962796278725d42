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
    ...overrides,
  });
}
