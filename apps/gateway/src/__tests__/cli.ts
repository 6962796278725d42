import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The built demo CLI (or $GATEWAY_CLI); built by turbo before tests (`test` depends on `build`), or here with tsup when missing. */
export function builtCli(): string {
  // GATEWAY_CLI runs the tests against another build (e.g. one of an older commit, for before/after figures).
  if (process.env.GATEWAY_CLI) return process.env.GATEWAY_CLI;
  const cli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
  if (!existsSync(cli)) {
    const cwd = fileURLToPath(new URL('../..', import.meta.url));
    const r = spawnSync('npx', ['tsup'], { cwd, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`building the CLI failed: ${r.stderr}`);
  }
  return cli;
}

export interface CliProcess {
  child: ChildProcess;
  /** Everything the child wrote to stdout and stderr so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or the signal name). */
  exited: Promise<number | string | null>;
  /** Resolves with the base URL once the CLI printed its banner; rejects if it exits first. */
  ready: Promise<string>;
  /** Resolves with the first match of `pattern` in stdout; rejects if the CLI exits first or after 20 s. */
  waitFor(pattern: RegExp): Promise<RegExpExecArray>;
}

/** Spawns `node dist/cli.js args` with `env` added to this process's environment (PORT=0 unless given). */
export function spawnCli(args: string[], env: Record<string, string | undefined>): CliProcess {
  const child = spawn(process.execPath, [builtCli(), ...args], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', METRICS_ADMIN_TOKEN: undefined, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    err += d;
  });
  const exited = new Promise<number | string | null>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal)),
  );
  const waitFor = (pattern: RegExp) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the CLI never printed ${pattern}: ${out}${err}`)), 20_000);
      const onData = () => {
        const m = pattern.exec(out);
        if (m) {
          clearTimeout(timer);
          child.stdout?.off('data', onData);
          resolve(m);
        }
      };
      child.stdout?.on('data', onData);
      onData();
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`the CLI exited (${String(code)}) before printing ${pattern}: ${out}${err}`));
      });
    });
  // The single-process banner ends with the upstreams line.
  const ready = waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)[\s\S]*upstreams/).then((m) => m[1]!);
  ready.catch(() => {});
  return { child, stdout: () => out, stderr: () => err, exited, ready, waitFor };
}
