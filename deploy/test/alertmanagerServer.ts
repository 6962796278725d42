import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@gatewayz/test-utils';
import { stringify } from 'yaml';
import { DEPLOY_DIR } from './expressions.js';

/** Debian's `prometheus-alertmanager` (0.25): `$ALERTMANAGER_BIN`, else /usr/bin/prometheus-alertmanager. */
export const ALERTMANAGER_BIN = process.env.ALERTMANAGER_BIN ?? '/usr/bin/prometheus-alertmanager';
export const WEBHOOK_LOGGER = join(DEPLOY_DIR, 'alertmanager', 'webhook-logger.mjs');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(5000)]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

function spawnLogged(command: string, args: string[], env?: NodeJS.ProcessEnv) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let spawnError: Error | undefined;
  child.once('error', (e) => (spawnError = e));
  return { child, exited, log: () => output, error: () => spawnError };
}

/** One alert of one notification, as deploy/alertmanager/webhook-logger.mjs prints it. */
export interface DeliveredAlert {
  time: string;
  /** The webhook URL's path, e.g. `/alerts/critical`. */
  path: string;
  receiver: string;
  groupKey: string;
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
}

export interface WebhookLogger {
  url: string;
  /** Every alert printed so far. */
  delivered(): DeliveredAlert[];
  stop(): Promise<void>;
  log(): string;
}

/** Runs the shipped webhook-logger.mjs on a free loopback port and reads the JSON lines it prints. */
export async function startWebhookLogger(timeoutMs = 10_000): Promise<WebhookLogger> {
  const port = await freePort();
  const p = spawnLogged(process.execPath, [WEBHOOK_LOGGER], { HOST: '127.0.0.1', PORT: String(port) });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (p.error()) throw p.error();
    if (p.child.exitCode !== null) throw new Error(`webhook-logger exited (${p.child.exitCode}):\n${p.log()}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`webhook-logger did not start:\n${p.log()}`);
    await sleep(100);
  }
  return {
    url,
    delivered: () =>
      p
        .log()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as DeliveredAlert),
    stop: () => stopChild(p.child, p.exited),
    log: p.log,
  };
}

export interface AlertmanagerServer {
  url: string;
  /** GET on the v2 API. */
  get(path: string): Promise<any>;
  /** POST on the v2 API (e.g. `/api/v2/alerts`); rejects on a non-2xx answer. */
  post(path: string, body: unknown): Promise<void>;
  stop(): Promise<void>;
  log(): string;
}

/**
 * Starts Alertmanager on loopback with `config` (an object, written as YAML), temp storage and clustering off
 * (`--cluster.listen-address=`), and resolves once `/-/ready` answers.
 */
export async function startAlertmanager(config: unknown, timeoutMs = 20_000): Promise<AlertmanagerServer> {
  const dir = mkdtempSync(join(tmpdir(), 'gatewayz-am-'));
  writeFileSync(join(dir, 'alertmanager.yml'), stringify(config));
  const port = await freePort();
  const p = spawnLogged(ALERTMANAGER_BIN, [
    `--config.file=${join(dir, 'alertmanager.yml')}`,
    `--storage.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--cluster.listen-address=',
    '--log.level=warn',
  ]);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const error = p.error();
    if (error)
      throw new Error(
        `cannot start ${ALERTMANAGER_BIN} (apt-get install -y prometheus-alertmanager): ${error.message}`,
      );
    if (p.child.exitCode !== null) throw new Error(`alertmanager exited (${p.child.exitCode}):\n${p.log()}`);
    try {
      if ((await fetch(`${url}/-/ready`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`alertmanager did not become ready:\n${p.log()}`);
    await sleep(200);
  }
  return {
    url,
    async get(path) {
      const res = await fetch(`${url}${path}`);
      if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
      return res.json();
    },
    async post(path, body) {
      const res = await fetch(`${url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
    },
    async stop() {
      await stopChild(p.child, p.exited);
      rmSync(dir, { recursive: true, force: true });
    },
    log: p.log,
  };
}
