import { createServer, type Server } from 'node:net';
import { MetricsCollector } from '@gatewayz/metrics-core';
import { afterEach, describe, expect, it } from 'vitest';
import { type Gateway, startGateway, UPSTREAMS } from '../gateway.js';
import { spawnCli } from './cli.js';

const N = UPSTREAMS.length;

const listen = (port: number) =>
  new Promise<Server>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen({ port, host: '127.0.0.1', exclusive: true }, () => resolve(s));
  });
const close = (s: Server) => new Promise<void>((resolve) => s.close(() => resolve()));

/** Whether every port in [base, base + n) can be bound on 127.0.0.1 right now. */
async function free(base: number, n = N): Promise<boolean> {
  const held: Server[] = [];
  try {
    for (let p = base; p < base + n; p++) held.push(await listen(p));
    return true;
  } catch {
    return false;
  } finally {
    await Promise.all(held.map(close));
  }
}

/** A base port with `n` consecutive free ports, away from the ephemeral range (so port-0 servers rarely land in it). */
async function freeRange(n = N): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 12_000);
    if (await free(base, n)) return base;
  }
  throw new Error('no free port range found');
}

const portOf = (url: string) => Number(new URL(url).port);
const chat = (url: string) =>
  fetch(`${url}/api/chat`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ message: 'hello upstream ports', model: 'mistral-small' }),
  });

describe('upstreamBasePort', () => {
  let gw: Gateway | undefined;
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
  });

  it('puts the upstreams on base+i in the documented order, and the gateway still answers', async () => {
    expect(UPSTREAMS).toEqual(['openai', 'anthropic', 'google', 'mistral', 'billing']);
    const base = await freeRange();
    gw = await startGateway({
      collector: new MetricsCollector(),
      adminToken: null,
      errorRateScale: 0,
      upstreamBasePort: base,
    });
    expect(gw.providers.map((p) => [p.name, p.url])).toEqual(
      UPSTREAMS.slice(0, -1).map((name, i) => [name, `http://127.0.0.1:${base + i}`]),
    );
    expect(gw.billingUrl).toBe(`http://127.0.0.1:${base + N - 1}`);
    const res = await chat(gw.url);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ provider: 'mistral', model: 'mistral-small' });
    // The upstreams answer on those ports directly, as a user (or a firewall rule) would reach them.
    const provider = await fetch(`http://127.0.0.1:${base + UPSTREAMS.indexOf('mistral')}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'mistral-small', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect([200, 429, 500, 503]).toContain(provider.status);
    expect(await provider.json()).toBeTypeOf('object');
    const billing = await fetch(`http://127.0.0.1:${base + N - 1}/v1/usage`, { method: 'POST', body: '{}' });
    expect([202, 503]).toContain(billing.status);
    await billing.arrayBuffer();
    // And close() frees the whole range.
    await gw.close();
    gw = undefined;
    expect(await free(base)).toBe(true);
  });

  it('keeps random ports when absent or 0', async () => {
    for (const upstreamBasePort of [undefined, 0]) {
      const g = await startGateway({
        collector: new MetricsCollector(),
        adminToken: null,
        errorRateScale: 0,
        ...(upstreamBasePort !== undefined && { upstreamBasePort }),
      });
      try {
        const ports = [...g.providers.map((p) => portOf(p.url)), portOf(g.billingUrl)];
        expect(new Set(ports).size).toBe(N);
        for (const p of ports) expect(p).toBeGreaterThan(0);
        expect((await chat(g.url)).status).toBe(200);
      } finally {
        await g.close();
      }
    }
  });

  it('fails with an error naming the upstream and the port when one is taken, and frees the others', async () => {
    const base = await freeRange();
    const google = base + UPSTREAMS.indexOf('google');
    const squatter = await listen(google);
    try {
      const error = await startGateway({
        collector: new MetricsCollector(),
        adminToken: null,
        upstreamBasePort: base,
      }).then(
        () => undefined,
        (e: unknown) => e as Error & { code?: string },
      );
      expect(error?.message).toBe(
        `@gatewayz/gateway: the simulated google upstream cannot listen on 127.0.0.1:${google}: the port is in use. ` +
          `upstreamBasePort ${base} uses ports ${base}-${base + N - 1} (${UPSTREAMS.join(', ')}): ` +
          'choose a free range, or 0 for random ports',
      );
      expect(error?.code).toBe('EADDRINUSE');
      // openai and anthropic had started: they are closed again.
      expect(await free(base, UPSTREAMS.indexOf('google'))).toBe(true);
    } finally {
      await close(squatter);
    }
  });

  it.each([
    [-1, /upstreamBasePort must be 0 \(random ports\) or an integer from 1 to 65531 \(5 consecutive ports\), got -1/],
    [1.5, /got 1\.5/],
    [65532, /got 65532/],
    [Number.NaN, /got NaN/],
  ])('rejects upstreamBasePort %s with a TypeError', async (upstreamBasePort, message) => {
    await expect(startGateway({ collector: new MetricsCollector(), upstreamBasePort })).rejects.toThrow(TypeError);
    await expect(startGateway({ collector: new MetricsCollector(), upstreamBasePort })).rejects.toThrow(message);
  });

  it('rejects a gateway port inside the upstream range', async () => {
    await expect(
      startGateway({ collector: new MetricsCollector(), port: 30_002, upstreamBasePort: 30_000 }),
    ).rejects.toThrow(
      '@gatewayz/gateway: port 30002 is one of the upstream ports 30000-30004 (upstreamBasePort 30000)',
    );
  });
});

describe('the built CLI', () => {
  const upstreamsLine = (out: string) => /upstreams\s+(.*)/.exec(out)?.[1];

  it.each([
    ['--upstream-base-port', (base: number) => ({ args: ['--upstream-base-port', String(base)], env: {} })],
    ['UPSTREAM_BASE_PORT', (base: number) => ({ args: [], env: { UPSTREAM_BASE_PORT: String(base) } })],
  ])('takes the base port from %s and prints the upstream addresses', async (_how, how) => {
    const base = await freeRange();
    const { args, env } = how(base);
    const cli = spawnCli(args, env);
    try {
      const url = await cli.ready;
      const expected = UPSTREAMS.slice(0, -1)
        .map((name, i) => `${name} http://127.0.0.1:${base + i}`)
        .join(', ');
      expect(upstreamsLine(cli.stdout())).toBe(`${expected}; billing http://127.0.0.1:${base + N - 1}`);
      expect((await chat(url)).status).toBe(200);
    } finally {
      cli.child.kill('SIGTERM');
      expect(await cli.exited).toBe(0);
    }
  });

  it.each([['abc'], ['-5'], ['65532'], ['1e3']])('refuses --upstream-base-port %s (exit 2)', async (value) => {
    const cli = spawnCli([`--upstream-base-port=${value}`], {});
    expect(await cli.exited).toBe(2);
    expect(cli.stderr()).toContain(`invalid --upstream-base-port (or UPSTREAM_BASE_PORT) "${value}": 0, or 1 to 65531`);
  });

  it('with --workers 2, gives each worker its own block of ports: worker k from base+(k-1)*5', async () => {
    const base = await freeRange(2 * N + 1);
    const cli = spawnCli(['--workers', '2', '--upstream-base-port', String(base)], {});
    try {
      await cli.waitFor(/2 cluster workers listening on/);
      // Any HTTP answer (the upstreams send 404 or 503 for GET /) means something listens there.
      const answers = async (port: number) => {
        try {
          const res = await fetch(`http://127.0.0.1:${port}/`, { headers: { connection: 'close' } });
          await res.arrayBuffer();
          return true;
        } catch {
          return false;
        }
      };
      const ports = Array.from({ length: 2 * N }, (_, i) => base + i);
      const deadline = Date.now() + 15_000;
      let up: boolean[] = [];
      while (Date.now() < deadline) {
        up = await Promise.all(ports.map(answers));
        if (up.every(Boolean)) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(up).toEqual(ports.map(() => true));
      expect(await answers(base + 2 * N)).toBe(false);
    } finally {
      cli.child.kill('SIGTERM');
      expect(await cli.exited).toBe(0);
    }
  });

  it('exits 1 with the port-in-use message when a port of the range is taken', async () => {
    const base = await freeRange();
    const squatter = await listen(base);
    try {
      const cli = spawnCli([], { UPSTREAM_BASE_PORT: String(base) });
      expect(await cli.exited).toBe(1);
      expect(cli.stderr()).toContain(
        `the simulated openai upstream cannot listen on 127.0.0.1:${base}: the port is in use`,
      );
    } finally {
      await close(squatter);
    }
  });
});
