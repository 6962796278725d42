import cluster, { type Worker } from 'node:cluster';
import { ClusterAggregator, serveWorkerMetrics } from '@gatewayz/metrics-cluster';
import { createMetricsHandlers } from '@gatewayz/metrics-exporter';
import { writeNodeResponse } from '@gatewayz/metrics-exporter/node';
import type { Gateway } from './gateway.js';
import { type Listening, listenNode } from './internal/listen.js';

const LISTENING = 'gatewayz-demo:listening';

export interface ClusterPrimaryOptions {
  /** Cluster workers to fork; each runs the whole gateway on the shared port. */
  workers: number;
  /** Port of the primary's metrics server (`/metrics` for all workers); 0 picks a free one. */
  metricsPort: number;
  /** Address of the metrics server. */
  host: string;
  /** Token for `POST /metrics/reset` (resets every worker); `null` disables reset. @default process.env.METRICS_ADMIN_TOKEN */
  adminToken?: string | null;
  /** How long the primary waits for each worker's state on a scrape, in milliseconds. @default 1000 */
  timeoutMs?: number;
}

/** The cluster primary: its workers serve the gateway, and it serves `/metrics` for all of them. */
export interface ClusterPrimary {
  /** The gateway's URL, shared by every worker (cluster hands the listening socket around). */
  url: string;
  /** The primary's metrics server: `/metrics`, `/metrics/json`, `/metrics/health`, `POST /metrics/reset`. */
  metricsUrl: string;
  workers: Worker[];
  /** Stops the workers (each finishes its in-flight requests), then the metrics server. */
  close(): Promise<void>;
}

/**
 * Forks `workers` copies of the current script (which must call {@link serveClusterWorker} when
 * `cluster.isWorker`), waits until each listens, and serves the merged metrics on `metricsPort`.
 * Cluster shares the gateway's listening socket among the workers, so the primary cannot also listen
 * there: the aggregated metrics get a port of their own.
 */
export async function startClusterPrimary(o: ClusterPrimaryOptions): Promise<ClusterPrimary> {
  const workers = Array.from({ length: o.workers }, () => cluster.fork());
  let metrics: Listening | undefined;
  try {
    const urls = await Promise.all(
      workers.map(
        (w) =>
          new Promise<string>((resolve, reject) => {
            const onExit = (code: number | null) =>
              reject(new Error(`worker ${w.id} exited with ${code} before listening`));
            w.once('exit', onExit);
            w.on('message', function onMessage(m: { type?: string; url?: string }) {
              if (m?.type !== LISTENING || typeof m.url !== 'string') return;
              w.off('message', onMessage);
              w.off('exit', onExit);
              resolve(m.url);
            });
          }),
      ),
    );
    const handlers = createMetricsHandlers({
      collector: new ClusterAggregator({ timeoutMs: o.timeoutMs ?? 1000 }),
      adminToken: o.adminToken === undefined ? process.env.METRICS_ADMIN_TOKEN : o.adminToken,
    });
    metrics = await listenNode(
      (req, res) => {
        handlers.handle({ method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers }).then(
          (r) => (r ? writeNodeResponse(res, r) : res.writeHead(404).end('not found: try /metrics\n')),
          () => res.writeHead(500).end(),
        );
      },
      o.metricsPort,
      o.host,
    );
    const server = metrics;
    let closing: Promise<void> | undefined;
    return {
      url: urls[0]!,
      metricsUrl: server.url,
      workers,
      close() {
        closing ??= (async () => {
          await Promise.all(workers.map((w) => stopWorker(w)));
          await server.close();
        })();
        return closing;
      },
    };
  } catch (err) {
    await Promise.all(workers.map((w) => stopWorker(w)));
    await metrics?.close();
    throw err;
  }
}

function stopWorker(w: Worker): Promise<void> {
  if (w.isDead()) return Promise.resolve();
  return new Promise((resolve) => {
    w.once('exit', () => resolve());
    w.process.kill('SIGTERM');
  });
}

/** In a cluster worker: answers the primary's scrapes with this worker's collector and reports the gateway's URL. */
export function serveClusterWorker(gateway: Gateway): void {
  serveWorkerMetrics({ collector: gateway.collector });
  process.send?.({ type: LISTENING, url: gateway.url });
}
