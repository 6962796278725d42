import { createServer, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A started HTTP server and a close that drains it (see {@link drainOnClose}). */
export interface Listening {
  server: Server;
  url: string;
  close(): Promise<void>;
}

/** The socket timeouts of a gateway server, in milliseconds. */
export interface ServerTimeouts {
  /** Longest a whole request (headers and body) may take to arrive; then 408 and the socket is closed. */
  requestMs: number;
  /** Longest the request headers may take to arrive. */
  headersMs: number;
  /** How long an idle keep-alive socket stays open. */
  keepAliveMs: number;
}

export const DEFAULT_TIMEOUTS: ServerTimeouts = { requestMs: 30_000, headersMs: 10_000, keepAliveMs: 5_000 };

/** `partial` over the defaults, checked: positive integers, and headers within the request timeout. */
export function resolveTimeouts(partial: Partial<ServerTimeouts> = {}): ServerTimeouts {
  const t = { ...DEFAULT_TIMEOUTS };
  for (const k of Object.keys(t) as (keyof ServerTimeouts)[]) {
    const v = partial[k];
    if (v === undefined) continue;
    if (!Number.isInteger(v) || v <= 0) {
      throw new TypeError(`@gatewayz/gateway: ${k.replace('Ms', 'TimeoutMs')} must be a positive integer, got ${v}`);
    }
    t[k] = v;
  }
  if (t.headersMs > t.requestMs) t.headersMs = t.requestMs;
  return t;
}

/**
 * Options for `http.createServer` that apply `t`. Node checks the request and header deadlines on a
 * timer (30 s by default, far too coarse for a 1 s deadline): it runs here at a tenth of the shortest.
 */
export function nodeServerOptions(t: ServerTimeouts) {
  return {
    requestTimeout: t.requestMs,
    headersTimeout: t.headersMs,
    keepAliveTimeout: t.keepAliveMs,
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(t.headersMs / 10))),
  };
}

export interface ListenOptions {
  /** In a cluster worker, listen on a port of its own instead of sharing the primary's socket. @default false */
  exclusive?: boolean;
  /** Socket timeouts. @default DEFAULT_TIMEOUTS */
  timeouts?: ServerTimeouts;
  /** How long close() lets in-flight requests run before it cuts them, in milliseconds. @default 10000 */
  graceMs?: number;
}

/** Starts a Node HTTP server for `listener` on host:port (port 0 picks a free one), drained on close. */
export function listenNode(
  listener: RequestListener,
  port: number,
  host: string,
  options: ListenOptions = {},
): Promise<Listening> {
  const t = options.timeouts ?? DEFAULT_TIMEOUTS;
  const drain = drainOnClose(listener, options.graceMs);
  const server = createServer(nodeServerOptions(t), drain.listener);
  server.keepAliveTimeout = t.keepAliveMs;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, exclusive: options.exclusive ?? false }, () => {
      server.off('error', reject);
      resolve({ server, url: urlOf(server), close: () => drain.close(server) });
    });
  });
}

export function urlOf(server: Server): string {
  const a = server.address() as AddressInfo;
  const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return `http://${host}:${a.port}`;
}

const SHUTTING_DOWN = JSON.stringify({ error: { code: 'shutting_down', message: 'the server is shutting down' } });

/**
 * Wraps `listener` so the server stops taking requests the moment close() starts, as Fastify does:
 * it stops listening, closes idle keep-alive sockets, answers each request that still arrives on an
 * old socket with 503 and `Connection: close` (without running the app), sends `Connection: close`
 * on the in-flight responses so their sockets close once answered, and resolves when the last one
 * is done. Requests still running after `graceMs` are cut. Shared by the Express and Koa servers.
 */
export function drainOnClose(
  listener: RequestListener,
  graceMs = 10_000,
): { listener: RequestListener; close(server: Server): Promise<void> } {
  const inFlight = new Set<ServerResponse>();
  let closing: Promise<void> | undefined;
  const wrapped: RequestListener = (req, res) => {
    if (closing) {
      res.writeHead(503, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': String(Buffer.byteLength(SHUTTING_DOWN)),
        connection: 'close',
      });
      res.end(SHUTTING_DOWN);
      return;
    }
    inFlight.add(res);
    res.once('close', () => inFlight.delete(res));
    listener(req, res);
  };
  const close = (server: Server) => {
    closing ??= new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      for (const res of inFlight) if (!res.headersSent) res.setHeader('connection', 'close');
      const timer = setTimeout(() => server.closeAllConnections(), graceMs);
      // A response whose headers had already gone out keeps its socket alive: drop it once idle.
      const sweep = setInterval(() => server.closeIdleConnections(), 50);
      server.close(() => {
        clearTimeout(timer);
        clearInterval(sweep);
        resolve();
      });
      server.closeIdleConnections();
    });
    return closing;
  };
  return { listener: wrapped, close };
}
