import {
  describeValue,
  getMetricsCollector,
  type MetricsCollector,
  MetricsError,
  type OptionSchema,
  validateOptions,
} from '@gatewayz/metrics-core';
import { type MetricsSource, PrometheusExporter } from '@gatewayz/metrics-exporter';
import { CircuitBreaker } from './internal/breaker.js';
import { decodeExposition } from './internal/exposition.js';
import { snappyCompress } from './internal/snappy.js';
import { encodeWriteRequest, sampleCount, toTimeSeries } from './internal/writeRequest.js';
import { REMOTE_WRITE_PACKAGE, RemoteWriteError } from './remoteWriteError.js';

export interface RemoteWriterOptions {
  /** The receiver's remote-write URL, e.g. `http://prometheus:9090/api/v1/write` or VictoriaMetrics' `/api/v1/write`. */
  url: string;
  /** What to send. @default the process-wide collector (`getMetricsCollector()`) */
  collector?: MetricsSource;
  /** Seconds between snapshots once {@link RemoteWriter.start} is called. @default 15 */
  intervalSeconds?: number;
  /** Sent as `Authorization: Bearer <token>`. Not with `basicAuth`. @default undefined */
  bearerToken?: string;
  /** Sent as `Authorization: Basic …`. Not with `bearerToken`. @default undefined */
  basicAuth?: { username: string; password: string };
  /** Extra request headers (e.g. `X-Scope-OrgID` for Mimir/Cortex tenants). @default {} */
  headers?: Record<string, string>;
  /** Labels added to every series that does not already have them, e.g. `{ instance: 'gw-1' }`. @default {} */
  externalLabels?: Record<string, string>;
  /** Time limit of one HTTP attempt (connect, send, read the answer), in seconds. @default 10 */
  timeoutSeconds?: number;
  /**
   * Snapshots (WriteRequests) kept while the receiver is slow or down; when full, the oldest is dropped
   * and its samples counted in `samplesDropped`. @default 10
   */
  maxQueue?: number;
  /** Retries of one WriteRequest after a 5xx, 429 or network error (other 4xx are never retried). @default 3 */
  maxRetries?: number;
  /** First backoff, in seconds; each retry waits a random time up to `min * 2^attempt` (full jitter). @default 0.5 */
  minBackoffSeconds?: number;
  /** Longest backoff between two retries, in seconds (a `Retry-After` from the receiver is honoured as sent). @default 30 */
  maxBackoffSeconds?: number;
  /** Consecutive failed attempts that open the circuit breaker (no calls until it half-opens). @default 5 */
  breakerThreshold?: number;
  /** Seconds the breaker stays open before one probe request is let through (half-open). @default 30 */
  breakerResetSeconds?: number;
  /**
   * Also send `http_request_duration_seconds` as a remote-write native histogram (Prometheus 2.40+ with
   * `--enable-feature=native-histograms`, Mimir). VictoriaMetrics 1.79 rejects them, so it is off. The classic
   * `_bucket`/`_sum`/`_count` series are always sent. @default false
   */
  nativeHistograms?: boolean;
  /**
   * Declare the self-metrics ({@link SELF_METRICS}) in the collector when it is a `MetricsCollector`, so they
   * appear in its `/metrics` (and are pushed with everything else). Another source (a `ClusterAggregator`) gets
   * them through {@link RemoteWriter.metricsText} and `append`. @default true
   */
  registerMetrics?: boolean;
  /** Called with every error of a timer-driven send (and of flush/stop, which also reject). @default a console.warn */
  onError?: (error: RemoteWriteError) => void;
  /** Milliseconds since the epoch, the samples' timestamp. For tests. @default Date.now */
  now?: () => number;
  /** A number in [0, 1) for the backoff jitter. For tests. @default Math.random */
  random?: () => number;
}

/** What one {@link RemoteWriter.flush} did: every queued WriteRequest up to and including its own snapshot. */
export interface FlushResult {
  /** WriteRequests accepted by the receiver. */
  requests: number;
  /** Samples (float samples plus native histograms) accepted by the receiver. */
  samplesSent: number;
  /** Samples of WriteRequests dropped from a full queue meanwhile. */
  samplesDropped: number;
}

/** The writer's own counters; {@link RemoteWriter.metricsText} renders them as an exposition. */
export interface RemoteWriteStats {
  samplesSent: number;
  /** Samples of WriteRequests that were rejected (4xx) or failed after every retry. */
  samplesFailed: number;
  /** Samples of WriteRequests dropped from a full queue (the oldest snapshots go first). */
  samplesDropped: number;
  requestsSent: number;
  requestsFailed: number;
  requestsDropped: number;
  retries: number;
  /** WriteRequests waiting (not counting the one being sent). */
  queueLength: number;
  /** Unix time in milliseconds of the last accepted WriteRequest, or null. */
  lastSuccessMs: number | null;
  /** The last error's message, or null. */
  lastError: string | null;
  breaker: 'closed' | 'open' | 'half-open';
}

interface Pending {
  body: Uint8Array;
  samples: number;
  settle: (outcome: Outcome) => void;
  done: Promise<Outcome>;
}

type Outcome =
  | { kind: 'sent'; samples: number }
  | { kind: 'dropped'; samples: number }
  | { kind: 'failed'; error: RemoteWriteError };

const OPTIONS: OptionSchema<RemoteWriterOptions> = {
  url: 'string',
  collector: 'object',
  intervalSeconds: 'number',
  bearerToken: 'string',
  basicAuth: { username: 'string', password: 'string' },
  headers: 'object',
  externalLabels: 'object',
  timeoutSeconds: 'number',
  maxQueue: 'number',
  maxRetries: 'number',
  minBackoffSeconds: 'number',
  maxBackoffSeconds: 'number',
  breakerThreshold: 'number',
  breakerResetSeconds: 'number',
  nativeHistograms: 'boolean',
  registerMetrics: 'boolean',
  onError: 'function',
  now: 'function',
  random: 'function',
};

const USER_AGENT = 'gatewayz-metrics-remote-write/0.1';
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const BODY_SHOWN = 300;

function invalid(message: string): MetricsError {
  return new MetricsError('INVALID_OPTION', message, REMOTE_WRITE_PACKAGE);
}

/** The option's value or its default; `min` undefined means "> 0". */
function positive(
  options: RemoteWriterOptions,
  key: keyof RemoteWriterOptions,
  fallback: number,
  min?: number,
): number {
  const v = (options[key] as number | undefined) ?? fallback;
  if (!Number.isFinite(v) || (min === undefined ? v <= 0 : v < min)) {
    throw invalid(`option "${key}" must be a finite number ${min === undefined ? '> 0' : `>= ${min}`}, got ${v}`);
  }
  return v;
}

/** Seconds to wait from a `Retry-After` header (delta-seconds or an HTTP date), or undefined. */
export function parseRetryAfter(header: string | null, nowMs: number): number | undefined {
  if (header === null) return undefined;
  const t = header.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t);
  const date = Date.parse(t);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, (date - nowMs) / 1000);
}

/**
 * The writer's self-metrics: declared in the collector (so they are in `/metrics` and pushed too) or rendered by
 * {@link RemoteWriter.metricsText}. Names without the reserved `gatewayz_` prefix, which the core keeps for its own.
 */
export const SELF_METRICS: readonly {
  name: string;
  type: 'counter' | 'gauge';
  help: string;
  read: (s: RemoteWriteStats) => number;
}[] = [
  {
    name: 'remote_write_samples_sent_total',
    type: 'counter',
    help: 'Samples accepted by the remote-write receiver.',
    read: (s) => s.samplesSent,
  },
  {
    name: 'remote_write_samples_failed_total',
    type: 'counter',
    help: 'Samples of WriteRequests rejected (4xx) or failed after every retry.',
    read: (s) => s.samplesFailed,
  },
  {
    name: 'remote_write_samples_dropped_total',
    type: 'counter',
    help: 'Samples of queued snapshots dropped because the queue was full (oldest first).',
    read: (s) => s.samplesDropped,
  },
  {
    name: 'remote_write_retries_total',
    type: 'counter',
    help: 'Retried remote-write attempts.',
    read: (s) => s.retries,
  },
  {
    name: 'remote_write_queue_length',
    type: 'gauge',
    help: 'WriteRequests waiting to be sent.',
    read: (s) => s.queueLength,
  },
  {
    name: 'remote_write_last_success_timestamp_seconds',
    type: 'gauge',
    help: 'Unix time of the last accepted WriteRequest (0: none yet).',
    read: (s) => (s.lastSuccessMs === null ? 0 : s.lastSuccessMs / 1000),
  },
  {
    name: 'remote_write_circuit_open',
    type: 'gauge',
    help: '1 while the circuit breaker stops calls to the receiver.',
    read: (s) => (s.breaker === 'open' ? 1 : 0),
  },
];

/** The writers whose self-metrics each collector carries (declared once per collector). */
const WRITERS = new WeakMap<object, Set<RemoteWriter>>();

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

const sleep = (ms: number, signal?: { wake?: () => void }) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    timer.unref?.();
    if (signal)
      signal.wake = () => {
        clearTimeout(timer);
        resolve();
      };
  });

/**
 * Pushes the collector's metrics to a Prometheus remote-write receiver. Every `intervalSeconds` (after
 * {@link start}) it reads a snapshot through the exporter's protobuf exposition, converts it to a remote
 * write 1.0 `WriteRequest`, snappy-compresses it and queues it; one sender drains the queue in order.
 * Recording never waits on any of this: the timer is unref'd and all network work is asynchronous.
 *
 * ```ts
 * const writer = new RemoteWriter({ url: 'http://127.0.0.1:9090/api/v1/write' });
 * writer.start();
 * process.on('SIGTERM', () => void writer.stop());
 * ```
 */
export class RemoteWriter {
  readonly url: string;
  /** The `url` label of the self-metrics: origin and path (never a query string, which may hold a key). */
  private readonly urlLabel: string;
  private readonly exporter: PrometheusExporter;
  private readonly intervalMs: number;
  private readonly timeoutMs: number;
  private readonly maxQueue: number;
  private readonly maxRetries: number;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly nativeHistograms: boolean;
  private readonly externalLabels: Record<string, string>;
  private readonly headers: Record<string, string>;
  private readonly onError: (error: RemoteWriteError) => void;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly breaker: CircuitBreaker;
  private readonly queue: Pending[] = [];
  private inFlight: Pending | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private draining: Promise<void> | undefined;
  private readonly breakerWait: { wake?: () => void } = {};
  private probeNow = false;
  /** Flushes waiting: while one is, an open breaker fails requests at once instead of holding them. */
  private flushWaiters = 0;
  private lastAttemptError: RemoteWriteError | undefined;
  private lastTimestampMs = Number.NEGATIVE_INFINITY;
  private snapshotChain: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly counts = {
    samplesSent: 0,
    samplesFailed: 0,
    samplesDropped: 0,
    requestsSent: 0,
    requestsFailed: 0,
    requestsDropped: 0,
    retries: 0,
  };
  private lastSuccessMs: number | null = null;
  private lastError: string | null = null;

  constructor(options: RemoteWriterOptions) {
    if (options === undefined || options === null)
      throw invalid(`options with a "url" are required, got ${describeValue(options)}`);
    validateOptions(options, OPTIONS, REMOTE_WRITE_PACKAGE);
    if (typeof options.url !== 'string')
      throw invalid(`option "url" is required (the receiver's remote-write URL), got ${describeValue(options.url)}`);
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw invalid(`option "url" must be an absolute http(s) URL, got ${JSON.stringify(options.url)}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw invalid(`option "url" must be an http: or https: URL, got ${url.protocol}`);
    }
    if (url.username || url.password) throw invalid('option "url" must not carry credentials; use "basicAuth"');
    this.url = url.href;
    if (options.bearerToken !== undefined && options.basicAuth !== undefined) {
      throw invalid('options "bearerToken" and "basicAuth" cannot both be set');
    }
    const collector = options.collector ?? getMetricsCollector();
    if (typeof collector?.state !== 'function') {
      throw invalid(
        `option "collector" must be a MetricsCollector (or any object with state()), got ${describeValue(collector)}`,
      );
    }
    this.exporter = new PrometheusExporter(collector);
    this.intervalMs = positive(options, 'intervalSeconds', 15) * 1000;
    this.timeoutMs = positive(options, 'timeoutSeconds', 10) * 1000;
    this.maxQueue = Math.floor(positive(options, 'maxQueue', 10, 1));
    this.maxRetries = Math.floor(positive(options, 'maxRetries', 3, 0));
    this.minBackoffMs = positive(options, 'minBackoffSeconds', 0.5) * 1000;
    this.maxBackoffMs = positive(options, 'maxBackoffSeconds', 30) * 1000;
    if (this.maxBackoffMs < this.minBackoffMs) {
      throw invalid(`option "maxBackoffSeconds" must be >= "minBackoffSeconds", got ${this.maxBackoffMs / 1000}`);
    }
    this.breaker = new CircuitBreaker(
      Math.floor(positive(options, 'breakerThreshold', 5, 1)),
      positive(options, 'breakerResetSeconds', 30) * 1000,
    );
    this.nativeHistograms = options.nativeHistograms ?? false;
    this.externalLabels = { ...(options.externalLabels ?? {}) };
    for (const [k, v] of Object.entries(this.externalLabels)) {
      if (!LABEL_NAME.test(k) || k.startsWith('__')) {
        throw invalid(`externalLabels: ${JSON.stringify(k)} is not a valid label name (and __ names are reserved)`);
      }
      if (typeof v !== 'string') throw invalid(`externalLabels.${k} must be a string, got ${describeValue(v)}`);
    }
    this.headers = { ...(options.headers ?? {}) };
    for (const [k, v] of Object.entries(this.headers)) {
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k)) throw invalid(`headers: ${JSON.stringify(k)} is not a header name`);
      if (typeof v !== 'string') throw invalid(`headers.${k} must be a string, got ${describeValue(v)}`);
    }
    if (options.bearerToken !== undefined) this.headers.Authorization = `Bearer ${options.bearerToken}`;
    if (options.basicAuth !== undefined) {
      const { username, password } = options.basicAuth;
      this.headers.Authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
    }
    this.onError =
      options.onError ??
      ((e) => {
        console.warn(e.message);
      });
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.urlLabel = `${url.origin}${url.pathname}`;
    if (options.registerMetrics ?? true) this.registerMetrics(collector);
  }

  /** Starts the timer (unref'd: it never keeps the process alive). Calling it twice is harmless. */
  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => {
      this.enqueueSnapshot()
        .then(() => this.drain())
        .catch((e: unknown) => this.report(this.asError(e)));
    }, this.intervalMs);
    this.timer.unref?.();
  }

  /**
   * Takes a snapshot now and sends it, with everything queued before it. Resolves when all of them are
   * sent (or dropped from a full queue); rejects with the first {@link RemoteWriteError} otherwise (a 4xx
   * at once, a 5xx/429/network error after the retries). While the breaker is open, a flush is the probe.
   */
  async flush(): Promise<FlushResult> {
    await this.enqueueSnapshot();
    const waiting = [...(this.inFlight ? [this.inFlight] : []), ...this.queue].map((p) => p.done);
    this.probeNow = true;
    this.flushWaiters++;
    this.breakerWait.wake?.();
    void this.drain();
    let outcomes: Outcome[];
    try {
      outcomes = await Promise.all(waiting);
    } finally {
      this.flushWaiters--;
    }
    const result: FlushResult = { requests: 0, samplesSent: 0, samplesDropped: 0 };
    for (const o of outcomes) {
      if (o.kind === 'failed') throw o.error;
      if (o.kind === 'sent') {
        result.requests++;
        result.samplesSent += o.samples;
      } else result.samplesDropped += o.samples;
    }
    return result;
  }

  /** Stops the timer and makes a final flush; rejects if that flush fails. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.stopped) return;
    this.stopped = true;
    await this.flush();
  }

  stats(): RemoteWriteStats {
    return {
      ...this.counts,
      queueLength: this.queue.length,
      lastSuccessMs: this.lastSuccessMs,
      lastError: this.lastError,
      breaker: this.breaker.state(Date.now()),
    };
  }

  /**
   * The writer's own metrics ({@link SELF_METRICS}) as a Prometheus text exposition, for the `append` option of
   * the handlers and adapters when the collector is not a `MetricsCollector` (a `ClusterAggregator`) or
   * `registerMetrics` is false. With a `MetricsCollector` they are declared in it and need no `append`.
   */
  metricsText(): string {
    const s = this.stats();
    const lines: string[] = [];
    const url = JSON.stringify(this.urlLabel);
    for (const m of SELF_METRICS) {
      lines.push(`# HELP ${m.name} ${m.help}`, `# TYPE ${m.name} ${m.type}`, `${m.name}{url=${url}} ${m.read(s)}`);
    }
    return `${lines.join('\n')}\n`;
  }

  private registerMetrics(collector: object): void {
    const c = collector as Partial<Pick<MetricsCollector, 'counter' | 'gauge'>>;
    if (typeof c.counter !== 'function' || typeof c.gauge !== 'function') return;
    // Several writers on one collector (two receivers) share the families, one series per writer's url.
    let writers = WRITERS.get(collector);
    if (!writers) {
      const set = new Set<RemoteWriter>();
      writers = set;
      WRITERS.set(collector, set);
      for (const m of SELF_METRICS) {
        const options = {
          name: m.name,
          help: m.help,
          labelNames: ['url'],
          perInstance: true,
          collect: () => [...set].map((w) => ({ labels: { url: w.urlLabel }, value: m.read(w.stats()) })),
        };
        if (m.type === 'counter') c.counter.call(collector, options);
        else c.gauge.call(collector, options);
      }
    }
    writers.add(this);
  }

  /** Snapshots are taken one at a time, so the queue's order is their timestamps' order (else: out-of-order 400s). */
  private enqueueSnapshot(): Promise<void> {
    const run = this.snapshotChain.then(() => this.takeSnapshot());
    this.snapshotChain = run.catch(() => {});
    return run;
  }

  private async takeSnapshot(): Promise<void> {
    const exposition = await this.exporter.exportProtobuf();
    // Strictly increasing: two snapshots in one millisecond would be a duplicate sample with another value (a 400).
    const timestampMs = Math.max(Math.round(this.now()), this.lastTimestampMs + 1);
    this.lastTimestampMs = timestampMs;
    // Each step of a large state takes tens of milliseconds: give the event loop back between them.
    await yieldToLoop();
    const families = decodeExposition(exposition);
    await yieldToLoop();
    const series = toTimeSeries(families, {
      externalLabels: this.externalLabels,
      nativeHistograms: this.nativeHistograms,
      timestampMs,
    });
    await yieldToLoop();
    const encoded = encodeWriteRequest(series, families);
    await yieldToLoop();
    const body = snappyCompress(encoded);
    let settle!: (o: Outcome) => void;
    const done = new Promise<Outcome>((r) => (settle = r));
    this.queue.push({ body, samples: sampleCount(series), settle, done });
    while (this.queue.length > this.maxQueue) {
      const oldest = this.queue.shift()!;
      this.counts.samplesDropped += oldest.samples;
      this.counts.requestsDropped++;
      oldest.settle({ kind: 'dropped', samples: oldest.samples });
    }
  }

  private drain(): Promise<void> {
    this.draining ??= (async () => {
      try {
        for (let next = this.queue.shift(); next; next = this.queue.shift()) {
          // The request being sent leaves the queue: a full queue drops the oldest of those still waiting.
          this.inFlight = next;
          const outcome = await this.sendWithRetries(next);
          this.inFlight = undefined;
          if (outcome.kind === 'failed') {
            this.counts.samplesFailed += next.samples;
            this.counts.requestsFailed++;
            this.lastError = outcome.error.message;
            this.report(outcome.error);
          }
          next.settle(outcome);
        }
      } finally {
        this.draining = undefined;
      }
    })();
    return this.draining;
  }

  private report(error: RemoteWriteError): void {
    try {
      this.onError(error);
    } catch {
      // a throwing onError must not stop the sender
    }
  }

  private asError(e: unknown): RemoteWriteError {
    if (e instanceof RemoteWriteError) return e;
    return new RemoteWriteError('SNAPSHOT_FAILED', `could not read a snapshot: ${String(e)}`, {});
  }

  private async sendWithRetries(p: Pending): Promise<Outcome> {
    let attempt = 0;
    for (;;) {
      // An open breaker holds every call until it half-opens (a flush makes one probe at once). With a
      // flush (or stop) waiting, and its probe failed, the requests fail now: a flush never waits for a reset.
      for (;;) {
        const wait = this.breaker.waitMs(Date.now());
        if (wait <= 0 || this.probeNow) break;
        if (this.flushWaiters > 0) {
          const last = this.lastAttemptError;
          return {
            kind: 'failed',
            error: new RemoteWriteError(
              'CIRCUIT_OPEN',
              `not sent: the circuit breaker is open (half-opens in ${(wait / 1000).toFixed(1)}s)${last ? `; last error: ${last.detail}` : ''}`,
              { status: last?.status, body: last?.body },
            ),
          };
        }
        await sleep(wait, this.breakerWait);
      }
      this.probeNow = false;
      const result = await this.attempt(p.body);
      if (result.ok) {
        this.breaker.success();
        this.counts.samplesSent += p.samples;
        this.counts.requestsSent++;
        this.lastSuccessMs = Date.now();
        return { kind: 'sent', samples: p.samples };
      }
      const error = result.error;
      this.lastAttemptError = error;
      if (!error.retryable) {
        // The receiver answered: it is up, but refuses this request. Retrying would get the same answer.
        this.breaker.success();
        return { kind: 'failed', error };
      }
      this.breaker.failure(Date.now());
      if (attempt >= this.maxRetries) {
        return {
          kind: 'failed',
          error: new RemoteWriteError('RETRIES_EXHAUSTED', `${error.detail} (gave up after ${attempt + 1} attempts)`, {
            status: error.status,
            body: error.body,
          }),
        };
      }
      const cap = Math.min(this.maxBackoffMs, this.minBackoffMs * 2 ** attempt);
      const waitMs = error.retryAfterSeconds !== undefined ? error.retryAfterSeconds * 1000 : this.random() * cap;
      attempt++;
      this.counts.retries++;
      await sleep(waitMs);
    }
  }

  private async attempt(body: Uint8Array): Promise<{ ok: true } | { ok: false; error: RemoteWriteError }> {
    let res: Response;
    let text = '';
    try {
      res = await fetch(this.url, {
        method: 'POST',
        body,
        headers: {
          ...this.headers,
          'Content-Encoding': 'snappy',
          'Content-Type': 'application/x-protobuf',
          'X-Prometheus-Remote-Write-Version': '0.1.0',
          'User-Agent': USER_AGENT,
        },
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await res.text();
    } catch (e) {
      const cause = e as { name?: string; cause?: { code?: string; message?: string }; message?: string };
      const why =
        cause.name === 'TimeoutError'
          ? `no answer within ${this.timeoutMs / 1000}s`
          : (cause.cause?.code ?? cause.cause?.message ?? cause.message ?? String(e));
      return {
        ok: false,
        error: new RemoteWriteError('NETWORK', `could not reach the receiver at ${this.urlLabel}: ${why}`, {
          retryable: true,
        }),
      };
    }
    if (res.status >= 200 && res.status < 300) return { ok: true };
    const shown = text.length > BODY_SHOWN ? `${text.slice(0, BODY_SHOWN)}…` : text;
    const retryable = res.status >= 500 || res.status === 429;
    const hint =
      res.status === 404 || res.status === 405 || res.status === 415 || res.status === 400
        ? "; check that the url is the receiver's remote-write endpoint (Prometheus: /api/v1/write with --web.enable-remote-write-receiver; VictoriaMetrics: /api/v1/write; Mimir: /api/v1/push)"
        : res.status === 401 || res.status === 403
          ? '; check bearerToken/basicAuth'
          : '';
    return {
      ok: false,
      error: new RemoteWriteError(
        retryable ? 'SERVER_ERROR' : 'REJECTED',
        `the receiver at ${this.urlLabel} answered ${res.status} ${res.statusText}: ${JSON.stringify(shown.trim())}${retryable ? '' : hint}`,
        {
          status: res.status,
          body: text,
          retryable,
          retryAfterSeconds: retryable ? parseRetryAfter(res.headers.get('retry-after'), Date.now()) : undefined,
        },
      ),
    };
  }
}
