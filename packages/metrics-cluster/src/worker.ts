import cluster from 'node:cluster';
import { parentPort } from 'node:worker_threads';
import { describeValue, getMetricsCollector, type MetricsCollector, validateOptions } from '@gatewayz/metrics-core';
import { CLUSTER_PACKAGE, invalidOption, WORKER_OPTIONS } from './internal/options.js';
import { type ClusterReply, isRequest, REPLY_TO, TAG } from './protocol.js';

/** Anything a worker can answer on: `process` in a cluster worker, `parentPort` in a worker thread, or a MessagePort. */
export interface MessageEndpoint {
  on(event: 'message', listener: (m: unknown) => void): unknown;
  off(event: 'message', listener: (m: unknown) => void): unknown;
}

export interface ServeWorkerMetricsOptions {
  /** The worker's collector. @default getMetricsCollector() */
  collector?: MetricsCollector;
  /**
   * Where requests arrive. @default `process` in a cluster worker, else `parentPort` in a worker thread.
   */
  port?: MessageEndpoint & { postMessage?: (m: unknown) => void };
}

/**
 * Makes this worker answer the primary's (or main thread's) metrics requests. Returns a function
 * that stops answering. A worker-thread port is `unref`ed so it never keeps the thread alive.
 */
export function serveWorkerMetrics(options: ServeWorkerMetricsOptions = {}): () => void {
  validateOptions(options, WORKER_OPTIONS, CLUSTER_PACKAGE);
  const collector = options.collector ?? getMetricsCollector();
  if (typeof collector?.state !== 'function') {
    throw invalidOption(
      `option "collector" must be a MetricsCollector, got ${describeValue(collector)} without state()`,
    );
  }
  let port = options.port;
  if (port !== undefined && (typeof port.on !== 'function' || typeof port.off !== 'function'))
    throw invalidOption(
      `option "port" must have on() and off() (a MessagePort, parentPort or process), got ${describeValue(port)} without ${typeof port.on !== 'function' ? 'on()' : 'off()'}`,
    );
  let send: (m: ClusterReply) => void;
  if (port) {
    const p = port;
    send = (m) => (p.postMessage ? p.postMessage(m) : (process.send as (m: unknown) => void)(m));
  } else if (cluster.isWorker && typeof process.send === 'function') {
    port = process as unknown as MessageEndpoint;
    send = (m) => {
      if (process.connected) process.send?.(m);
    };
  } else if (parentPort) {
    const pp = parentPort;
    port = pp as unknown as MessageEndpoint;
    send = (m) => pp.postMessage(m);
  } else {
    throw invalidOption(
      'serveWorkerMetrics must run in a cluster worker or worker thread, or be given a port; got no port, in the primary or main thread',
    );
  }
  const onMessage = (m: unknown) => {
    if (!isRequest(m)) return;
    if (m[TAG] === 'reset') {
      collector.reset();
      send({ [TAG]: REPLY_TO.reset, id: m.id });
      return;
    }
    send({ [TAG]: REPLY_TO.collect, id: m.id, state: JSON.stringify(collector.state()) });
  };
  port.on('message', onMessage);
  const unref = (port as { unref?: () => void }).unref;
  if ((port as unknown) !== process && typeof unref === 'function') unref.call(port);
  return () => {
    port?.off('message', onMessage);
  };
}
