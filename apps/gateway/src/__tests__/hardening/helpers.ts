import { spawnSync } from 'node:child_process';
import { Agent, request } from 'node:http';
import { parseExposition, type Sample } from '@gatewayz/test-utils';

export const ADMIN_TOKEN = 'hardening-admin-token-5f0c2b9e77';

/** `promtool check metrics` on 0.0.4 text: exit status and findings. A missing promtool fails the test. */
export function promtool(text: string): { status: number | null; output: string } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 30_000 });
  if (r.error) throw new Error(`promtool could not run (apt-get install -y prometheus): ${r.error.message}`);
  return { status: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}

export interface Scrape {
  text: string;
  samples: Sample[];
  bytes: number;
  ms: number;
}

/** One `GET /metrics`, timed, parsed. */
export async function scrape(base: string, headers: Record<string, string> = {}): Promise<Scrape> {
  const t0 = performance.now();
  const res = await fetch(`${base}/metrics`, { headers });
  const buf = Buffer.from(await res.arrayBuffer());
  const ms = performance.now() - t0;
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  const text = buf.toString('utf8');
  return { text, samples: parseExposition(text), bytes: buf.length, ms };
}

/** Sum of every sample of `name` (all label sets). */
export const sumOf = (samples: Sample[], name: string): number =>
  samples.filter((s) => s.name === name).reduce((n, s) => n + s.value, 0);

/** Distinct values of `label` among the samples of `name`. */
export const labelValues = (samples: Sample[], name: string, label: string): Set<string> =>
  new Set(samples.filter((s) => s.name === name).map((s) => s.labels[label] ?? ''));

/** Number of series (sample lines) per sample name. */
export function seriesPerName(samples: Sample[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const s of samples) m.set(s.name, (m.get(s.name) ?? 0) + 1);
  return m;
}

/** `process.memoryUsage().heapUsed` after full collections. Needs `--expose-gc` (see vitest.config.ts). */
export function heapAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc !== 'function') throw new Error('global.gc is missing: run vitest with execArgv --expose-gc');
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

/** Runs `task(i)` for i in [0, count) with at most `concurrency` at a time. */
export async function pool(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/**
 * One HTTP request with `node:http` over a keep-alive agent. Unlike `fetch` it accepts any status
 * Node can send (600-999 too) and any method.
 */
export function http(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string | Buffer; chunked?: boolean } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    // An explicit length unless `chunked`: Node sends GET, DELETE and OPTIONS bodies unframed otherwise.
    const headers =
      init.body === undefined
        ? init.headers
        : init.chunked
          ? { ...init.headers, 'transfer-encoding': 'chunked' }
          : { ...init.headers, 'content-length': String(Buffer.byteLength(init.body)) };
    const req = request(url, { method: init.method ?? 'GET', headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

export const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(2)} MiB`;

export { builtCli, type CliProcess, spawnCli } from '../cli.js';
