import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { FRAMEWORKS } from '../../gateway.js';
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

describe('shutdown figures', () => {
  it('reports', () => console.info(`graceful shutdown:\n  ${figures.join('\n  ')}`));
});
