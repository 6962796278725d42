#!/usr/bin/env node
import cluster from 'node:cluster';
import { parseArgs } from 'node:util';
import { MetricsCollector } from '@gatewayz/metrics-core';
import { bearerTokenProblem, MIN_ADMIN_TOKEN_LENGTH } from '@gatewayz/metrics-exporter';
import { serveClusterWorker, startClusterPrimary } from './clusterGateway.js';
import { FRAMEWORKS, type Framework, startGateway, UPSTREAMS } from './gateway.js';

const USAGE = `Usage: gatewayz-demo [--framework express|fastify|koa] [--port 8000] [--host 127.0.0.1] [--seed N]
                    [--latency-scale X] [--upstream-base-port B] [--workers N [--metrics-port P]]

  --latency-scale X   multiplies the simulated providers' latency (default 1; 100 makes every call take
                      its provider's maximum, 1-2 s: handy to watch in-flight requests or a graceful stop);
                      streamed answers scale too (time to first token and token pace), so above about 15
                      their first token outlasts the gateway's 5 s upstream timeout (504)
  --upstream-base-port B
                      the simulated upstreams listen on 127.0.0.1:B, B+1, ... in the order
                      ${UPSTREAMS.join(', ')} (UPSTREAM_BASE_PORT; default 0: random ports);
                      with --workers, worker k (from 1) takes B+(k-1)*${UPSTREAMS.length} onwards
  --workers N         fork N cluster workers that share the port; the primary serves /metrics for all of them
                      (counters summed, latency sketches merged) on --metrics-port (METRICS_PORT, default port+1)

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
      'upstream-base-port': { type: 'string' },
      workers: { type: 'string', short: 'w' },
      'metrics-port': { type: 'string' },
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
  const upstreamText = values['upstream-base-port'] ?? process.env.UPSTREAM_BASE_PORT ?? '0';
  const upstreamBase = /^\d+$/.test(upstreamText) ? Number(upstreamText) : Number.NaN;
  if (!(upstreamBase >= 0 && upstreamBase <= 65536 - UPSTREAMS.length)) {
    fail(
      `invalid --upstream-base-port (or UPSTREAM_BASE_PORT) "${upstreamText}": 0, or 1 to ${65536 - UPSTREAMS.length}`,
    );
  }
  // Checked here too, so the message names the variable (and never echoes the token).
  const token = process.env.METRICS_ADMIN_TOKEN;
  if (token && token.length < MIN_ADMIN_TOKEN_LENGTH) {
    fail(
      `METRICS_ADMIN_TOKEN is too short (${token.length} characters): use at least ${MIN_ADMIN_TOKEN_LENGTH}, ` +
        'or unset it to disable POST /metrics/reset',
    );
  }
  // A token with a space or a non-ASCII character would pass and then never match a Bearer header.
  const problem = token ? bearerTokenProblem(token) : undefined;
  if (problem) {
    fail(
      `METRICS_ADMIN_TOKEN ${problem}: use only letters, digits and - . _ ~ + / (then optional trailing =), ` +
        'or unset it to disable POST /metrics/reset',
    );
  }

  const workers = values.workers === undefined ? 0 : Number(values.workers);
  if (!Number.isInteger(workers) || workers < 0 || workers > 64) fail(`invalid --workers "${values.workers}"`);
  const metricsPort = Number(values['metrics-port'] ?? process.env.METRICS_PORT ?? (port === 0 ? 0 : port + 1));
  if (!Number.isInteger(metricsPort) || metricsPort < 0 || metricsPort > 65535) fail(`invalid --metrics-port`);
  if (workers > 0 && cluster.isPrimary) return runPrimary({ framework, workers, metricsPort, host });

  const gateway = await startGateway({
    framework,
    // The demo serves the Node.js runtime families (CPU, memory, event loop, GC) by default.
    collector: new MetricsCollector({ runtimeMetrics: true }),
    port,
    host,
    latencyScale,
    // In cluster mode the primary resets every worker: a worker's own reset route would reset only itself.
    ...(cluster.isWorker && { metricsReset: false }),
    // Each cluster worker runs its own upstreams: worker k takes the k-th block of ports.
    upstreamBasePort: upstreamBase === 0 ? 0 : upstreamBase + ((cluster.worker?.id ?? 1) - 1) * UPSTREAMS.length,
    ...(seed !== undefined && { seed: cluster.isWorker ? seed + (cluster.worker?.id ?? 0) : seed }),
  });
  const u = gateway.url;
  if (cluster.isWorker) {
    serveClusterWorker(gateway);
    process.once('disconnect', () => void gateway.close().then(() => process.exit(0)));
  }
  const resetOn = Boolean(process.env.METRICS_ADMIN_TOKEN);
  // Workers print nothing: the primary prints the banner for the cluster.
  const out = cluster.isWorker ? undefined : process.stdout;
  out?.write(
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
      resetOn
        ? `  outage      curl -s -X POST ${u}/api/admin/providers/anthropic/outage -d '{"seconds": 30}' -H "authorization: Bearer $METRICS_ADMIN_TOKEN"`
        : '  outage      (admin routes disabled: set METRICS_ADMIN_TOKEN, at least 16 characters)',
      '',
      `  traffic     npx -y pnpm@12.4.2 traffic -- --url ${u} --duration 60 --rps 50   (from the repository root)`,
      '',
      `  upstreams   ${gateway.providers.map((p) => `${p.name} ${p.url}`).join(', ')}; billing ${gateway.billingUrl}`,
      '',
    ].join('\n'),
  );

  stopOnSignals('finishing in-flight requests, then stopping', () => gateway.close());
}

/**
 * On SIGTERM or SIGINT (once): prints `what`, runs `close` and exits 0, or 1 if closing failed.
 * Returns whether a stop has begun.
 */
function stopOnSignals(what: string, close: () => Promise<void>): () => boolean {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n${signal}: ${what}\n`);
    close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`gatewayz-demo: error while stopping: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  return () => stopping;
}

/** `--workers N`: the primary forks the workers (each runs this file) and serves the merged metrics. */
async function runPrimary(o: { framework: Framework; workers: number; metricsPort: number; host: string }) {
  const primary = await startClusterPrimary({ workers: o.workers, metricsPort: o.metricsPort, host: o.host });
  const m = primary.metricsUrl;
  process.stdout.write(
    [
      `gatewayz demo gateway (${o.framework}) with ${o.workers} cluster workers listening on ${primary.url}`,
      '',
      `  metrics     ${m}/metrics        (all workers: counters summed, latency sketches merged exactly)`,
      `  json        ${m}/metrics/json`,
      `  status      ${m}/metrics/health`,
      `  reset       POST ${m}/metrics/reset  (every worker; needs METRICS_ADMIN_TOKEN)`,
      '',
      `  ${primary.url}/metrics is one worker's own view (whichever worker takes the connection).`,
      '',
    ].join('\n'),
  );
  const stopping = stopOnSignals('stopping the workers (each finishes its in-flight requests)', () => primary.close());
  for (const w of primary.workers) {
    w.once('exit', (code, signal) => {
      if (!stopping())
        process.stderr.write(`gatewayz-demo: worker ${w.id} exited (${signal ?? code}); not restarted\n`);
    });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`gatewayz-demo: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
