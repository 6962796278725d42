import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ConformanceApp } from './conformance.js';

/** Listens on 127.0.0.1, port 0, and returns the base URL and a close that also drops keep-alive sockets. */
export async function listenNode(server: Server): Promise<ConformanceApp> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
