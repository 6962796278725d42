import { execFile, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { type AddressInfo, createServer } from 'node:net';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** The repository root (docs-check/ is one level below it). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** One fenced TypeScript block of a Markdown file. */
export interface Snippet {
  /** Markdown file, relative to the repository root. */
  file: string;
  /** 1-based line of the first code line (the line after the opening fence). */
  line: number;
  code: string;
  /** Opened with ```ts fragment: not checked. */
  fragment: boolean;
}

const FENCE_OPEN = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)(.*)$/;

/**
 * The ```ts (or ```typescript) blocks of a Markdown text. An info string with the word `fragment`
 * (```ts fragment) marks a block that is not a whole program; it is extracted but not typechecked.
 */
export function extractSnippets(markdown: string, file: string): Snippet[] {
  const lines = markdown.split('\n');
  const out: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE_OPEN.exec(lines[i]!);
    if (!open) continue;
    const [, indent = '', fence = '', lang = '', rest = ''] = open;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const l = lines[j]!;
      if (l.trim().startsWith(fence[0]!.repeat(fence.length)) && l.trim().replace(/[`~]/g, '') === '') break;
      body.push(l.startsWith(indent) ? l.slice(indent.length) : l);
    }
    if (lang === 'ts' || lang === 'typescript') {
      out.push({ file, line: i + 2, code: body.join('\n'), fragment: /\bfragment\b/.test(rest) });
    }
    i = j;
  }
  return out;
}

/** docs/*.md, README.md and packages/*\/README.md, relative to the repository root. */
export function markdownFiles(root = ROOT): string[] {
  const files = ['README.md'];
  for (const f of readdirSync(join(root, 'docs')).sort()) if (f.endsWith('.md')) files.push(`docs/${f}`);
  for (const p of readdirSync(join(root, 'packages')).sort()) {
    try {
      readFileSync(join(root, 'packages', p, 'README.md'));
      files.push(`packages/${p}/README.md`);
    } catch {
      // a package without a README has no snippets
    }
  }
  return files;
}

export function collectSnippets(files: readonly string[], root = ROOT): Snippet[] {
  return files.flatMap((f) => extractSnippets(readFileSync(join(root, f), 'utf8'), f));
}

/** A compiler diagnostic, mapped back to the Markdown line it comes from. */
export interface SnippetError {
  /** `docs/X.md:123:5`, or the raw tsc location when it is not inside a snippet. */
  where: string;
  message: string;
}

export interface CheckResult {
  checked: number;
  skipped: number;
  errors: SnippetError[];
  /** tsc's raw output. */
  output: string;
}

const require = createRequire(import.meta.url);

/**
 * Writes each checked snippet to `<dir>/NNN.mts` and runs `tsc --noEmit` once over all of them with
 * the repository's compiler options (strict, NodeNext). `dir` must sit inside docs-check/ so that the
 * snippets' imports resolve to the workspace packages in docs-check/node_modules.
 */
export async function typecheckSnippets(snippets: readonly Snippet[], dir: string): Promise<CheckResult> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const checked = snippets.filter((s) => !s.fragment);
  const names = checked.map((s, i) => {
    const name = `${String(i).padStart(3, '0')}.mts`;
    // Every .mts file is a module, so snippets never share top-level names.
    writeFileSync(join(dir, name), `${s.code}\n`);
    return name;
  });
  const base = relative(dir, join(ROOT, 'tsconfig.base.json')).replaceAll('\\', '/');
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({ extends: base, compilerOptions: { noEmit: true, declaration: false }, files: names }, null, 2),
  );
  const tsc = require.resolve('typescript/bin/tsc');
  const output = await new Promise<string>((done) => {
    execFile(
      process.execPath,
      [tsc, '-p', join(dir, 'tsconfig.json'), '--pretty', 'false'],
      { cwd: dir, maxBuffer: 64 * 1024 * 1024 },
      (_err, stdout, stderr) => done(`${stdout}${stderr}`),
    );
  });
  const errors: SnippetError[] = [];
  for (const line of output.split('\n')) {
    const m = /^(.*?)\((\d+),(\d+)\): error (.*)$/.exec(line);
    if (m) {
      const idx = names.indexOf(m[1]!.replace(/^.*[\\/]/, ''));
      const s = checked[idx];
      errors.push({
        where: s ? `${s.file}:${s.line + Number(m[2]) - 1}:${m[3]}` : `${m[1]}(${m[2]},${m[3]})`,
        message: m[4]!,
      });
    } else if (/error TS\d+/.test(line)) {
      errors.push({ where: 'tsc', message: line });
    }
  }
  return { checked: checked.length, skipped: snippets.length - checked.length, errors, output };
}

/** A snippet that imports one of the framework adapters: a whole program that must listen and serve `/metrics`. */
export const ADAPTER_IMPORT = /from\s+['"]@gatewayz\/metrics-(express|fastify|koa)['"]/;

export function isAdapterSnippet(s: Snippet): boolean {
  return !s.fragment && ADAPTER_IMPORT.test(s.code);
}

/** The outcome of running a snippet as a program. */
export interface RunResult {
  ok: boolean;
  /** What went wrong, or `'ok'`. */
  reason: string;
  /** The snippet's stdout and stderr. */
  output: string;
  /** Its stdout alone. */
  stdout: string;
}

export interface RunOptions {
  /** How long the program may take to start answering `/metrics`. @default 15000 */
  startupMs?: number;
  /** How long it may take to exit after SIGTERM. @default 5000 */
  exitMs?: number;
  /** Extra environment variables. */
  env?: Record<string, string>;
}

/** A free TCP port on 127.0.0.1 (bound and released; the program binds it right after). */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => done(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs an adapter snippet as written: transpiles it with the TypeScript compiler API to `<dir>/<name>.mjs` (`dir`
 * inside docs-check/, so its imports resolve to the workspace packages), starts it with node on free 127.0.0.1 ports
 * (`PORT`, and `METRICS_PORT` for a program that serves its metrics on a port of their own), waits until it answers
 * `GET /metrics` (200, with `http_requests_total`), then sends SIGTERM and expects it to exit. A snippet that imports
 * `node:test` is a test file instead, and a snippet that imports no adapter a plain program: either must exit 0. Every
 * wait is bounded; the process group is killed at the end.
 */
export async function runSnippet(s: Snippet, dir: string, name: string, o: RunOptions = {}): Promise<RunResult> {
  const startupMs = o.startupMs ?? 15_000;
  const exitMs = o.exitMs ?? 5_000;
  mkdirSync(dir, { recursive: true });
  const js = ts.transpileModule(s.code, {
    fileName: `${name}.mts`,
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, sourceMap: false },
  }).outputText;
  const file = join(dir, `${name}.mjs`);
  writeFileSync(file, js);
  const [port, metricsPort] = [await freePort(), await freePort()];
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), METRICS_PORT: String(metricsPort), ...o.env };
  delete env.METRICS_ADMIN_TOKEN;
  delete env.NODE_OPTIONS;
  const child = spawn(process.execPath, /from\s+['"]node:test['"]/.test(s.code) ? ['--test', file] : [file], {
    cwd: dir,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let stdout = '';
  child.stdout.on('data', (d) => {
    output += d;
    stdout += d;
  });
  child.stderr.on('data', (d) => (output += d));
  let exit: { code: number | null; signal: string | null } | undefined;
  const exited = new Promise<void>((done) =>
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      done();
    }),
  );
  const waitExit = (ms: number) => Promise.race([exited, sleep(ms)]);
  const result = (ok: boolean, reason: string): RunResult => ({ ok, reason, output, stdout });
  try {
    if (!ADAPTER_IMPORT.test(s.code) || /from\s+['"]node:test['"]/.test(s.code)) {
      await waitExit(startupMs);
      if (!exit) return result(false, `did not finish within ${startupMs} ms`);
      return exit.code === 0 ? result(true, 'ok') : result(false, `exited with code ${exit.code}`);
    }
    const url = `http://127.0.0.1:${s.code.includes('METRICS_PORT') ? metricsPort : port}/metrics`;
    const deadline = Date.now() + startupMs;
    let res: { status: number; body: string } | undefined;
    while (!res) {
      if (exit) return result(false, `exited (code ${exit.code}, signal ${exit.signal}) before listening on ${url}`);
      if (Date.now() > deadline) return result(false, `did not answer ${url} within ${startupMs} ms`);
      try {
        const r = await fetch(url, { headers: { accept: 'text/plain' }, signal: AbortSignal.timeout(2000) });
        res = { status: r.status, body: await r.text() };
      } catch {
        await sleep(100);
      }
    }
    if (res.status !== 200) return result(false, `GET ${url} answered ${res.status}`);
    if (!res.body.includes('http_requests_total')) return result(false, `GET ${url} has no http_requests_total`);
    child.kill('SIGTERM');
    await waitExit(exitMs);
    if (!exit) return result(false, `still running ${exitMs} ms after SIGTERM`);
    return result(true, 'ok');
  } finally {
    if (child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGKILL'); // the program and any workers it forked
      } catch {
        // already gone
      }
    }
    await waitExit(exitMs);
  }
}
