import { MetricsCollector } from './collector.js';
import { MetricsError } from './errors.js';
import { describeValue, type OptionSchema, validateOptions } from './validate.js';

const GLOBAL_KEY = Symbol.for('@gatewayz/metrics-core/collector');
type GlobalSlot = { [GLOBAL_KEY]?: MetricsCollector };

/**
 * The process-wide default collector, created on first use. It is kept on `globalThis`, so the ESM
 * and CJS builds (or two copies of the package) share one instance.
 */
export function getMetricsCollector(): MetricsCollector {
  const g = globalThis as GlobalSlot;
  let c = g[GLOBAL_KEY];
  if (!c) {
    c = new MetricsCollector();
    g[GLOBAL_KEY] = c;
  }
  return c;
}

/** Replaces the process-wide default collector (e.g. to configure it at startup). Returns the previous one. */
export function setMetricsCollector(collector: MetricsCollector): MetricsCollector | undefined {
  const g = globalThis as GlobalSlot;
  const prev = g[GLOBAL_KEY];
  g[GLOBAL_KEY] = collector;
  return prev;
}

export interface TrackRequestOptions<R = unknown> {
  /** Endpoint label (a route template). */
  endpoint: string;
  /** HTTP method label. @default 'GET' */
  method?: string;
  /** Provider label for every call. */
  provider?: string;
  /** Model label for every call. */
  model?: string;
  /** Collector to record into. @default getMetricsCollector() */
  collector?: MetricsCollector;
  /** Status recorded for a successful call (sync return or async resolve). @default () => 200 */
  statusOf?: (result: R) => number;
  /**
   * Status recorded when the call throws or rejects; the call is always counted as an error.
   * @default the error's numeric `statusCode` or `status` if it is a valid HTTP status, else 500
   */
  errorStatusOf?: (error: unknown) => number;
}

const TRACK_SCHEMA: OptionSchema<TrackRequestOptions> = {
  endpoint: 'string',
  method: 'string',
  provider: 'string',
  model: 'string',
  collector: 'object',
  statusOf: 'function',
  errorStatusOf: 'function',
};

/** Validates {@link TrackRequestOptions} when a function is wrapped (calls never throw). */
function checkTrackOptions(options: TrackRequestOptions<any>): void {
  validateOptions(options, TRACK_SCHEMA);
  if (!options || typeof options.endpoint !== 'string') {
    throw new MetricsError(
      'INVALID_OPTION',
      `trackRequest needs options with a string endpoint, got ${options ? `endpoint ${describeValue(options.endpoint)}` : describeValue(options)}`,
    );
  }
  if (options.collector !== undefined && typeof options.collector.startRequest !== 'function') {
    throw new MetricsError(
      'INVALID_OPTION',
      `option "collector" must be a MetricsCollector, got ${describeValue(options.collector)} without startRequest()`,
    );
  }
}

/** The status a thrown value carries: a numeric `statusCode` or `status` in 100..599, else 500. */
export function statusOfError(error: unknown): number {
  if (error !== null && typeof error === 'object') {
    const e = error as { statusCode?: unknown; status?: unknown };
    for (const v of [e.statusCode, e.status]) {
      if (typeof v === 'number' && Number.isInteger(v) && v >= 100 && v <= 599) return v;
    }
  }
  return 500;
}

/**
 * Wraps a sync or async function so each call is recorded. A sync function stays sync and an async
 * one returns the very same promise; the result, `this` and any thrown error pass through unchanged.
 */
export function trackRequest<F extends (...args: any[]) => any>(
  options: TrackRequestOptions<Awaited<ReturnType<F>>>,
  fn: F,
): F {
  if (typeof fn !== 'function') {
    throw new MetricsError('INVALID_OPTION', `trackRequest needs a function to wrap, got ${describeValue(fn)}`);
  }
  checkTrackOptions(options);
  const { endpoint, provider, model } = options;
  const method = options.method ?? 'GET';
  const statusOf = options.statusOf ?? (() => 200);
  const errorStatusOf = options.errorStatusOf ?? statusOfError;
  const wrapped = function (this: unknown, ...args: unknown[]) {
    const collector = options.collector ?? getMetricsCollector();
    const end = collector.startRequest({ endpoint, method, ...(provider && { provider }), ...(model && { model }) });
    const fail = (err: unknown) => end({ statusCode: safe(() => errorStatusOf(err), 500), error: true });
    let result: unknown;
    try {
      result = fn.apply(this, args);
    } catch (err) {
      fail(err);
      throw err;
    }
    if (
      result !== null &&
      (typeof result === 'object' || typeof result === 'function') &&
      typeof (result as PromiseLike<unknown>).then === 'function'
    ) {
      // Observe without chaining: the caller gets the original promise, settled as it would be.
      (result as PromiseLike<unknown>).then(
        (v) => end({ statusCode: safe(() => statusOf(v as Awaited<ReturnType<F>>), 200) }),
        fail,
      );
      return result;
    }
    end({ statusCode: safe(() => statusOf(result as Awaited<ReturnType<F>>), 200) });
    return result;
  };
  Object.defineProperty(wrapped, 'name', { value: fn.name, configurable: true });
  Object.defineProperty(wrapped, 'length', { value: fn.length, configurable: true });
  return wrapped as unknown as F;
}

function safe(f: () => number, fallback: number): number {
  try {
    return f();
  } catch {
    return fallback;
  }
}

/**
 * A TC39 (TypeScript 5) method decorator: `@tracked({ endpoint: '/api/chat', method: 'POST' })`.
 * Works on sync and async methods alike, with the same guarantees as {@link trackRequest}.
 */
export function tracked<R = unknown>(options: TrackRequestOptions<R>) {
  checkTrackOptions(options);
  return <This, Args extends unknown[], Ret>(
    target: (this: This, ...args: Args) => Ret,
    _context: ClassMethodDecoratorContext<This, (this: This, ...args: Args) => Ret>,
  ): ((this: This, ...args: Args) => Ret) => trackRequest(options as TrackRequestOptions<any>, target);
}
