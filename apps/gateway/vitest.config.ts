import { defineConfig, mergeConfig } from 'vitest/config';
import base from '../../vitest.config.base.ts';

// `--expose-gc`: the hardening tests measure heap growth after a full collection (global.gc).
export default mergeConfig(base, defineConfig({ test: { execArgv: ['--expose-gc'] } }));
