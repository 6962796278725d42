import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ProviderClient, type StreamChunk, UpstreamError } from '../providerClient.js';

const chunk = (content: string) =>
  `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;

/** A scripted upstream on 127.0.0.1; `closed` counts requests whose connection went away before their end. */
async function upstream(handle: (req: IncomingMessage, res: ServerResponse, n: number) => void) {
  let n = 0;
  const stats = { requests: 0, closed: 0 };
  const server = createServer((req, res) => {
    stats.requests++;
    res.on('close', () => {
      if (!res.writableFinished) stats.closed++;
    });
    req.resume();
    req.on('end', () => handle(req, res, n++));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    stats,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

describe('ProviderClient.stream', () => {
  let up: Awaited<ReturnType<typeof upstream>> | undefined;
  afterEach(async () => {
    await up?.close();
    up = undefined;
  });
  const request = { model: 'm', messages: 'hi' };

  it('retries a transient failure before the first chunk, then relays every chunk to [DONE]', async () => {
    up = await upstream((_req, res, n) => {
      if (n === 0) {
        res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"busy"}');
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      // split across writes mid-event, to check the parser buffers partial lines
      const text = `${chunk('a')}${chunk('b')}${chunk('c')}data: [DONE]\n\n`;
      res.write(text.slice(0, 30));
      setTimeout(() => res.end(text.slice(30)), 20);
    });
    const s = await new ProviderClient({ timeoutMs: 1000 }).stream('p', up.url, request, new AbortController().signal);
    const got: StreamChunk[] = [s.first];
    for await (const c of s.rest) got.push(c);
    expect(got.map((c) => c.choices?.[0]?.delta?.content)).toEqual(['a', 'b', 'c']);
    expect(up.stats.requests).toBe(2);
  });

  it('an upstream silent mid-stream longer than the timeout fails the relay as a timeout and is hung up on', async () => {
    up = await upstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(chunk('a'));
      res.write(chunk('b')); // then nothing
    });
    const s = await new ProviderClient({ timeoutMs: 150 }).stream('p', up.url, request, new AbortController().signal);
    const got: StreamChunk[] = [s.first];
    const t0 = performance.now();
    const read = (async () => {
      for await (const c of s.rest) got.push(c);
    })();
    await expect(read).rejects.toBeInstanceOf(UpstreamError);
    await expect(read).rejects.toMatchObject({ timedOut: true });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
    expect(got).toHaveLength(2);
    await new Promise((r) => setTimeout(r, 50));
    expect(up.stats.closed).toBe(1);
  });

  it('no first chunk within the timeout is a timeout (retried once), not "unreachable"', async () => {
    up = await upstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.flushHeaders();
    });
    const attempt = new ProviderClient({ timeoutMs: 100 }).stream('p', up.url, request, new AbortController().signal);
    await expect(attempt).rejects.toMatchObject({ name: 'UpstreamError', timedOut: true, message: 'p timed out' });
    expect(up.stats.requests).toBe(2);
  });

  it("the caller's signal aborts the upstream request while it waits for the first chunk, without a retry", async () => {
    up = await upstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.flushHeaders(); // and never a chunk
    });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    await expect(
      new ProviderClient({ timeoutMs: 5000 }).stream('p', up.url, request, ac.signal),
    ).rejects.toBeInstanceOf(UpstreamError);
    await new Promise((r) => setTimeout(r, 50));
    expect(up.stats).toEqual({ requests: 1, closed: 1 });
  });
});
