import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const pkgDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

it('packs with real dependency versions and passes npm publish --dry-run cleanly', () => {
  const script = join(pkgDir, '..', '..', 'scripts', 'check-publish.mjs');
  const r = spawnSync(process.execPath, [script, pkgDir], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  const report = JSON.parse(r.stdout) as { name: string; problems: string[] };
  expect(report.name).toBe(JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')).name);
  expect(report.problems).toEqual([]);
  expect(r.status).toBe(0);
});
