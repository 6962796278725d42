#!/usr/bin/env node
// Checks that a workspace package is publishable as it would be published:
//   1. `pnpm pack` it (pnpm rewrites `workspace:^` ranges to real versions, as `pnpm publish` does);
//   2. the packed package.json has no `workspace:` range, and each internal dependency is `^` the version in the workspace;
//   3. the tarball holds README.md, package.json, LICENSE (the root MIT LICENSE, byte for byte) and every file the
//      `exports` map points to;
//   4. `npm publish --dry-run <tarball>` succeeds, for public access, with no warning (other than not being logged in).
// Usage: node scripts/check-publish.mjs <package dir>... (prints one JSON line per package; exits 1 on a problem).
// docs-check/src/publish.test.ts runs it for every package under packages/, so it runs in CI.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const workspaceVersions = Object.fromEntries(
  readdirSync(join(root, 'packages')).map((d) => {
    const p = JSON.parse(readFileSync(join(root, 'packages', d, 'package.json'), 'utf8'));
    return [p.name, p.version];
  }),
);

function check(dir) {
  const problems = [];
  const tmp = mkdtempSync(join(tmpdir(), 'check-publish-'));
  try {
    execFileSync('npx', ['-y', 'pnpm@12.4.2', 'pack', '--pack-destination', tmp], { cwd: dir, stdio: 'pipe' });
    const tgz = readdirSync(tmp).find((f) => f.endsWith('.tgz'));
    if (!tgz) throw new Error(`pnpm pack wrote no tarball in ${tmp}`);
    const tarball = join(tmp, tgz);
    const files = execFileSync('tar', ['tzf', tarball], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map((f) => f.replace(/^package\//, ''));
    const pkg = JSON.parse(execFileSync('tar', ['xzf', tarball, '-O', 'package/package.json'], { encoding: 'utf8' }));

    if (JSON.stringify(pkg).includes('workspace:')) problems.push('packed package.json still has a workspace: range');
    for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
      for (const [name, range] of Object.entries(pkg[field] ?? {})) {
        if (name in workspaceVersions && range !== `^${workspaceVersions[name]}`)
          problems.push(`${field}.${name} is ${range}, expected ^${workspaceVersions[name]}`);
      }
    }
    if (pkg.private) problems.push('package is private');
    if (pkg.publishConfig?.access !== 'public') problems.push('publishConfig.access is not "public" (scoped package)');
    const targets = new Set(['README.md', 'package.json', 'LICENSE']);
    const walk = (x) => {
      if (typeof x === 'string') targets.add(x.replace(/^\.\//, ''));
      else if (x && typeof x === 'object') Object.values(x).forEach(walk);
    };
    walk(pkg.exports);
    const globbed = (t) =>
      new RegExp(
        `^${t
          .split('*')
          .map((x) => x.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
          .join('[^/]+')}$`,
      );
    for (const t of targets) {
      const present = t.includes('*') ? files.some((f) => globbed(t).test(f)) : files.includes(t);
      if (!present) problems.push(`tarball lacks ${t}`);
    }
    if (files.includes('LICENSE')) {
      const license = execFileSync('tar', ['xzf', tarball, '-O', 'package/LICENSE'], { encoding: 'utf8' });
      if (license !== readFileSync(join(root, 'LICENSE'), 'utf8'))
        problems.push('LICENSE differs from the root LICENSE');
    }
    if (pkg.license !== 'MIT') problems.push(`license is ${pkg.license}, expected MIT`);
    if (files.some((f) => f.includes('__tests__') || f.startsWith('src/')))
      problems.push('tarball ships sources or tests');

    const pub = spawnSync('npm', ['publish', '--dry-run', tarball], { cwd: tmp, encoding: 'utf8' });
    if (pub.status !== 0) problems.push(`npm publish --dry-run failed: ${pub.stderr}`);
    const warnings = `${pub.stdout}\n${pub.stderr}`
      .split('\n')
      .filter((l) => /^npm (warn|WARN|ERR)/.test(l) && !/requires you to be logged in/.test(l));
    problems.push(...warnings.map((w) => `npm: ${w}`));
    if (!/public access/.test(pub.stderr)) problems.push('npm would not publish with public access');
    return { name: pkg.name, version: pkg.version, files: files.length, problems };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

const dirs = process.argv.slice(2).map((d) => resolve(d));
let failed = false;
for (const dir of dirs) {
  const r = check(dir);
  if (r.problems.length) failed = true;
  console.log(JSON.stringify(r));
}
process.exit(failed ? 1 : 0);
