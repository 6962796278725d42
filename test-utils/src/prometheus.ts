import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A real Prometheus server (Debian's `prometheus`, 2.42) started on loopback with a temp storage path. */
export interface PrometheusServer {
  url: string;
  /** Runs an instant query; resolves the `data.result` array, rejects on a PromQL error. */
  query(expr: string): Promise<PromResult[]>;
  /** Resolves when every target of `job` is up, or rejects after `timeoutMs`. */
  waitForTargets(job: string, timeoutMs?: number): Promise<PromTarget[]>;
  /** Polls `expr` until it returns at least one series (or `timeoutMs` passes). */
  waitFor(expr: string, timeoutMs?: number): Promise<PromResult[]>;
  stop(): Promise<void>;
  /** What the server printed, for failure messages. */
  log(): string;
}

export interface PromResult {
  metric: Record<string, string>;
  value?: [number, string];
  histogram?: [number, { count: string; sum: string; buckets?: [number, string, string, string][] }];
}

export interface PromTarget {
  health: string;
  lastError: string;
  scrapeUrl: string;
  labels: Record<string, string>;
}

export const PROMETHEUS_BIN = process.env.PROMETHEUS_BIN ?? '/usr/bin/prometheus';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/**
 * Starts Prometheus with the given config YAML (its `scrape_configs` should target 127.0.0.1).
 * `files` are written beside the config (e.g. rule files it references by relative name).
 */
export async function startPrometheus(options: {
  config: string;
  files?: Record<string, string>;
  features?: string[];
  /** Extra flags, e.g. `--web.enable-remote-write-receiver`. */
  args?: string[];
  /** Listen on this port (to restart a server where it was); a free one by default. */
  port?: number;
  /** Keep the data here (to restart a server with its data); a new temp directory by default. */
  dir?: string;
  startTimeoutMs?: number;
}): Promise<PrometheusServer> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'gatewayz-prom-'));
  for (const [name, text] of Object.entries(options.files ?? {})) writeFileSync(join(dir, name), text);
  writeFileSync(join(dir, 'prometheus.yml'), options.config);
  const port = options.port ?? (await freePort());
  const args = [
    `--config.file=${join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
    ...(options.args ?? []),
  ];
  if (options.features?.length) args.push(`--enable-feature=${options.features.join(',')}`);
  let output = '';
  let child: ChildProcess;
  try {
    child = spawn(PROMETHEUS_BIN, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    throw new Error(`cannot start ${PROMETHEUS_BIN} (apt-get install -y prometheus): ${String(e)}`);
  }
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let spawnError: Error | undefined;
  child.once('error', (e) => (spawnError = e));
  const url = `http://127.0.0.1:${port}`;

  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  for (;;) {
    if (spawnError)
      throw new Error(`cannot start ${PROMETHEUS_BIN} (apt-get install -y prometheus): ${spawnError.message}`);
    if (child.exitCode !== null) throw new Error(`prometheus exited (${child.exitCode}):\n${output}`);
    try {
      const r = await fetch(`${url}/-/ready`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`prometheus did not become ready:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }

  const api = async (path: string) => {
    const r = await fetch(`${url}${path}`);
    const body = (await r.json()) as { status: string; data: any; error?: string; errorType?: string };
    if (body.status !== 'success') throw new Error(`${path}: ${body.errorType}: ${body.error}`);
    return body.data;
  };
  const query = async (expr: string) =>
    (await api(`/api/v1/query?query=${encodeURIComponent(expr)}`)).result as PromResult[];

  return {
    url,
    query,
    async waitForTargets(job, timeoutMs = 30_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const data = await api('/api/v1/targets');
        const targets = (data.activeTargets as PromTarget[]).filter((t) => t.labels.job === job);
        if (targets.length > 0 && targets.every((t) => t.health === 'up')) return targets;
        if (Date.now() > until) throw new Error(`targets of ${job} not up: ${JSON.stringify(targets)}\n${output}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    },
    async waitFor(expr, timeoutMs = 30_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const r = await query(expr);
        if (r.length > 0) return r;
        if (Date.now() > until) throw new Error(`no data for ${expr}\n${output}`);
        await new Promise((res) => setTimeout(res, 250));
      }
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      // A directory the caller gave is the caller's to remove (it may start the server again on it).
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
    },
    log: () => output,
  };
}
