import { describe, expect, it } from 'vitest';
import { FRAMEWORKS, startGateway } from '../gateway.js';
import { spawnCli } from './cli.js';

// Long enough, but a Bearer header could never carry them (issue 13, item 6).
const UNUSABLE: [string, string][] = [
  ['a space', 'admin token with spaces-0123'],
  ['a leading space', ' admin-token-leading-space-0123'],
  ['a non-ASCII character', 'admin-tøken-not-ascii-0123'],
];

describe('an admin token that could never match stops the demo at startup', () => {
  it.each(UNUSABLE)(
    'the CLI refuses METRICS_ADMIN_TOKEN with %s, naming the variable, without echoing it',
    async (_, token) => {
      const cli = spawnCli(['--framework', 'express'], { METRICS_ADMIN_TOKEN: token });
      const code = await Promise.race([cli.exited, new Promise((r) => setTimeout(() => r('still running'), 15_000))]);
      if (code === 'still running') cli.child.kill('SIGKILL');
      expect(code).toBe(2);
      const at = token.search(/[^A-Za-z0-9\-._~+/]/) + 1;
      expect(cli.stderr()).toMatch(
        new RegExp(
          `^gatewayz-demo: METRICS_ADMIN_TOKEN contains a (space|non-ASCII character) at position ${at}: use only`,
        ),
      );
      expect(cli.stdout() + cli.stderr()).not.toContain(token.trim());
    },
  );

  it.each(FRAMEWORKS)('startGateway on %s rejects one with the adapter name first', async (framework) => {
    await expect(startGateway({ framework, adminToken: UNUSABLE[0]![1] })).rejects.toThrow(
      new RegExp(`^@gatewayz/metrics-${framework}: adminToken contains a space at position 6; `),
    );
  });
});
