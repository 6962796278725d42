// In-process benchmark of the AI-model recording API: collector.recordCompletion against collector.recordRequest
// (the budget is 2x) and against prom-client doing the same job (counters and histograms for tokens, cost,
// duration, time to first token, time per output token, and tenant tokens and cost), side by side in one run.
// Run from the repo root: `npx -y pnpm@12.4.2 build && node bench/completion.mjs`; see docs/BENCHMARKS.md.
//
// Options: --quick (fewer rounds), --no-write (do not write bench/results/completion.json).

import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const { MetricsCollector, OPERATION_DURATION_BUCKETS, TIME_TO_FIRST_TOKEN_BUCKETS, TIME_PER_OUTPUT_TOKEN_BUCKETS } =
  await import('@gatewayz/metrics-core');
const prom = (await import('prom-client')).default;

const here = dirname(fileURLToPath(import.meta.url));
const args = new Set(process.argv.slice(2));
const ROUNDS = args.has('--quick') ? 3 : 9;

let seed = 0x2545f491;
const rand = () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

// 4 providers x 6 models x 3 tenants, half the calls streamed: a fixed input of 8,192 calls.
const N = 8192;
const calls = Array.from({ length: N }, () => {
  const p = Math.floor(rand() * 4);
  const stream = rand() < 0.5;
  const duration = 0.2 + rand() * 4;
  const outputTokens = 1 + Math.floor(rand() * 800);
  return {
    provider: `provider-${p}`,
    model: `model-${p}-${Math.floor(rand() * 6)}`,
    tenant: `tenant-${Math.floor(rand() * 3)}`,
    inputTokens: 10 + Math.floor(rand() * 2000),
    outputTokens,
    costUsd: rand() * 0.02,
    durationSeconds: duration,
    timeToFirstTokenSeconds: stream ? duration * rand() * 0.3 : undefined,
    stream,
    statusCode: 200,
  };
});

const impls = [
  {
    name: 'recordRequest',
    make: () => new MetricsCollector(),
    run: (c, n) => {
      for (let i = 0; i < n; i++) {
        const x = calls[i & (N - 1)];
        c.recordRequest({
          endpoint: '/v1/chat/completions',
          method: 'POST',
          latencySeconds: x.durationSeconds,
          statusCode: x.statusCode,
          provider: x.provider,
          model: x.model,
        });
      }
    },
  },
  {
    name: 'recordCompletion',
    make: () => new MetricsCollector(),
    run: (c, n) => {
      for (let i = 0; i < n; i++) c.recordCompletion(calls[i & (N - 1)]);
    },
  },
  {
    name: 'prom-client',
    make: () => {
      const registry = new prom.Registry();
      const l = ['provider', 'model'];
      const h = (name, buckets) =>
        new prom.Histogram({ name, help: name, labelNames: l, buckets, registers: [registry] });
      return {
        registry,
        tokens: new prom.Counter({
          name: 'model_tokens_total',
          help: 'x',
          labelNames: [...l, 'type'],
          registers: [registry],
        }),
        cost: new prom.Counter({ name: 'model_cost_usd_total', help: 'x', labelNames: l, registers: [registry] }),
        duration: h('model_request_duration_seconds', [...OPERATION_DURATION_BUCKETS]),
        ttft: h('model_time_to_first_token_seconds', [...TIME_TO_FIRST_TOKEN_BUCKETS]),
        tpot: h('model_time_per_output_token_seconds', [...TIME_PER_OUTPUT_TOKEN_BUCKETS]),
        tenantTokens: new prom.Counter({
          name: 'tenant_tokens_total',
          help: 'x',
          labelNames: ['tenant', 'type'],
          registers: [registry],
        }),
        tenantCost: new prom.Counter({
          name: 'tenant_cost_usd_total',
          help: 'x',
          labelNames: ['tenant'],
          registers: [registry],
        }),
      };
    },
    run: (o, n) => {
      for (let i = 0; i < n; i++) {
        const x = calls[i & (N - 1)];
        const pm = { provider: x.provider, model: x.model };
        o.tokens.inc({ ...pm, type: 'input' }, x.inputTokens);
        o.tokens.inc({ ...pm, type: 'output' }, x.outputTokens);
        o.cost.inc(pm, x.costUsd);
        o.duration.observe(pm, x.durationSeconds);
        if (x.timeToFirstTokenSeconds !== undefined) {
          o.ttft.observe(pm, x.timeToFirstTokenSeconds);
          if (x.outputTokens > 1)
            o.tpot.observe(pm, (x.durationSeconds - x.timeToFirstTokenSeconds) / (x.outputTokens - 1));
        }
        o.tenantTokens.inc({ tenant: x.tenant, type: 'input' }, x.inputTokens);
        o.tenantTokens.inc({ tenant: x.tenant, type: 'output' }, x.outputTokens);
        o.tenantCost.inc({ tenant: x.tenant }, x.costUsd);
      }
    },
  },
];

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...a) => console.error(...a);

const state = impls.map((impl) => ({ ...impl, obj: impl.make(), samples: [] }));
for (const s of state) {
  s.run(s.obj, 20_000);
  const t0 = process.hrtime.bigint();
  s.run(s.obj, 5_000);
  const ns = Number(process.hrtime.bigint() - t0) / 5_000;
  s.iters = Math.max(5_000, Math.min(2_000_000, Math.round(150e6 / ns)));
}
for (let r = 0; r < ROUNDS; r++) {
  for (let k = 0; k < state.length; k++) {
    const s = state[(k + r) % state.length];
    const t0 = process.hrtime.bigint();
    s.run(s.obj, s.iters);
    s.samples.push(Number(process.hrtime.bigint() - t0) / s.iters);
    await sleep(1);
  }
}
const results = Object.fromEntries(state.map((s) => [s.name, { median: median(s.samples), samples: s.samples }]));
const ratio = results.recordCompletion.median / results.recordRequest.median;
log(
  `node ${process.version}, ${cpus()[0]?.model ?? '?'} x${cpus().length}, load ${loadavg().map((x) => x.toFixed(1))}`,
);
for (const [k, v] of Object.entries(results)) log(`  ${k}: ${v.median.toFixed(0)} ns/op`);
log(`  recordCompletion / recordRequest: ${ratio.toFixed(2)}x (budget 2x)`);
log(
  `  prom-client / recordCompletion: ${(results['prom-client'].median / results.recordCompletion.median).toFixed(1)}x`,
);

// Both record the same thing: fresh instances given the same 8,192 calls hold the same token totals.
const [, oursImpl, promImpl] = impls;
const c = oursImpl.make();
oursImpl.run(c, N);
const p = promImpl.make();
promImpl.run(p, N);
const total = (xs) => xs.reduce((n, x) => n + x.value, 0);
const oursTokens = total(c.state().families.find((f) => f.name === 'model_tokens_total').series);
const promTokens = total((await p.registry.getSingleMetric('model_tokens_total').get()).values);
log(`  tokens of ${N} calls: ours ${oursTokens}, prom-client ${promTokens}`);
if (oursTokens !== promTokens) throw new Error('the implementations disagree');

if (!args.has('--no-write')) {
  mkdirSync(join(here, 'results'), { recursive: true });
  writeFileSync(
    join(here, 'results', 'completion.json'),
    `${JSON.stringify({ date: new Date().toISOString(), node: process.version, rounds: ROUNDS, loadavg: loadavg(), ratio, results }, null, 2)}\n`,
  );
}
