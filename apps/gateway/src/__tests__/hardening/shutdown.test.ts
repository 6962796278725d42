import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { MetricsCollector } from '@gatewayz/metrics-core';
import { describe, expect, it } from 'vitest';
import { FRAMEWORKS, startGateway } from '../../gateway.js';
import { spawnCli } from './helpers.js';

/**
 * Graceful shutdown of the built CLI: with `--latency-scale 100` every provider call takes the
 * provider's maximum latency (1.5 s for openai), so a chat request is reliably in flight when
 * SIGTERM arrives. The CLI must then refuse new connections at once, still answer the in-flight
 * request with a 200, and exit 0.
 */

/** A request on a fresh connection (no keep-alive pool): resolves with the status or the error code. */
function freshConnection(base: string): Promise<string> {
  return new Promise((resolve) => {
    const req = request(`${base}/api/models`, { agent: false }, (res) => {
      res.resume();
      resolve(String(res.statusCode));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    req.end();
  });
}

/** `p`, or a rejection naming `what` after `ms`. */
function within<T>(ms: number, p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

const figures: string[] = [];

describe.each(FRAMEWORKS)('graceful shutdown on %s', (framework) => {
  it('SIGTERM: refuses new connections, finishes the in-flight request with 200, exits 0', async () => {
    const cli = spawnCli(['--framework', framework, '--seed', '4', '--latency-scale', '100'], {});
    let exitedEarly = false;
    try {
      const base = await cli.ready;
      expect(await freshConnection(base)).toBe('200');

      let answered: number | undefined;
      const t0 = performance.now();
      const inFlight = fetch(`${base}/api/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ message: 'a slow one', model: 'gpt-4o' }),
      }).then(async (res) => {
        answered = performance.now() - t0;
        return { status: res.status, body: (await res.json()) as Record<string, unknown> };
      });
      await new Promise((r) => setTimeout(r, 300));
      expect(answered).toBeUndefined();

      const signalledAt = performance.now();
      cli.child.kill('SIGTERM');
      await within(
        5000,
        (async () => {
          while (!cli.stdout().includes('SIGTERM: finishing in-flight requests')) {
            await new Promise((r) => setTimeout(r, 5));
          }
        })(),
        'the stop message',
      );
      // New connections are refused while the request is still in flight.
      const refused = await freshConnection(base);
      expect(refused).toBe('ECONNREFUSED');
      expect(answered, 'the in-flight request was already answered').toBeUndefined();

      const { status, body } = await within(10_000, inFlight, 'the in-flight answer');
      expect(status).toBe(200);
      expect(body).toMatchObject({ provider: 'openai', model: 'gpt-4o' });
      // The client still holds its keep-alive socket: the server must not wait for it to hang up.
      const code = await within(5000, cli.exited, 'the exit');
      exitedEarly = true;
      expect(code).toBe(0);
      expect(cli.stderr()).toBe('');
      figures.push(
        `${framework}: in-flight answered 200 after ${answered!.toFixed(0)} ms (SIGTERM at ` +
          `${(signalledAt - t0).toFixed(0)} ms), new connection -> ${refused}, exit ${code} ` +
          `${(performance.now() - signalledAt).toFixed(0)} ms after SIGTERM`,
      );
    } finally {
      if (!exitedEarly) cli.child.kill('SIGKILL');
    }
  });
});

/** One request on `agent`: its status, or the error code when the connection failed. */
function onAgent(agent: Agent, url: string, method = 'GET', body?: string): Promise<string> {
  return new Promise((resolve) => {
    const headers =
      body === undefined
        ? {}
        : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) };
    const req = request(url, { method, agent, headers }, (res) => {
      res.on('data', () => {});
      res.on('end', () => resolve(String(res.statusCode)));
      res.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    req.end(body);
  });
}

interface Outcome {
  slow: boolean;
  sentAt: number;
  endedAt: number;
  result: string;
}

const isStatus = (r: string) => /^\d{3}$/.test(r);

/**
 * SIGTERM under keep-alive load: 16 clients loop on fast reads and 4 on slow chats (latency x10,
 * 0.3-1.5 s each), each on its own keep-alive socket, until the server refuses them. The server
 * must stop taking requests at once (a new request on an old socket gets a 503 or a closed
 * connection, never an answer), finish every request in flight without resetting it, and exit soon
 * after the slowest one: well within the 10 s grace.
 */
describe.each(FRAMEWORKS)('shutdown under keep-alive load on %s', (framework) => {
  it('SIGTERM: new requests on old sockets get 503 or a closed connection, in-flight ones finish, exit < 3 s', async () => {
    const cli = spawnCli(['--framework', framework, '--seed', '6', '--latency-scale', '10'], {});
    const agent = new Agent({ keepAlive: true, maxSockets: 20 });
    let exited = false;
    try {
      const base = await cli.ready;
      const outcomes: Outcome[] = [];
      let stopSeenAt = Number.POSITIVE_INFINITY;
      let done = false;
      const deadline = performance.now() + 20_000;
      const client = async (slow: boolean, i: number) => {
        for (let n = 0; n < 5000 && !done && performance.now() < deadline; n++) {
          const sentAt = performance.now();
          const result = slow
            ? await onAgent(
                agent,
                `${base}/api/chat`,
                'POST',
                JSON.stringify({ message: `slow ${i} ${n}`, model: 'gpt-4o' }),
              )
            : await onAgent(agent, `${base}/api/models`);
          outcomes.push({ slow, sentAt, endedAt: performance.now(), result });
          if (result === 'ECONNREFUSED') return;
        }
      };
      const clients = [
        ...Array.from({ length: 16 }, (_, i) => client(false, i)),
        ...Array.from({ length: 4 }, (_, i) => client(true, i)),
      ];
      await new Promise((r) => setTimeout(r, 1000));
      const signalledAt = performance.now();
      cli.child.kill('SIGTERM');
      const watch = (async () => {
        while (!cli.stdout().includes('SIGTERM: finishing in-flight requests') && performance.now() < deadline) {
          await new Promise((r) => setTimeout(r, 2));
        }
        stopSeenAt = performance.now();
      })();
      const code = await within(15_000, cli.exited, 'the exit');
      exited = true;
      const exitMs = performance.now() - signalledAt;
      await watch;
      done = true;
      await within(5000, Promise.all(clients), 'the clients');

      // In flight at SIGTERM: sent well before it (so the server had read it), not yet answered.
      const inFlight = outcomes.filter((o) => o.sentAt < signalledAt - 100 && o.endedAt > signalledAt);
      const after = outcomes.filter((o) => o.sentAt > stopSeenAt);
      const count = (list: Outcome[], f: (r: string) => boolean) => list.filter((o) => f(o.result)).length;
      const answeredAfter = count(after, (r) => isStatus(r) && r !== '503');
      const errors = outcomes.filter((o) => !isStatus(o.result) && o.result !== 'ECONNREFUSED');
      const resets = errors.length;
      const at = errors.map((o) => o.sentAt - signalledAt);
      const span = at.length
        ? ` (sent ${Math.min(...at).toFixed(0)} to ${Math.max(...at).toFixed(0)} ms after SIGTERM)`
        : '';
      figures.push(
        `${framework} under keep-alive load: exit ${code} ${exitMs.toFixed(0)} ms after SIGTERM; ` +
          `${inFlight.length} in flight (${count(inFlight, (r) => r === '200')} x 200, ${count(inFlight, (r) => !isStatus(r))} reset); ` +
          `after the stop message: ${after.length} requests, ${answeredAfter} answered, ${count(after, (r) => r === '503')} x 503, ` +
          `${count(after, (r) => r === 'ECONNREFUSED')} refused, ${count(after, (r) => !isStatus(r) && r !== 'ECONNREFUSED')} closed; ` +
          `${resets} connection errors in all${span}, ${outcomes.length} requests`,
      );
      expect(code).toBe(0);
      expect(exitMs, 'exit well within the 10 s grace').toBeLessThan(3000);
      expect(inFlight.filter((o) => o.slow).length, 'slow chats were in flight at SIGTERM').toBeGreaterThan(0);
      for (const o of inFlight) {
        expect(o.result, `an in-flight ${o.slow ? 'chat' : 'read'} was answered by the app`).toMatch(/^\d{3}$/);
        expect(o.result).not.toBe('503');
      }
      // Every client loops until it is refused, so each sent at least once after SIGTERM.
      expect(outcomes.filter((o) => o.sentAt > signalledAt).length).toBeGreaterThanOrEqual(20);
      expect(answeredAfter, 'requests sent after the stop began were answered').toBe(0);
      expect(cli.stderr()).toBe('');
    } finally {
      agent.destroy();
      if (!exited) cli.child.kill('SIGKILL');
    }
  });
});

/** A raw socket that writes `head`, then `drip` every 100 ms: resolves with what came back and when it closed. */
function slowClient(url: string, head: string, drip: string): Promise<{ ms: number; reply: string }> {
  const { port } = new URL(url);
  return new Promise((resolve) => {
    const t0 = performance.now();
    let reply = '';
    const s = connect(Number(port), '127.0.0.1', () => s.write(head));
    const timer = setInterval(() => s.writable && s.write(drip), 100);
    const give = setTimeout(() => s.destroy(), 10_000);
    s.on('data', (d) => {
      reply += d;
    });
    s.on('error', () => {});
    s.on('close', () => {
      clearInterval(timer);
      clearTimeout(give);
      resolve({ ms: performance.now() - t0, reply });
    });
  });
}

describe.each(FRAMEWORKS)('socket timeouts on %s', (framework) => {
  it('cuts an endless chunked body after requestTimeoutMs, slow headers after headersTimeoutMs, idle sockets after keepAliveTimeoutMs', async () => {
    const gw = await startGateway({
      framework,
      collector: new MetricsCollector(),
      adminToken: null,
      requestTimeoutMs: 1000,
      headersTimeoutMs: 500,
      keepAliveTimeoutMs: 500,
    });
    try {
      const [body, headers, idle] = await Promise.all([
        slowClient(
          gw.url,
          'POST /api/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{\r\n',
          '1\r\n \r\n',
        ),
        slowClient(gw.url, 'GET /api/models HTTP/1.1\r\nHost: x\r\n', 'X-Slow: 1\r\n'),
        slowClient(gw.url, 'GET /api/models HTTP/1.1\r\nHost: x\r\n\r\n', ''),
      ]);
      figures.push(
        `${framework} timeouts: endless chunked body cut after ${body.ms.toFixed(0)} ms (${body.reply.split('\r\n')[0] || 'no reply'}), ` +
          `slow headers after ${headers.ms.toFixed(0)} ms (${headers.reply.split('\r\n')[0] || 'no reply'}), idle keep-alive socket after ${idle.ms.toFixed(0)} ms`,
      );
      expect(body.ms, 'endless chunked body').toBeGreaterThanOrEqual(900);
      expect(body.ms, 'endless chunked body').toBeLessThan(3000);
      expect(headers.ms, 'slow headers').toBeLessThan(2500);
      expect(idle.reply).toMatch(/^HTTP\/1\.1 200/);
      expect(idle.ms, 'idle keep-alive socket').toBeGreaterThanOrEqual(400);
      expect(idle.ms, 'idle keep-alive socket').toBeLessThan(2500);
      // The server is still fine.
      expect((await fetch(`${gw.url}/api/models`)).status).toBe(200);
    } finally {
      await gw.close();
    }
  });
});

describe('shutdown figures', () => {
  it('reports', () => console.info(`graceful shutdown:\n  ${figures.join('\n  ')}`));
});
