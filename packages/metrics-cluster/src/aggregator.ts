import cluster from 'node:cluster';
import {
  type CollectorState,
  type MetricsCollector,
  MetricsError,
  mergeStates,
  reviveState,
} from '@gatewayz/metrics-core';
import { type ClusterReply, isReply, TAG } from './protocol.js';

/** A worker the aggregator can ask: a cluster `Worker` or a worker_threads `Worker` (or any port). */
export interface WorkerLike {
  on(event: 'message', listener: (m: unknown) => void): unknown;
  off(event: 'message', listener: (m: unknown) => void): unknown;
  send?: (m: unknown, callback?: (error: Error | null) => void) => unknown;
  postMessage?: (m: unknown) => void;
  isDead?: () => boolean;
  isConnected?: () => boolean;
  threadId?: number;
  id?: number;
}

export interface ClusterAggregatorOptions {
  /** This process's own collector, merged in; the primary's uptime is reported either way. @default undefined */
  local?: MetricsCollector;
  /** How long to wait for each worker, in milliseconds. A worker that does not answer in time is skipped and counted. @default 1000 */
  timeoutMs?: number;
  /** Ask every worker in `cluster.workers` (when this is the cluster primary). @default true */
  includeClusterWorkers?: boolean;
  /**
   * Keep each worker's series apart under a `worker` label (`local`, `cluster:<id>`, `thread:<id>`) instead of
   * merging them. The JSON view and health still use the merged state. @default false
   */
  perWorker?: boolean;
}

/** One worker's answer. */
export interface WorkerState {
  /** `cluster:<id>`, `thread:<threadId>`, or `local`. */
  worker: string;
  state: CollectorState;
}

export interface Collection {
  states: WorkerState[];
  /** Workers that did not answer in time (or were dead). */
  skipped: string[];
}

/**
 * Answers for a whole cluster from the primary process (or main thread): asks every worker for its
 * raw state over Node's own IPC, merges counters and sketches exactly, and reports who was skipped.
 * Use it as the `collector` of the exporter handlers or any adapter.
 */
export class ClusterAggregator {
  private readonly timeoutMs: number;
  private readonly local: MetricsCollector | undefined;
  private readonly includeCluster: boolean;
  private readonly perWorker: boolean;
  private readonly threads = new Set<WorkerLike>();
  private readonly startMs = Date.now();
  private nextId = 1;
  private skippedTotal = 0;
  readonly options: { health?: MetricsCollector['options']['health'] };

  constructor(options: ClusterAggregatorOptions = {}) {
    const t = options.timeoutMs ?? 1000;
    if (typeof t !== 'number' || !(t > 0))
      throw new MetricsError('INVALID_OPTION', 'timeoutMs must be a positive number');
    this.timeoutMs = t;
    this.local = options.local;
    this.includeCluster = options.includeClusterWorkers ?? true;
    this.perWorker = options.perWorker === true;
    this.options = this.local ? { health: this.local.options.health } : {};
  }

  /** Adds a worker_threads `Worker` (which must call `serveWorkerMetrics()`). Returns a function that removes it. */
  addWorker(worker: WorkerLike): () => void {
    this.threads.add(worker);
    return () => this.threads.delete(worker);
  }

  private workers(): { name: string; w: WorkerLike }[] {
    const out: { name: string; w: WorkerLike }[] = [];
    if (this.includeCluster && cluster.isPrimary && cluster.workers) {
      for (const w of Object.values(cluster.workers))
        if (w) out.push({ name: `cluster:${w.id}`, w: w as unknown as WorkerLike });
    }
    for (const w of this.threads) out.push({ name: `thread:${w.threadId ?? '?'}`, w });
    return out;
  }

  private ask(w: WorkerLike, kind: 'collect' | 'reset'): Promise<ClusterReply | undefined> {
    return new Promise((resolve) => {
      const id = this.nextId++;
      let timer: NodeJS.Timeout | undefined;
      const done = (r: ClusterReply | undefined) => {
        clearTimeout(timer);
        w.off('message', onMessage);
        resolve(r);
      };
      const onMessage = (m: unknown) => {
        if (isReply(m) && m.id === id) done(m);
      };
      if (w.isDead?.() || w.isConnected?.() === false) return resolve(undefined);
      w.on('message', onMessage);
      timer = setTimeout(() => done(undefined), this.timeoutMs);
      try {
        const msg = { [TAG]: kind, id };
        // With a callback, a send to a worker that just died reports EPIPE here instead of crashing the primary.
        if (typeof w.send === 'function') w.send(msg, (err) => err && done(undefined));
        else w.postMessage?.(msg);
      } catch {
        done(undefined);
      }
    });
  }

  /** Every worker's state, unmerged, plus the workers that were skipped. */
  async collect(): Promise<Collection> {
    const list = this.workers();
    const replies = await Promise.all(list.map(({ w }) => this.ask(w, 'collect')));
    const states: WorkerState[] = [];
    if (this.local) states.push({ worker: 'local', state: this.local.state() });
    const skipped: string[] = [];
    replies.forEach((r, i) => {
      const name = list[i]!.name;
      if (r && r[TAG] === 'state') {
        try {
          states.push({ worker: name, state: reviveState(JSON.parse(r.state)) });
          return;
        } catch {
          // A garbled answer counts as a skipped worker.
        }
      }
      skipped.push(name);
    });
    this.skippedTotal += skipped.length;
    return { states, skipped };
  }

  /** The merged state of the whole cluster; uptime is this process's. */
  async state(): Promise<CollectorState> {
    const { states, skipped } = await this.collect();
    const merged = states.length > 0 ? mergeStates(states.map((s) => s.state)) : emptyState(this.startMs);
    if (!this.local) merged.startMs = this.startMs;
    else merged.startMs = this.local.state().startMs;
    merged.timestampMs = Date.now();
    merged.cluster = {
      workers: states.length - (this.local ? 1 : 0) + skipped.length,
      answered: states.length - (this.local ? 1 : 0),
      skippedTotal: this.skippedTotal,
    };
    if (this.perWorker) merged.perWorker = states.map((s) => ({ worker: s.worker, state: s.state }));
    return merged;
  }

  /** Resets the local collector and asks every worker to reset. */
  async reset(): Promise<void> {
    this.local?.reset();
    await Promise.all(this.workers().map(({ w }) => this.ask(w, 'reset')));
  }
}

function emptyState(startMs: number): CollectorState {
  const w = () => ({ requests: 0, errors: 0, count: 0, sum: 0, min: Infinity, max: -Infinity, sketch: undefined });
  return {
    timestampMs: Date.now(),
    startMs,
    windowSeconds: 300,
    sketchScale: 6,
    histogramBuckets: [],
    totals: { requests: 0, errors: 0, window: w() },
    endpoints: [],
    providers: [],
    models: [],
    services: [],
    cache: { hits: 0, misses: 0, window: w() },
    db: { queries: 0, window: w() },
    dropped: {},
    overflow: {},
    cardinality: {},
  };
}
