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
