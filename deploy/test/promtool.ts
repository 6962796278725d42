import { spawnSync } from 'node:child_process';
import { DEPLOY_DIR } from './expressions.js';

export interface PromtoolResult {
  status: number;
  output: string;
}

/** The promtool binary: `$PROMTOOL`, else `promtool` on PATH (Debian's `prometheus` package). */
export const PROMTOOL = process.env.PROMTOOL ?? 'promtool';

/**
 * Runs promtool in deploy/ (so relative paths resolve as in the docs). Throws, never skips, when promtool is
 * missing: CI installs it, so its absence is a broken environment, not an optional feature.
 */
export function promtool(args: string[], cwd: string = DEPLOY_DIR): PromtoolResult {
  const result = spawnSync(PROMTOOL, args, { cwd, encoding: 'utf8' });
  if (result.error) {
    const code = (result.error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new Error(
        `promtool not found (tried "${PROMTOOL}"): install Debian's prometheus package (apt-get install -y prometheus) or set PROMTOOL`,
      );
    }
    throw result.error;
  }
  return { status: result.status ?? -1, output: `${result.stdout}${result.stderr}` };
}
