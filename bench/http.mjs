// HTTP benchmark on loopback: a hello-world route served bare, with our adapter, and with the peer
// middleware (express-prom-bundle for Express, fastify-metrics for Fastify), loaded by autocannon.
// Run from the repo root with `npx -y pnpm@12.4.2 bench:http`; see docs/BENCHMARKS.md for the method and figures.
//
// Each server runs in its own child process (`node bench/http.mjs --serve <variant>`), so it never shares an event
// loop with autocannon, which runs in this process. Rounds are interleaved: every round loads every variant once, in
// an order rotated per round, and the figures are medians over rounds.
//
// Options: --rounds N (default 5), --duration S (default 10), --connections N (default 50),
// --only <comma-separated substrings of variant names, e.g. express or 'fastify bare,gatewayz/metrics-fastify'>, --no-write (do not write bench/results/http-latest.json).

import { fork, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const PATH = '/hello';
const BODY = 'hello world';

/** The servers. Each `start` returns a listening Node server on 127.0.0.1, port 0. */
const VARIANTS = {
  'express bare': async () => {
    const express = (await import('express')).default;
    const app = express();
    app.get(PATH, (_req, res) => res.send(BODY));
    return app;
  },
  'express + @gatewayz/metrics-express': async () => {
    const express = (await import('express')).default;
    const { expressMetrics } = await import('@gatewayz/metrics-express');
    const app = express();
    app.use(expressMetrics());
    app.get(PATH, (_req, res) => res.send(BODY));
    return app;
  },
  'express + express-prom-bundle': async () => {
    const express = (await import('express')).default;
    const promBundle = (await import('express-prom-bundle')).default;
    const app = express();
    // Route, method and status labels, like ours; no default process metrics (ours has none either).
    app.use(promBundle({ includeMethod: true, includePath: true, includeStatusCode: true }));
    app.get(PATH, (_req, res) => res.send(BODY));
    return app;
  },
  'fastify bare': async () => {
    const Fastify = (await import('fastify')).default;
    const app = Fastify();
    app.get(PATH, async () => BODY);
    return app;
  },
  'fastify + @gatewayz/metrics-fastify': async () => {
    const Fastify = (await import('fastify')).default;
    const { fastifyMetrics } = await import('@gatewayz/metrics-fastify');
    const app = Fastify();
    await app.register(fastifyMetrics);
    app.get(PATH, async () => BODY);
    return app;
  },
  'fastify + fastify-metrics': async () => {
    const Fastify = (await import('fastify')).default;
    const metricsPlugin = (await import('fastify-metrics')).default;
    const app = Fastify();
    // Its default route metrics (a histogram and a summary per method, route and status); process metrics off.
    await app.register(metricsPlugin, { endpoint: '/metrics', defaultMetrics: { enabled: false } });
    app.get(PATH, async () => BODY);
    return app;
  },
};

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};

// ---------------------------------------------------------------------------------------------
// Child: serve one variant, report the port over IPC, exit when the parent disconnects.

if (opt('serve')) {
  const name = opt('serve');
  const app = await VARIANTS[name]();
  let port;
  if (typeof app.listen === 'function' && typeof app.inject === 'function') {
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = app.server.address().port;
  } else {
    const server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    port = server.address().port;
  }
  process.send({ port });
  // The parent asks for our CPU time around each run: CPU per request is far less sensitive to other load than req/s.
  process.on('message', (m) => {
    if (m === 'cpu') {
      const u = process.cpuUsage();
      process.send({ cpuMicros: u.user + u.system });
    }
  });
  process.on('disconnect', () => process.exit(0));
} else {
  await main();
}

// ---------------------------------------------------------------------------------------------
// Parent: start every server, warm each up, then interleaved rounds of autocannon.

async function main() {
  const autocannon = (await import('autocannon')).default;
  const ROUNDS = Number(opt('rounds', 5));
  const DURATION = Number(opt('duration', 10));
  const CONNECTIONS = Number(opt('connections', 50));
  const PIPELINING = 1;
  const WARMUP = 3;
  const only = opt('only');
  const names = Object.keys(VARIANTS).filter((n) => !only || only.split(',').some((o) => n.includes(o)));
  const log = (...a) => console.error(`[${new Date().toISOString().slice(11, 19)}]`, ...a);

  const children = {};
  for (const name of names) {
    const child = fork(fileURLToPath(import.meta.url), ['--serve', name], { stdio: 'inherit' });
    const port = await new Promise((resolve, reject) => {
      child.once('message', (m) => resolve(m.port));
      child.once('exit', (code) => reject(new Error(`${name} exited with ${code}`)));
    });
    children[name] = { child, url: `http://127.0.0.1:${port}${PATH}`, base: `http://127.0.0.1:${port}` };
  }

  const cannon = (url, duration) =>
    new Promise((resolve, reject) => {
      autocannon({ url, duration, connections: CONNECTIONS, pipelining: PIPELINING }, (err, r) =>
        err ? reject(err) : resolve(r),
      );
    });
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const cpuOf = (name) =>
    new Promise((resolve) => {
      const { child } = children[name];
      const on = (m) => {
        if (m && typeof m.cpuMicros === 'number') {
          child.off('message', on);
          resolve(m.cpuMicros);
        }
      };
      child.on('message', on);
      child.send('cpu');
    });

  log(`variants: ${names.length}; rounds: ${ROUNDS}; ${DURATION} s, ${CONNECTIONS} connections, pipelining 1`);
  for (const name of names) await cannon(children[name].url, WARMUP);

  const samples = Object.fromEntries(
    names.map((n) => [n, { rps: [], p99: [], p50: [], cpuPerReq: [], errors: 0, non2xx: 0 }]),
  );
  const loadStart = loadavg();
  for (let r = 0; r < ROUNDS; r++) {
    const order = names.map((_, i) => names[(i + r) % names.length]);
    for (const name of order) {
      await sleep(500);
      const cpu0 = await cpuOf(name);
      const res = await cannon(children[name].url, DURATION);
      const cpu1 = await cpuOf(name);
      const s = samples[name];
      s.cpuPerReq.push((cpu1 - cpu0) / res.requests.total);
      s.rps.push(res.requests.total / res.duration);
      s.p99.push(res.latency.p99);
      s.p50.push(res.latency.p50);
      s.errors += res.errors + res.timeouts;
      s.non2xx += res.non2xx;
      log(
        `round ${r + 1} ${name}: ${Math.round(res.requests.total / res.duration)} req/s, p99 ${res.latency.p99} ms, ` +
          `${((cpu1 - cpu0) / res.requests.total).toFixed(1)} µs CPU/req`,
      );
    }
  }
  const loadEnd = loadavg();

  // The instrumented servers really recorded: their /metrics mentions the route.
  const scraped = {};
  for (const name of names.filter((n) => !n.endsWith('bare'))) {
    const text = await (await fetch(`${children[name].base}/metrics`)).text();
    scraped[name] = text
      .split('\n')
      .filter((l) => l.includes(PATH) && /_(total|count)\{/.test(l) && !l.startsWith('#'));
  }
  for (const { child } of Object.values(children)) child.disconnect();

  const median = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    const m = s.length >> 1;
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
  };
  const f = (x, d = 0) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  const results = {
    date: new Date().toISOString(),
    command: 'npx -y pnpm@12.4.2 bench:http',
    settings: {
      rounds: ROUNDS,
      durationSeconds: DURATION,
      connections: CONNECTIONS,
      pipelining: PIPELINING,
      warmupSeconds: WARMUP,
    },
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version, loadStart, loadEnd },
    versions: Object.fromEntries(
      ['autocannon', 'express', 'express-prom-bundle', 'fastify', 'fastify-metrics', 'prom-client'].map((p) => [
        p,
        JSON.parse(readFileSync(join(here, 'node_modules', p, 'package.json'), 'utf8')).version,
      ]),
    ),
    commit: spawnSync('git', ['rev-parse', 'HEAD'], { cwd: here, encoding: 'utf8' }).stdout.trim(),
    variants: {},
  };
  const rows = [];
  for (const name of names) {
    const s = samples[name];
    const bare = samples[`${name.split(' ')[0]} bare`];
    const rps = median(s.rps);
    const bareRps = bare ? median(bare.rps) : rps;
    // Per-round overhead against the bare run of the same round, then the median: robust to drift between rounds.
    const perRound = bare ? s.rps.map((x, i) => 1 - x / bare.rps[i]) : [];
    const overhead = bare ? median(perRound) : 0;
    const cpu = median(s.cpuPerReq);
    const cpuExtra = bare ? median(s.cpuPerReq.map((x, i) => x / bare.cpuPerReq[i] - 1)) : 0;
    results.variants[name] = {
      rpsMedian: rps,
      p99Median: median(s.p99),
      p50Median: median(s.p50),
      overheadVsBare: overhead,
      overheadOfMedians: 1 - rps / bareRps,
      cpuMicrosPerRequestMedian: cpu,
      cpuExtraVsBare: cpuExtra,
      samples: s,
      scraped: scraped[name],
    };
    rows.push([
      name,
      f(rps),
      f(median(s.p99)),
      name.endsWith('bare') ? '—' : `${f(overhead * 100, 1)} %`,
      f(cpu, 1),
      name.endsWith('bare') ? '—' : `${cpuExtra >= 0 ? '+' : ''}${f(cpuExtra * 100, 1)} %`,
      `${f(Math.min(...s.rps))}–${f(Math.max(...s.rps))}`,
      String(s.errors + s.non2xx),
    ]);
  }
  const table = [
    '| server | req/s | p99 ms | throughput cost vs bare | server CPU µs/req | CPU vs bare | req/s range | errors + non-2xx |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
  results.table = table;
  console.log(`\n${table}\n`);
  for (const [name, lines] of Object.entries(scraped))
    console.log(`${name} /metrics: ${lines.slice(0, 2).join(' ; ')}`);
  console.log(
    `machine: ${results.machine.cpu}, ${results.machine.cores} cores; node ${process.version}; ` +
      `load avg ${loadStart.map((x) => x.toFixed(2)).join(' ')} -> ${loadEnd.map((x) => x.toFixed(2)).join(' ')}`,
  );
  if (!argv.includes('--no-write')) {
    mkdirSync(join(here, 'results'), { recursive: true });
    writeFileSync(join(here, 'results', 'http-latest.json'), `${JSON.stringify(results, null, 2)}\n`);
    log(`wrote ${join(here, 'results', 'http-latest.json')}`);
  }
}
