#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { MIN_ADMIN_TOKEN_LENGTH } from '@gatewayz/metrics-exporter';
import { FRAMEWORKS, type Framework, startGateway } from './gateway.js';

const USAGE = `Usage: gatewayz-demo [--framework express|fastify|koa] [--port 8000] [--host 127.0.0.1] [--seed N]
                    [--latency-scale X]

  --latency-scale X   multiplies the simulated providers' latency (default 1; 100 makes every call take
                      its provider's maximum, 1-2 s: handy to watch in-flight requests or a graceful stop)

Environment: PORT (default 8000), HOST (default 127.0.0.1), METRICS_ADMIN_TOKEN (enables POST /metrics/reset
and guards the admin routes; at least ${MIN_ADMIN_TOKEN_LENGTH} characters).`;

function fail(message: string): never {
  process.stderr.write(`gatewayz-demo: ${message}\n\n${USAGE}\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2).filter((a) => a !== '--'),
    options: {
      framework: { type: 'string', short: 'f' },
      port: { type: 'string', short: 'p' },
      host: { type: 'string' },
      seed: { type: 'string' },
      'latency-scale': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const framework = (values.framework ?? process.env.FRAMEWORK ?? 'fastify') as Framework;
  if (!FRAMEWORKS.includes(framework)) fail(`unknown framework "${framework}"`);
  const port = Number(values.port ?? process.env.PORT ?? 8000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`invalid port "${values.port ?? process.env.PORT}"`);
  const host = values.host ?? process.env.HOST ?? '127.0.0.1';
  const seed = values.seed === undefined ? undefined : Number(values.seed);
  const latencyScale = Number(values['latency-scale'] ?? 1);
  if (!(latencyScale > 0 && latencyScale <= 1000)) fail(`invalid --latency-scale "${values['latency-scale']}"`);
  // Checked here too, so the message names the variable (and never echoes the token).
  const token = process.env.METRICS_ADMIN_TOKEN;
  if (token && token.length < MIN_ADMIN_TOKEN_LENGTH) {
    fail(
      `METRICS_ADMIN_TOKEN is too short (${token.length} characters): use at least ${MIN_ADMIN_TOKEN_LENGTH}, ` +
        'or unset it to disable POST /metrics/reset',
    );
  }

  const gateway = await startGateway({ framework, port, host, latencyScale, ...(seed !== undefined && { seed }) });
  const u = gateway.url;
  const resetOn = Boolean(process.env.METRICS_ADMIN_TOKEN);
  process.stdout.write(
    [
      `gatewayz demo gateway (${framework}) listening on ${u}`,
      '',
      `  chat        curl -s ${u}/api/chat -H 'content-type: application/json' -d '{"message": "test"}'`,
      `  models      ${u}/api/models`,
      `  providers   ${u}/api/providers`,
      `  usage       ${u}/api/usage`,
      `  health      ${u}/healthz`,
      '',
      `  dashboard   ${u}/dashboard      (live charts from /metrics/json)`,
      `  metrics     ${u}/metrics        (Prometheus text; OpenMetrics with Accept: application/openmetrics-text)`,
      `  json        ${u}/metrics/json`,
      `  status      ${u}/metrics/health`,
      `  reset       POST ${u}/metrics/reset  (${resetOn ? 'enabled: Authorization: Bearer $METRICS_ADMIN_TOKEN' : 'disabled: set METRICS_ADMIN_TOKEN'})`,
      `  outage      curl -s -X POST ${u}/api/admin/providers/anthropic/outage -d '{"seconds": 30}'${resetOn ? " -H 'authorization: Bearer ...'" : ''}`,
      '',
      `  traffic     npx -y pnpm@12.4.2 traffic -- --url ${u} --duration 60 --rps 50   (from the repository root)`,
      '',
      `  upstreams   ${gateway.providers.map((p) => `${p.name} ${p.url}`).join(', ')}; billing ${gateway.billingUrl}`,
      '',
    ].join('\n'),
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n${signal}: finishing in-flight requests, then stopping\n`);
    gateway.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`gatewayz-demo: error while stopping: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`gatewayz-demo: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
