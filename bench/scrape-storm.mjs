// Scrape-storm benchmark (issue 14): an Express app with @gatewayz/metrics-express and a realistic state (--endpoints
// endpoints, each with a few hundred latencies) is loaded by autocannon on a cheap route (/hello), with 0 or --scrapers
// concurrent scrapers of /metrics (text 0.0.4, or protobuf) that all scrape at the same instants (--interval-ms) or back
// to back, with cacheMs 0 or --cache-ms.
// It reports /hello throughput under each storm as a ratio to the storm-free run of the same round (median and range).
// Run from the repo root: `node bench/scrape-storm.mjs` (see docs/BENCHMARKS.md). Not part of any test suite.
//
// Three processes: the server (`--serve`), the scrapers (`--scrape`) and this one (autocannon), so the load generators
// never share the server's event loop. Rounds are interleaved: every round runs every variant, in a rotated order.
//
// Options: --rounds N (default 5), --duration S (default 8), --connections N (autocannon, default 50),
// --scrapers N (default 50), --interval-ms N (all scrapers scrape at once every N ms: default 1000; 0: back to back), --endpoints N (default 300), --cache-ms N (default 1000; 0 leaves out the cached variants,
// e.g. against code without the option), --out FILE (default bench/results/scrape-storm-latest.json; "-" writes none),
// --app express|demo (default express: a bare Express app and /hello; demo: the demo gateway of apps/gateway, with
// runtime metrics, and its own cheap route GET /api/models as the loaded route), --framework express|fastify|koa (the
// demo's framework, default fastify, the demo's own default), --gzip on|off|both (default on: the scrapers send
// `Accept-Encoding: gzip`, as Prometheus does; off: no Accept-Encoding; both: each storm variant once with and once
// without, in the same rounds).

import { fork, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const PROTOBUF_ACCEPT = 'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited';
const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const ENDPOINTS = Number(opt('endpoints', 300));
const APP = opt('app', 'express');
const FRAMEWORK = opt('framework', 'fastify');
if (!['express', 'demo'].includes(APP)) throw new Error(`--app express|demo, not ${APP}`);
/** The route autocannon loads: the app's own cheapest one. */
const LOADED = APP === 'demo' ? '/api/models' : '/hello';
const GZIP_MODES = { on: [true], off: [false], both: [true, false] }[opt('gzip', 'on')];
if (!GZIP_MODES) throw new Error('--gzip on|off|both');

if (opt('serve') !== undefined) await serve(Number(opt('serve')));
else if (opt('scrape') !== undefined) scrape();
else await main();

// ---------------------------------------------------------------------------------------------
// Server: the app, with cacheMs from --serve (0: the option is not passed at all, so older code runs too).

async function serve(cacheMs) {
  const express = (await import('express')).default;
  const { MetricsCollector } = await import('@gatewayz/metrics-core');
  const { expressMetrics } = await import('@gatewayz/metrics-express');
  const collector = new MetricsCollector({ limits: { endpoints: ENDPOINTS + 50 }, runtimeMetrics: APP === 'demo' });
  const methods = ['GET', 'POST'];
  for (let i = 0; i < ENDPOINTS; i++) {
    for (let k = 0; k < 200; k++) {
      // Lognormal-ish latencies around 80 ms; one request in 50 fails.
      const u = ((i * 7919 + k * 104729) % 10007) / 10007;
      collector.recordRequest({
        endpoint: `/v1/route${i}/:id`,
        method: methods[k % 2],
        latencySeconds: 0.08 * Math.exp(1.2 * (u - 0.5) * 2),
        statusCode: k % 50 === 0 ? 502 : 200,
      });
    }
  }
  let port;
  if (APP === 'demo') {
    const { startGateway } = await import('@gatewayz/gateway');
    const gw = await startGateway({
      framework: FRAMEWORK,
      collector,
      adminToken: null,
      ...(cacheMs > 0 && { metricsCacheMs: cacheMs }),
    });
    port = Number(new URL(gw.url).port);
  } else {
    const app = express();
    app.use(expressMetrics(cacheMs > 0 ? { collector, cacheMs } : { collector }));
    app.get('/hello', (_req, res) => res.send('hello world'));
    const server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    port = server.address().port;
  }
  process.send({ port });
  process.on('message', (m) => {
    if (m === 'cpu') {
      const u = process.cpuUsage();
      process.send({ cpuMicros: u.user + u.system });
    }
  });
  process.on('disconnect', () => process.exit(0));
}

// ---------------------------------------------------------------------------------------------
// Scrapers: on {start: {port, n, protobuf, intervalMs}}, n loops that GET /metrics (body drained) until {stop}: back
// to back with intervalMs 0, else all n at once every intervalMs.

function scrape() {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1000 });
  let running = false;
  let interval = 0;
  let timer;
  let stats;
  let busy = [];
  let gzip = true;
  const once = (i, port, protobuf) => {
    if (!running) return;
    busy[i] = true;
    const t0 = performance.now();
    const again = () => {
      busy[i] = false;
      if (interval === 0) once(i, port, protobuf);
    };
    const req = http.get(
      {
        host: '127.0.0.1',
        port,
        path: '/metrics',
        agent,
        headers: { ...(protobuf && { accept: PROTOBUF_ACCEPT }), ...(gzip && { 'accept-encoding': 'gzip' }) },
      },
      (res) => {
        let bytes = 0;
        res.on('data', (d) => {
          bytes += d.length;
        });
        res.on('end', () => {
          if (res.statusCode === 200) {
            stats.scrapes++;
            stats.bytes += bytes;
            stats.ms.push(performance.now() - t0);
          } else stats.errors++;
          again();
        });
      },
    );
    req.on('error', () => {
      stats.errors++;
      setTimeout(again, 10);
    });
  };
  process.on('message', (m) => {
    if (m.start) {
      const { n, port, protobuf } = m.start;
      running = true;
      interval = m.start.intervalMs;
      gzip = m.start.gzip;
      stats = { scrapes: 0, bytes: 0, errors: 0, ms: [], skipped: 0, cpu0: process.cpuUsage() };
      busy = new Array(n).fill(false);
      const tick = () => {
        // Every scraper at the same instant, as Prometheus servers with one interval and no jitter hit one target;
        // one still busy with its last scrape skips this tick (as Prometheus does).
        for (let i = 0; i < n; i++) {
          if (busy[i]) stats.skipped++;
          else once(i, port, protobuf);
        }
      };
      tick();
      if (interval > 0) timer = setInterval(tick, interval);
    } else if (m.stop) {
      running = false;
      clearInterval(timer);
      const ms = stats.ms.sort((a, b) => a - b);
      const cpu = process.cpuUsage(stats.cpu0);
      process.send({
        cpuMicros: cpu.user + cpu.system,
        scrapes: stats.scrapes,
        bytes: stats.bytes,
        errors: stats.errors,
        skipped: stats.skipped,
        p50Ms: ms[ms.length >> 1] ?? null,
        p99Ms: ms[Math.floor(ms.length * 0.99)] ?? null,
      });
    }
  });
  process.on('disconnect', () => process.exit(0));
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const autocannon = (await import('autocannon')).default;
  const ROUNDS = Number(opt('rounds', 5));
  const DURATION = Number(opt('duration', 8));
  const CONNECTIONS = Number(opt('connections', 50));
  const SCRAPERS = Number(opt('scrapers', 50));
  const INTERVAL_MS = Number(opt('interval-ms', 1000));
  const CACHE_MS = Number(opt('cache-ms', 1000));
  const OUT = opt('out', join(here, 'results', 'scrape-storm-latest.json'));
  const log = (...a) => console.error(`[${new Date().toISOString().slice(11, 19)}]`, ...a);
  const self = fileURLToPath(import.meta.url);

  const start = async (cacheMs) => {
    const child = fork(
      self,
      ['--serve', String(cacheMs), '--endpoints', String(ENDPOINTS), '--app', APP, '--framework', FRAMEWORK],
      { stdio: 'inherit' },
    );
    const port = await new Promise((resolve, reject) => {
      child.once('message', (m) => resolve(m.port));
      child.once('exit', (code) => reject(new Error(`server (cacheMs ${cacheMs}) exited with ${code}`)));
    });
    return { child, port };
  };
  const servers = { 0: await start(0) };
  if (CACHE_MS > 0) servers[CACHE_MS] = await start(CACHE_MS);
  const scraper = fork(self, ['--scrape', '1'], { stdio: 'inherit' });

  const variants = [{ name: 'no scrapers', cacheMs: 0, scrapers: 0 }];
  for (const protobuf of [false, true]) {
    for (const cacheMs of CACHE_MS > 0 ? [0, CACHE_MS] : [0]) {
      for (const gzip of GZIP_MODES) {
        variants.push({
          name: `${SCRAPERS} × ${protobuf ? 'protobuf' : 'text'}${gzip ? ', gzip' : ''}, cacheMs ${cacheMs}`,
          cacheMs,
          scrapers: SCRAPERS,
          protobuf,
          gzip,
        });
      }
    }
  }

  const cannon = (port, duration) =>
    new Promise((resolve, reject) => {
      autocannon({ url: `http://127.0.0.1:${port}${LOADED}`, duration, connections: CONNECTIONS }, (err, r) =>
        err ? reject(err) : resolve(r),
      );
    });
  const cpuOf = (child) =>
    new Promise((resolve) => {
      const on = (m) => {
        if (m && typeof m.cpuMicros === 'number') {
          child.off('message', on);
          resolve(m.cpuMicros);
        }
      };
      child.on('message', on);
      child.send('cpu');
    });
  const scrapeStats = () => new Promise((resolve) => scraper.once('message', resolve));
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  // Sizes of one scrape per format, and a warm-up of each server.
  const sizes = {};
  for (const [format, accept] of [
    ['text', undefined],
    ['protobuf', PROTOBUF_ACCEPT],
  ]) {
    const res = await fetch(`http://127.0.0.1:${servers[0].port}/metrics`, { headers: accept ? { accept } : {} });
    sizes[format] = (await res.arrayBuffer()).byteLength;
    if (format === 'protobuf' && !String(res.headers.get('content-type')).includes('protobuf'))
      throw new Error('the server did not answer protobuf');
  }
  for (const { port } of Object.values(servers)) await cannon(port, 2);
  log(
    `${ENDPOINTS} endpoints: /metrics text ${sizes.text} B, protobuf ${sizes.protobuf} B; ${ROUNDS} rounds × ` +
      `${variants.length} variants × ${DURATION} s; ${CONNECTIONS} connections on ${LOADED} (${APP === 'demo' ? `the demo on ${FRAMEWORK}` : 'an Express app'})`,
  );

  const samples = Object.fromEntries(variants.map((v) => [v.name, []]));
  const loadStart = loadavg();
  for (let r = 0; r < ROUNDS; r++) {
    const order = variants.map((_, i) => variants[(i + r) % variants.length]);
    for (const v of order) {
      await sleep(500);
      const { port } = servers[v.cacheMs];
      if (v.scrapers > 0)
        scraper.send({ start: { port, n: v.scrapers, protobuf: v.protobuf, gzip: v.gzip, intervalMs: INTERVAL_MS } });
      const cpu0 = await cpuOf(servers[v.cacheMs].child);
      const res = await cannon(port, DURATION);
      const cpu1 = await cpuOf(servers[v.cacheMs].child);
      let s = { scrapes: 0, bytes: 0, errors: 0, p50Ms: null, p99Ms: null };
      if (v.scrapers > 0) {
        const got = scrapeStats();
        scraper.send({ stop: true });
        s = await got;
      }
      const rps = res.requests.total / res.duration;
      samples[v.name].push({
        rps,
        errors: res.errors + res.timeouts + res.non2xx,
        p99Ms: res.latency.p99,
        scrapesPerSecond: s.scrapes / res.duration,
        scrapeErrors: s.errors,
        scrapesSkipped: s.skipped ?? 0,
        // CPU in cores (1 = one core busy all the time) of the server and of the scrapers' process.
        serverCores: (cpu1 - cpu0) / 1e6 / res.duration,
        scraperCores: (s.cpuMicros ?? 0) / 1e6 / res.duration,
        scrapeP50Ms: s.p50Ms,
        scrapeP99Ms: s.p99Ms,
      });
      log(
        `round ${r + 1} ${v.name}: ${Math.round(rps)} req/s, p99 ${res.latency.p99} ms` +
          (v.scrapers
            ? `; ${(s.scrapes / res.duration).toFixed(0)} scrapes/s, scrape p50 ${s.p50Ms?.toFixed(0)} ms`
            : ''),
      );
    }
    await sleep(300); // let the scrapers' last requests drain before the next round
  }
  const loadEnd = loadavg();
  scraper.disconnect();
  for (const { child } of Object.values(servers)) child.disconnect();

  const median = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    const m = s.length >> 1;
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
  };
  const base = samples['no scrapers'];
  if (!base || base.length !== ROUNDS) throw new Error('the storm-free runs are missing');
  const rows = [];
  const summary = {};
  for (const v of variants) {
    const s = samples[v.name];
    if (s.length !== ROUNDS) throw new Error(`${v.name}: ${s.length} of ${ROUNDS} rounds`);
    const ratios = s.map((x, i) => x.rps / base[i].rps);
    const errors = s.reduce((a, x) => a + x.errors + x.scrapeErrors, 0);
    summary[v.name] = {
      rpsMedian: median(s.map((x) => x.rps)),
      ratioMedian: median(ratios),
      ratioMin: Math.min(...ratios),
      ratioMax: Math.max(...ratios),
      scrapesPerSecondMedian: median(s.map((x) => x.scrapesPerSecond)),
      serverCoresMedian: median(s.map((x) => x.serverCores)),
      scraperCoresMedian: median(s.map((x) => x.scraperCores)),
      scrapeP50MsMedian: v.scrapers ? median(s.map((x) => x.scrapeP50Ms ?? Number.NaN)) : null,
      errors,
      samples: s,
    };
    const pct = (x) => `${(x * 100).toFixed(0)} %`;
    rows.push(
      `| ${v.name} | ${Math.round(summary[v.name].rpsMedian)} | ${v.scrapers ? pct(summary[v.name].ratioMedian) : '—'} | ` +
        `${v.scrapers ? `${pct(summary[v.name].ratioMin)}–${pct(summary[v.name].ratioMax)}` : '—'} | ` +
        `${v.scrapers ? summary[v.name].scrapesPerSecondMedian.toFixed(0) : '—'} | ` +
        `${v.scrapers ? summary[v.name].scrapeP50MsMedian.toFixed(0) : '—'} | ` +
        `${summary[v.name].serverCoresMedian.toFixed(2)} | ${summary[v.name].scraperCoresMedian.toFixed(2)} | ${errors} |`,
    );
  }
  const table = [
    `| variant | ${LOADED} req/s (median) | vs no scrapers (median of per-round ratios) | range | scrapes/s | scrape p50 ms | server CPU (cores) | scraper process CPU (cores) | errors |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
  ].join('\n');
  const results = {
    date: new Date().toISOString(),
    command: `node bench/scrape-storm.mjs ${argv.join(' ')}`.trim(),
    commit: spawnSync('git', ['rev-parse', 'HEAD'], { cwd: here, encoding: 'utf8' }).stdout.trim(),
    settings: {
      rounds: ROUNDS,
      durationSeconds: DURATION,
      connections: CONNECTIONS,
      scrapers: SCRAPERS,
      scrapeIntervalMs: INTERVAL_MS,
      endpoints: ENDPOINTS,
      cacheMs: CACHE_MS,
      gzip: opt('gzip', 'on'),
      app: APP === 'demo' ? `demo gateway (${FRAMEWORK})` : 'express + @gatewayz/metrics-express',
      loadedRoute: LOADED,
    },
    sizes,
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version, loadStart, loadEnd },
    variants: summary,
    table,
  };
  console.log(`\n${table}\n`);
  console.log(
    `machine: ${results.machine.cpu}, ${results.machine.cores} cores; node ${process.version}; load avg ` +
      `${loadStart.map((x) => x.toFixed(2)).join(' ')} -> ${loadEnd.map((x) => x.toFixed(2)).join(' ')}; commit ${results.commit}`,
  );
  if (OUT !== '-') {
    mkdirSync(dirname(OUT), { recursive: true });
    writeFileSync(OUT, `${JSON.stringify(results, null, 2)}\n`);
    console.log(`wrote ${OUT}`);
  }
}
