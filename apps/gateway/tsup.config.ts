import { defineConfig } from 'tsup';

// An app, not a library: ESM only, one file per entry point, dependencies left external.
export default defineConfig({
  entry: ['src/cli.ts', 'src/traffic.ts', 'src/index.ts'],
  format: ['esm'],
  target: 'node20',
  sourcemap: true,
  clean: true,
  splitting: true,
});
