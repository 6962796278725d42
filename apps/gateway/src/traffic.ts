#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { runTraffic } from './trafficGenerator.js';

const USAGE = `Usage: traffic [--url http://127.0.0.1:8000] [--duration 60] [--rps 50] [--concurrency 200]
               [--outage-provider anthropic | --no-outage] [--seed N]

Drives a realistic mix against a running demo gateway: repeated prompts (cache hits), fresh prompts on
several models, OpenAI-compatible calls to /v1/chat/completions (plain and streamed, a few left mid-stream)
from three tenants' API keys, reads, a few bad requests (400/401/413), and a provider outage from 40% to
60% of the run.
The admin route uses METRICS_ADMIN_TOKEN when it is set.`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2).filter((a) => a !== '--'),
    options: {
      url: { type: 'string', default: `http://127.0.0.1:${process.env.PORT ?? 8000}` },
      duration: { type: 'string', default: '60' },
      rps: { type: 'string', default: '50' },
      concurrency: { type: 'string', default: '200' },
      'outage-provider': { type: 'string', default: 'anthropic' },
      'no-outage': { type: 'boolean', default: false },
      seed: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const num = (name: string, v: string, min: number) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number >= ${min}, got "${v}"`);
    return n;
  };
  const url = values.url;
  const durationSeconds = num('duration', values.duration, 1);
  const rps = num('rps', values.rps, 1);
  process.stdout.write(`traffic: ${rps} req/s for ${durationSeconds}s against ${url}\n`);
  const report = await runTraffic({
    url,
    durationSeconds,
    rps,
    concurrency: num('concurrency', values.concurrency, 1),
    outage: values['no-outage'] ? false : { provider: values['outage-provider'], at: 0.4, for: 0.2 },
    ...(values.seed !== undefined && { seed: num('seed', values.seed, 0) }),
    onProgress: (line) => process.stdout.write(`${line}\n`),
  });
  const l = report.latencyMs;
  process.stdout.write(
    [
      '',
      `done: ${report.sent} requests, ${report.skipped} skipped, ${report.cached} chat answers from cache`,
      `  by status  ${JSON.stringify(report.byStatus)}`,
      `  by kind    ${JSON.stringify(report.byKind)}`,
      `  latency    p50 ${l.p50.toFixed(1)}ms  p95 ${l.p95.toFixed(1)}ms  p99 ${l.p99.toFixed(1)}ms`,
      `  now look at ${url}/metrics, ${url}/metrics/json and ${url}/metrics/health`,
      '',
    ].join('\n'),
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`traffic: ${err instanceof Error ? err.message : String(err)}\n\n${USAGE}\n`);
  process.exit(1);
});
