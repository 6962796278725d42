import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

// What we ship, checked as it would be published: every package under packages/ is packed (workspace ranges
// rewritten) and passes `npm publish --dry-run` (scripts/check-publish.mjs). It lives here, in the package that
// depends on all of them, so turbo builds them all first.
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const packages = readdirSync(join(root, 'packages')).map((d) => join(root, 'packages', d));

it.each(packages.map((dir) => [JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name as string, dir]))(
  '%s packs with real dependency versions and passes npm publish --dry-run cleanly',
  (name, dir) => {
    const r = spawnSync(process.execPath, [join(root, 'scripts', 'check-publish.mjs'), dir], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const report = JSON.parse(r.stdout) as { name: string; problems: string[] };
    expect(report.name).toBe(name);
    expect(report.problems).toEqual([]);
    expect(r.status).toBe(0);
  },
);

const bin = (name: string) => join(root, 'node_modules', '.bin', name);
const tool = (name: string, args: string[], cwd: string) => {
  const r = spawnSync(bin(name), args, { cwd, encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
};

it.each(packages.map((dir) => [dir.split('/').pop()!, dir]))('%s passes publint --strict and attw --pack', (_, dir) => {
  const publint = tool('publint', ['--strict', '--pack', 'npm'], dir);
  expect(publint.out).toMatch(/All good/);
  expect(publint.status).toBe(0);
  const attw = tool('attw', ['--pack', '.', '--profile', 'node16', '--format', 'ascii'], dir);
  expect(attw.out).toMatch(/No problems found/);
  expect(attw.status).toBe(0);
});
