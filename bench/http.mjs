// HTTP benchmark on loopback: a hello-world route on Express, Fastify and Koa, each served four ways: bare, with an
// empty timing hook (the cheapest middleware or hook that still times every request), with our adapter, and with the
// peer middleware (express-prom-bundle, fastify-metrics, @echo-health/koa-prometheus-exporter); loaded by autocannon.
// Run from the repo root with `npx -y pnpm@12.4.2 bench:http`; see docs/BENCHMARKS.md for the method and figures.
//
// Each server runs in its own child process (`node bench/http.mjs --serve <variant>`), so it never shares an event
// loop with autocannon, which runs in this process. Rounds are interleaved: every round loads every variant once, in
// an order rotated per round, and the figures are medians over rounds. "Beyond the empty hook" is, per round,
// (empty-hook req/s - variant req/s) / bare req/s, in percentage points of bare throughput.
//
// The run fails (exit 1, nothing written) when a variant has a missing round, errors, timeouts or non-2xx answers, or
// when an instrumented server's /metrics does not show the route.
//
// Options: --rounds N (default 5), --duration S (default 10), --connections N (default 50),
// --only <comma-separated substrings of variant names, e.g. koa or 'fastify bare,fastify empty,gatewayz/metrics-fastify'>,
// --no-write (do not write bench/results/http-latest.json).

import { fork, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const PATH = '/hello';
const BODY = 'hello world';

// Where the empty hooks put each request's duration, so that the timing cannot be optimised away.
let sink = 0;
let sinkBig = 0n;

/**
 * Our adapters record into a collector without the Node.js runtime metrics (on by default: an event-loop delay
 * monitor and a GC observer), as every peer here runs without its process metrics: the figures are the adapters'.
 */
async function quietCollector() {
  const { MetricsCollector } = await import('@gatewayz/metrics-core');
  return new MetricsCollector({ runtimeMetrics: false });
}

/** The servers. Each `start` returns a listening Node server on 127.0.0.1, port 0. */
const VARIANTS = {
  'express bare': async () => {
    const express = (await import('express')).default;
    const app = express();
    app.get(PATH, (_req, res) => res.send(BODY));
    return app;
  },
  'express empty hook': async () => {
    const express = (await import('express')).default;
    const app = express();
    app.use((_req, res, next) => {
      const t = process.hrtime.bigint();
      res.on('finish', () => {
        sinkBig = process.hrtime.bigint() - t;
      });
      next();
    });
    app.get(PATH, (_req, res) => res.send(BODY));
    return app;
  },
  'express + @gatewayz/metrics-express': async () => {
    const express = (await import('express')).default;
    const { expressMetrics } = await import('@gatewayz/metrics-express');
    const app = express();
    app.use(expressMetrics({ collector: await quietCollector() }));
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
  'fastify empty hook': async () => {
    const Fastify = (await import('fastify')).default;
    const app = Fastify();
    app.decorateRequest('startedAt', 0);
    app.addHook('onRequest', (request, _reply, done) => {
      request.startedAt = performance.now();
      done();
    });
    app.addHook('onResponse', (request, _reply, done) => {
      sink = performance.now() - request.startedAt;
      done();
    });
    app.get(PATH, async () => BODY);
    return app;
  },
  'fastify + @gatewayz/metrics-fastify': async () => {
    const Fastify = (await import('fastify')).default;
    const { fastifyMetrics } = await import('@gatewayz/metrics-fastify');
    const app = Fastify();
    await app.register(fastifyMetrics, { collector: await quietCollector() });
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
  // Koa: every variant routes with @koa/router, as our adapter expects (its endpoint label is the router's template).
  'koa bare': async () => koaApp(),
  'koa empty hook': async () =>
    koaApp((app) =>
      app.use(async (_ctx, next) => {
        const t = performance.now();
        await next();
        sink = performance.now() - t;
      }),
    ),
  'koa + @gatewayz/metrics-koa': async () => {
    const { koaMetrics } = await import('@gatewayz/metrics-koa');
    const collector = await quietCollector();
    return koaApp((app) => app.use(koaMetrics({ collector })));
  },
  'koa + @echo-health/koa-prometheus-exporter': async () => {
    const prom = (await import('@echo-health/koa-prometheus-exporter')).default;
    // Importing it starts prom-client's default process metrics, refreshed every 10 s; a second call returns that
    // timer, which we stop (ours and the other peers run without process metrics).
    clearInterval(prom.client.collectDefaultMetrics());
    return koaApp((app) => {
      app.use(prom.middleware({ path: '/metrics' }));
      app.use(prom.httpMetricMiddleware());
    });
  },
};

async function koaApp(instrument = () => {}) {
  const Koa = (await import('koa')).default;
  const Router = (await import('@koa/router')).default;
  const app = new Koa();
  instrument(app);
  const router = new Router();
  router.get(PATH, (ctx) => {
    ctx.body = BODY;
  });
  app.use(router.routes());
  return app;
}

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
      // The empty hooks' last duration goes along, so the sinks are read.
      process.send({ cpuMicros: u.user + u.system, lastDuration: sink + Number(sinkBig) });
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
  if (names.length === 0) throw new Error(`--only ${only} matches no variant of: ${Object.keys(VARIANTS).join('; ')}`);
  // --cpu-prof DIR: every server runs under `node --cpu-prof` and writes DIR/<variant>.cpuprofile when it exits.
  const profDir = opt('cpu-prof');
  if (profDir) mkdirSync(profDir, { recursive: true });
  const slug = (n) => n.replace(/[^a-z0-9]+/gi, '-');
  const died = [];
  let stopping = false;
  const log = (...a) => console.error(`[${new Date().toISOString().slice(11, 19)}]`, ...a);

  const children = {};
  for (const name of names) {
    const execArgv = profDir
      ? ['--cpu-prof', '--cpu-prof-dir', profDir, '--cpu-prof-name', `${slug(name)}.cpuprofile`]
      : [];
    const child = fork(fileURLToPath(import.meta.url), ['--serve', name], { stdio: 'inherit', execArgv });
    // A server that dies mid-run fails the run instead of leaving a variant without rounds.
    child.on('exit', (code, signal) => {
      if (!stopping) died.push(`${name} exited (code ${code}, signal ${signal})`);
    });
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
    new Promise((resolve, reject) => {
      const { child } = children[name];
      const timer = setTimeout(() => reject(new Error(`${name} did not report its CPU time`)), 5000);
      const on = (m) => {
        if (m && typeof m.cpuMicros === 'number') {
          clearTimeout(timer);
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
      if (died.length > 0) throw new Error(died.join('; '));
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
  const instrumented = (n) => n.includes(' + ');
  const scraped = {};
  for (const name of names.filter(instrumented)) {
    try {
      const text = await (await fetch(`${children[name].base}/metrics`)).text();
      scraped[name] = text
        .split('\n')
        .filter((l) => l.includes(PATH) && /_(total|count)\{/.test(l) && !l.startsWith('#'));
    } catch (e) {
      scraped[name] = [];
      died.push(`${name}: GET /metrics failed: ${e.message}`);
    }
  }
  stopping = true;
  await Promise.all(
    Object.values(children).map(
      ({ child }) =>
        new Promise((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', resolve);
          child.disconnect();
        }),
    ),
  );

  // Fail loudly: no table of ratios against a missing, failing or non-recording variant.
  const problems = [...died];
  for (const name of names) {
    const s = samples[name];
    if (s.rps.length !== ROUNDS) problems.push(`${name}: ${s.rps.length} of ${ROUNDS} rounds`);
    if (s.rps.some((x) => !(x > 0))) problems.push(`${name}: a round answered no request`);
    if (s.errors > 0) problems.push(`${name}: ${s.errors} errors/timeouts`);
    if (s.non2xx > 0) problems.push(`${name}: ${s.non2xx} non-2xx answers`);
    if (instrumented(name) && !(scraped[name]?.length > 0)) problems.push(`${name}: /metrics does not show ${PATH}`);
  }
  if (problems.length > 0) {
    console.error(`\nbench/http.mjs FAILED, nothing written:\n  ${problems.join('\n  ')}`);
    process.exit(1);
  }

  const median = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    const m = s.length >> 1;
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
  };
  const range = (xs) => [Math.min(...xs), Math.max(...xs)];
  const f = (x, d = 0) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  const signed = (x, d = 1) => `${x >= 0 ? '+' : ''}${f(x, d)}`;
  const pkgVersion = (p) => JSON.parse(readFileSync(join(here, 'node_modules', p, 'package.json'), 'utf8')).version;
  const results = {
    date: new Date().toISOString(),
    command: `node bench/http.mjs ${argv.join(' ')}`.trim(),
    settings: {
      rounds: ROUNDS,
      durationSeconds: DURATION,
      connections: CONNECTIONS,
      pipelining: PIPELINING,
      warmupSeconds: WARMUP,
    },
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version, loadStart, loadEnd },
    versions: Object.fromEntries(
      [
        'autocannon',
        'express',
        'express-prom-bundle',
        'fastify',
        'fastify-metrics',
        'prom-client',
        'koa',
        '@koa/router',
        '@echo-health/koa-prometheus-exporter',
      ].map((p) => [p, pkgVersion(p)]),
    ),
    commit: spawnSync('git', ['rev-parse', 'HEAD'], { cwd: here, encoding: 'utf8' }).stdout.trim(),
    variants: {},
  };
  const rows = [];
  for (const name of names) {
    const s = samples[name];
    const framework = name.split(' ')[0];
    const bare = samples[`${framework} bare`];
    const empty = samples[`${framework} empty hook`];
    const isBare = name.endsWith(' bare');
    const isEmpty = name.endsWith(' empty hook');
    const rps = median(s.rps);
    // Per-round figures against the bare (and empty-hook) run of the same round, then the median: robust to drift
    // between rounds. Without the bare or empty-hook variant in the run (--only) there is no such figure.
    const perRoundCost = bare && !isBare ? s.rps.map((x, i) => 1 - x / bare.rps[i]) : undefined;
    const perRoundBeyond =
      bare && empty && !isBare && !isEmpty ? s.rps.map((x, i) => (empty.rps[i] - x) / bare.rps[i]) : undefined;
    const perRoundCpuExtra = bare && !isBare ? s.cpuPerReq.map((x, i) => x / bare.cpuPerReq[i] - 1) : undefined;
    const perRoundCpuBeyond =
      empty && !isBare && !isEmpty ? s.cpuPerReq.map((x, i) => x - empty.cpuPerReq[i]) : undefined;
    const cpu = median(s.cpuPerReq);
    results.variants[name] = {
      rpsMedian: rps,
      rpsRange: range(s.rps),
      p99Median: median(s.p99),
      p50Median: median(s.p50),
      overheadVsBare: perRoundCost && median(perRoundCost),
      overheadVsBareRange: perRoundCost && range(perRoundCost),
      overheadOfMedians: bare && !isBare ? 1 - rps / median(bare.rps) : undefined,
      beyondEmptyHookPp: perRoundBeyond && median(perRoundBeyond) * 100,
      beyondEmptyHookPpRange: perRoundBeyond && range(perRoundBeyond).map((x) => x * 100),
      beyondEmptyHookPpPerRound: perRoundBeyond?.map((x) => x * 100),
      cpuMicrosPerRequestMedian: cpu,
      cpuExtraVsBare: perRoundCpuExtra && median(perRoundCpuExtra),
      cpuMicrosBeyondEmptyHook: perRoundCpuBeyond && median(perRoundCpuBeyond),
      samples: s,
      scraped: scraped[name],
    };
    const v = results.variants[name];
    rows.push([
      name,
      f(rps),
      f(median(s.p99)),
      v.overheadVsBare === undefined ? '—' : `${f(v.overheadVsBare * 100, 1)} %`,
      v.beyondEmptyHookPp === undefined
        ? '—'
        : `${signed(v.beyondEmptyHookPp)} pp (${signed(v.beyondEmptyHookPpRange[0])} to ${signed(v.beyondEmptyHookPpRange[1])})`,
      f(cpu, 1),
      v.cpuExtraVsBare === undefined ? '—' : `${signed(v.cpuExtraVsBare * 100)} %`,
      v.cpuMicrosBeyondEmptyHook === undefined ? '—' : signed(v.cpuMicrosBeyondEmptyHook),
      `${f(v.rpsRange[0])}–${f(v.rpsRange[1])}`,
      String(s.errors + s.non2xx),
    ]);
  }
  const table = [
    '| server | req/s | p99 ms | throughput cost vs bare | beyond empty hook, pp of bare (range over rounds) | server CPU µs/req | CPU vs bare | CPU µs/req beyond empty hook | req/s range | errors + non-2xx |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
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
