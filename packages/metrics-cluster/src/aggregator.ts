import cluster from 'node:cluster';
import {
  type CollectorState,
  emptyState,
  type FamilyState,
  labelPerInstance,
  type MetricsCollector,
  mergeStates,
  retiredState,
  reviveState,
  sideBySide,
  validateOptions,
} from '@gatewayz/metrics-core';
import { AGGREGATOR_OPTIONS, CLUSTER_PACKAGE, invalidOption } from './internal/options.js';
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
  /** Counters carried forward so totals never go down: skipped workers' last answers and gone workers' final counts. */
  carried: WorkerState[];
}

/**
 * Answers for a whole cluster from the primary process (or main thread): asks every worker for its
 * raw state over Node's own IPC, merges counters and sketches exactly, and reports who was skipped.
 * Use it as the `collector` of `createMetricsHandlers` (the adapters need a recording collector).
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
  private readonly last = new Map<string, CollectorState>();
  private retired: CollectorState | undefined;
  /** Bumped by every reset: a collect that started before one must not feed the carry-over state. */
  private epoch = 0;
  readonly options: { health?: MetricsCollector['options']['health'] };

  constructor(options: ClusterAggregatorOptions = {}) {
    validateOptions(options, AGGREGATOR_OPTIONS, CLUSTER_PACKAGE);
    const t = options.timeoutMs ?? 1000;
    if (!(t > 0)) throw invalidOption(`timeoutMs must be a positive number, got ${t}`);
    if (options.local !== undefined && typeof options.local.state !== 'function')
      throw invalidOption('option "local" must be a MetricsCollector');
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

  /**
   * Every worker's state, unmerged, plus the workers that were skipped. `carried` holds what keeps
   * counters monotonic: the last answer of a worker that is alive but missed this scrape, and the
   * final counts of workers that have gone (folded into one `retired` state), with their windows emptied.
   */
  async collect(): Promise<Collection> {
    const list = this.workers();
    const epoch = this.epoch;
    const replies = await Promise.all(list.map(({ w }) => this.ask(w, 'collect')));
    // A reset happened meanwhile: these answers may predate it, so they must not be carried forward.
    const current = epoch === this.epoch;
    const states: WorkerState[] = [];
    if (this.local) states.push({ worker: 'local', state: this.local.state() });
    const skipped: string[] = [];
    const carried: WorkerState[] = [];
    replies.forEach((r, i) => {
      const name = list[i]!.name;
      if (r && r[TAG] === 'state') {
        try {
          const state = reviveState(JSON.parse(r.state));
          if (current) this.last.set(name, state);
          states.push({ worker: name, state });
          return;
        } catch {
          // A garbled answer counts as a skipped worker.
        }
      }
      skipped.push(name);
      const last = this.last.get(name);
      if (last) carried.push({ worker: name, state: retiredState(last) });
    });
    const alive = new Set(list.map((w) => w.name));
    for (const [name, last] of this.last) {
      if (alive.has(name) || !current) continue;
      const gone = retiredState(last);
      this.retired = this.retired ? mergeStates([this.retired, gone]) : gone;
      this.last.delete(name);
    }
    if (this.retired) carried.push({ worker: 'retired', state: this.retired });
    if (current) this.skippedTotal += skipped.length;
    return { states, skipped, carried };
  }

  /** The merged state of the whole cluster; uptime is this process's. */
  async state(): Promise<CollectorState> {
    const { states, skipped, carried } = await this.collect();
    const all = [...states, ...carried];
    // Per-instance families (RSS, CPU: summing them across workers is a lie) keep each worker's series under `worker`.
    const labelled = all.map(({ worker, state }) => ({
      ...state,
      families: labelPerInstance(state.families, 'worker', worker),
    }));
    let merged = all.length > 0 ? mergeStates(labelled) : emptyState(this.startMs);
    merged.startMs = this.local ? this.local.state().startMs : this.startMs;
    merged.timestampMs = Date.now();
    if (this.perWorker)
      merged = sideBySide(
        merged,
        all.map((s) => ({ value: s.worker, state: s.state })),
        'worker',
      );
    const answered = states.length - (this.local ? 1 : 0);
    merged.families = [...merged.families, ...censusFamilies(answered + skipped.length, answered, this.skippedTotal)];
    return merged;
  }

  /**
   * Resets the local collector and every worker, and forgets what it carried forward (last answers,
   * retired workers, the skipped count), so totals start again from 0. Resolves with how many
   * workers were asked and how many confirmed in time; one that did not keeps its counts.
   * `createMetricsHandlers` adds this to its reset answer.
   */
  async reset(): Promise<{ workers: { asked: number; answered: number } }> {
    this.epoch++;
    this.local?.reset();
    this.last.clear();
    this.retired = undefined;
    this.skippedTotal = 0;
    const list = this.workers();
    const replies = await Promise.all(list.map(({ w }) => this.ask(w, 'reset')));
    const answered = replies.filter((r) => r?.[TAG] === 'reset-done').length;
    return { workers: { asked: list.length, answered } };
  }
}

/**
 * The aggregator's own families: workers that answered at this scrape and those skipped, and answers missed since
 * it started. Declared here, where they are made; the exporter renders them as it renders any family.
 */
function censusFamilies(workers: number, answered: number, skippedTotal: number): FamilyState[] {
  return [
    {
      name: 'gatewayz_cluster_workers',
      type: 'gauge',
      help: 'Cluster workers at the last scrape: answered in time, or skipped.',
      labelNames: ['state'],
      merge: 'sum',
      series: [
        { labels: ['answered'], value: answered },
        { labels: ['skipped'], value: workers - answered },
      ],
    },
    {
      name: 'gatewayz_cluster_workers_skipped_total',
      type: 'counter',
      help: 'Worker answers missed (timeout or dead worker) since the aggregator started.',
      labelNames: [],
      series: [{ labels: [], value: skippedTotal }],
    },
  ];
}
