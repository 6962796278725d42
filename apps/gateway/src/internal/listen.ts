import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A started HTTP server and a close that waits for in-flight requests, then drops idle keep-alive sockets. */
export interface Listening {
  server: Server;
  url: string;
  close(): Promise<void>;
}

/**
 * Starts a Node HTTP server for `listener` on host:port (port 0 picks a free one). `exclusive`: in a
 * cluster worker, listen on a port of its own instead of sharing the primary's socket with the other workers.
 */
export function listenNode(
  listener: RequestListener,
  port: number,
  host: string,
  exclusive = false,
): Promise<Listening> {
  const server = createServer(listener);
  return listenServer(server, port, host, exclusive);
}

export function listenServer(server: Server, port: number, host: string, exclusive = false): Promise<Listening> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, exclusive }, () => {
      server.off('error', reject);
      resolve({ server, url: urlOf(server), close: () => closeServer(server) });
    });
  });
}

export function urlOf(server: Server): string {
  const a = server.address() as AddressInfo;
  const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return `http://${host}:${a.port}`;
}

/**
 * Stops accepting, lets in-flight requests finish (up to `graceMs`, then cuts them), and resolves once
 * the server is closed.
 */
export function closeServer(server: Server, graceMs = 10_000): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    // Keep-alive sockets that finish their last response after close() must be dropped too.
    const sweep = setInterval(() => server.closeIdleConnections(), 50);
    server.close(() => {
      clearTimeout(timer);
      clearInterval(sweep);
      resolve();
    });
    server.closeIdleConnections();
  });
}
