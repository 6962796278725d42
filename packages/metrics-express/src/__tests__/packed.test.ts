import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// examples/packed-install, outside the workspace, installed from the packed tarballs with npm: what a user gets.
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const run = (cmd: string, args: string[], cwd: string) =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: 'pipe', env: { ...process.env, NO_COLOR: '1' } });

describe('examples/packed-install with the packed tarballs', () => {
  let tmp: string;
  let app: string;
  let server: ChildProcess | undefined;

  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'packed-install-'));
    for (const p of ['core', 'exporter', 'express']) {
      run('npx', ['-y', 'pnpm@12.4.2', 'pack', '--pack-destination', tmp], join(repoRoot, 'packages', `metrics-${p}`));
    }
    const tarballs = readdirSync(tmp)
      .filter((f) => f.endsWith('.tgz'))
      .map((f) => join(tmp, f));
    expect(tarballs).toHaveLength(3);
    app = join(tmp, 'app');
    cpSync(join(repoRoot, 'examples', 'packed-install'), app, { recursive: true });
    run('npm', ['install', '--no-audit', '--no-fund', ...tarballs], app);
  }, 180_000);

  afterAll(() => {
    server?.kill();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('installs our packages from the tarballs, with express from the registry', () => {
    const lock = JSON.parse(readFileSync(join(app, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { resolved?: string; version?: string }>;
    };
    for (const name of ['@gatewayz/metrics-core', '@gatewayz/metrics-exporter', '@gatewayz/metrics-express']) {
      expect(lock.packages[`node_modules/${name}`]?.resolved, name).toMatch(/^file:.*\.tgz$/);
    }
    expect(lock.packages['node_modules/express']?.version).toMatch(/^5\./); // from the registry
    // No second copy of a @gatewayz package nested anywhere (the tarballs satisfy each other's ^ ranges).
    expect(
      Object.keys(lock.packages)
        .filter((k) => k.includes('@gatewayz/'))
        .sort(),
    ).toEqual([
      'node_modules/@gatewayz/metrics-core',
      'node_modules/@gatewayz/metrics-exporter',
      'node_modules/@gatewayz/metrics-express',
    ]);
  });

  it('works through require (CommonJS), every entry point, with one copy of the node layer', () => {
    expect(run(process.execPath, ['check-require.cjs'], app)).toContain('require ok');
  });

  it('works through import (ESM), every entry point', () => {
    expect(run(process.execPath, ['check-import.mjs'], app)).toContain('import ok');
  });

  it('serves the app and counts its requests on /metrics', async () => {
    const proc = spawn(process.execPath, ['server.mjs'], { cwd: app, env: { ...process.env, PORT: '0' } });
    server = proc;
    const base = await new Promise<string>((ok, fail) => {
      let out = '';
      proc.stdout.on('data', (d: Buffer) => {
        out += d;
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m) ok(m[1]!);
      });
      proc.once('exit', (code) => fail(new Error(`server exited with ${code}: ${out}`)));
    });
    for (let i = 0; i < 3; i++) expect(await (await fetch(`${base}/hello`)).text()).toBe('hello world');
    expect((await fetch(`${base}/api/chat`, { method: 'POST' })).status).toBe(200);

    const res = await fetch(`${base}/metrics`);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toContain('http_requests_total{endpoint="/hello",method="GET"} 3');
    expect(text).toContain('http_requests_total{endpoint="/api/chat",method="POST"} 1');
    expect(text).toMatch(/provider_requests_total\{provider="openai"\} 1/);
  });
});
