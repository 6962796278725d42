import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, type PromResult } from './prometheus.js';

/** A real VictoriaMetrics single-node server (Debian's `victoria-metrics`, 1.79) on loopback. */
export interface VictoriaMetricsServer {
  url: string;
  /** Its remote-write endpoint, `${url}/api/v1/write`. */
  writeUrl: string;
  /** An instant PromQL (MetricsQL) query, uncached; resolves `data.result`. */
  query(expr: string): Promise<PromResult[]>;
  /** Polls `expr` until `accept(result)` holds (default: at least one series) or `timeoutMs` passes. */
  waitFor(expr: string, accept?: (r: PromResult[]) => boolean, timeoutMs?: number): Promise<PromResult[]>;
  stop(): Promise<void>;
  log(): string;
}

export const VICTORIA_METRICS_BIN = process.env.VICTORIA_METRICS_BIN ?? '/usr/bin/victoria-metrics';

/** Starts VictoriaMetrics; `port` and `dir` let a test restart it where it was, with its data. */
export async function startVictoriaMetrics(
  options: { port?: number; dir?: string; startTimeoutMs?: number } = {},
): Promise<VictoriaMetricsServer> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'gatewayz-vm-'));
  const port = options.port ?? (await freePort());
  const args = [
    `-httpListenAddr=127.0.0.1:${port}`,
    `-storageDataPath=${join(dir, 'data')}`,
    '-search.latencyOffset=0s',
    '-retentionPeriod=100y',
    '-loggerLevel=WARN',
  ];
  let output = '';
  let child: ChildProcess;
  try {
    child = spawn(VICTORIA_METRICS_BIN, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    throw new Error(`cannot start ${VICTORIA_METRICS_BIN} (apt-get install -y victoria-metrics): ${String(e)}`);
  }
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  let spawnError: Error | undefined;
  child.once('error', (e) => (spawnError = e));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  for (;;) {
    if (spawnError) throw new Error(`cannot start ${VICTORIA_METRICS_BIN}: ${spawnError.message}`);
    if (child.exitCode !== null) throw new Error(`victoria-metrics exited (${child.exitCode}):\n${output}`);
    try {
      const r = await fetch(`${url}/health`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`victoria-metrics did not become ready:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const query = async (expr: string) => {
    const r = await fetch(`${url}/api/v1/query?nocache=1&query=${encodeURIComponent(expr)}`);
    const body = (await r.json()) as { status: string; data: { result: PromResult[] }; error?: string };
    if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
    return body.data.result;
  };
  return {
    url,
    writeUrl: `${url}/api/v1/write`,
    query,
    async waitFor(expr, accept = (r) => r.length > 0, timeoutMs = 30_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const r = await query(expr);
        if (accept(r)) return r;
        if (Date.now() > until) throw new Error(`no acceptable data for ${expr}: ${JSON.stringify(r)}\n${output}`);
        await new Promise((res) => setTimeout(res, 250));
      }
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
    },
    log: () => output,
  };
}
