import { once } from 'node:events';
import { createGzip, constants as zlibConstants } from 'node:zlib';
import type { HealthThresholds } from '@gatewayz/metrics-core';
import {
  type CollectorState,
  describeValue,
  MetricsError,
  type MetricsSnapshot,
  summarizeState,
  validateOptions,
} from '@gatewayz/metrics-core';
import { EXPORTER_OPTIONS, EXPORTER_PACKAGE, invalidOption } from './internal/options.js';
import { RENDER_SLABS } from './internal/slabPool.js';
import { type FamilyWriter, partsOf, walkFamilies } from './internal/walk.js';
import { type ExpositionFormat, negotiateFormat } from './negotiate.js';
import { ProtobufWriter } from './protobufFormat.js';
import type { RefusalCounts, RefusalReason } from './refusals.js';
import { type ExporterSelfState, GroupedTextWriter, renderText } from './textFormat.js';

/** Longest stretch an async export holds the event loop before yielding, in milliseconds (GC pauses come on top). */
const SLICE_MS = 2;

/** What the exporter renders and shares between concurrent callers: each exposition format and the JSON snapshot. */
type SharedKind = ExpositionFormat | 'protobuf' | 'protobuf-gzip' | 'json';

/** Anything that yields a collector state: a `MetricsCollector`, or an aggregator of several. */
export interface MetricsSource {
  /** The state to render; a cluster aggregator returns it asynchronously. */
  state(): CollectorState | Promise<CollectorState>;
  /** Optional: the state as a head and endpoint slices (a `MetricsCollector` has it); preferred by async exports. */
  stateSlices?(options?: { batchSize?: number }): Iterable<{ kind: 'head' | 'endpoints'; state: CollectorState }>;
  /** Optional: the families declared on the source (a `MetricsCollector` has it), kept safe from `append`. */
  declaredFamilies?(): readonly { name: string; type: 'counter' | 'gauge' | 'histogram' }[];
  options?: { health?: HealthThresholds };
}

export interface PrometheusExporterOptions {
  /**
   * Serialise in chunks and yield to the event loop between them when the output is large, in
   * {@link PrometheusExporter.exportAsync}. @default true
   */
  yieldBetweenChunks?: boolean;
  /**
   * Keeps each format's rendering (text, OpenMetrics, protobuf, JSON snapshot) for this many milliseconds after
   * its render began, so every scrape in that time gets it without a new render. With 0, only scrapes that
   * arrive while a render of their format is in progress share it (single flight), and nothing is kept after
   * it. A served rendering is never older than `cacheMs` plus one render's duration. A number >= 0. @default 0
   */
  cacheMs?: number;
}

/** Renders a collector's metrics as Prometheus text 0.0.4, OpenMetrics 1.0 or JSON. */
export class PrometheusExporter {
  readonly source: MetricsSource;
  private readonly options: Required<PrometheusExporterOptions>;
  /** Counters the exporter owns, rendered as `gatewayz_metrics_admin_refusals_total`. */
  readonly self: ExporterSelfState & { refusals: RefusalCounts } = { refusals: {} };
  /**
   * Per format: the render in progress, kept after it settles only while `cacheMs` has not passed since it
   * began. A failed render is dropped at once, so the next scrape renders again.
   */
  private readonly shared = new Map<SharedKind, { at: number; result: Promise<unknown> }>();

  constructor(source: MetricsSource, options: PrometheusExporterOptions = {}) {
    if (!source || typeof source.state !== 'function') {
      throw invalidOption(
        `PrometheusExporter needs a MetricsCollector (or any object with state()), got ${describeValue(source)}`,
      );
    }
    validateOptions(options, EXPORTER_OPTIONS, EXPORTER_PACKAGE);
    const cacheMs = options.cacheMs ?? 0;
    if (!(cacheMs >= 0 && cacheMs <= 2 ** 31 - 1)) {
      throw invalidOption(`cacheMs must be a number of milliseconds >= 0, got ${cacheMs}`);
    }
    this.source = source;
    this.options = { yieldBetweenChunks: options.yieldBetweenChunks ?? true, cacheMs };
  }

  private syncState(): CollectorState {
    const s = this.source.state();
    if (typeof (s as Promise<CollectorState>).then === 'function') {
      // The state asked for is not awaited: a rejection of it must not go unhandled.
      (s as Promise<CollectorState>).catch(() => {});
      throw new MetricsError(
        'ASYNC_SOURCE',
        'this source is asynchronous (its state() returned a Promise): use exportAsync(), exportAsyncBuffer(), exportProtobuf() or snapshotAsync()',
        EXPORTER_PACKAGE,
      );
    }
    return s as CollectorState;
  }

  /** Prometheus text format 0.0.4. */
  export(): string {
    return renderText(this.syncState(), 'text', this.self);
  }

  /** OpenMetrics 1.0 text, ending with `# EOF`. */
  exportOpenMetrics(): string {
    return renderText(this.syncState(), 'openmetrics', this.self);
  }

  /** Either format, rendered in chunks that yield to the event loop so a large scrape does not block it. */
  async exportAsync(format: ExpositionFormat = 'text'): Promise<string> {
    return (await this.exportAsyncBuffer(format)).toString('utf8');
  }

  /**
   * {@link exportAsync} as UTF-8 bytes, without ever building one large string (what the handlers
   * send). Calls made while a render of the same format is in progress share it (single flight), and
   * so do calls within `cacheMs` of its start; the Buffer is shared, so do not write into it.
   */
  exportAsyncBuffer(format: ExpositionFormat = 'text'): Promise<Buffer> {
    return this.single(format, () => this.renderAsyncBuffer(format));
  }

  /**
   * Single flight: joins the render of `kind` in progress (or the one kept for `cacheMs`) or starts one.
   * A caller that joins gets data read when that render began, at most one render's duration (plus
   * `cacheMs`) before its call: what an HA pair of Prometheus servers scraping at the same instant needs
   * (both get the same samples). A call after a render has finished, with `cacheMs` 0, always renders anew.
   */
  private single<T>(kind: SharedKind, render: () => Promise<T>): Promise<T> {
    const now = Date.now();
    const hit = this.shared.get(kind);
    if (hit && (hit.at === Number.POSITIVE_INFINITY || now - hit.at < this.options.cacheMs)) {
      return hit.result as Promise<T>;
    }
    // In progress: joinable whatever the clock says. Once settled, kept only for cacheMs from `now`.
    const entry = { at: Number.POSITIVE_INFINITY, result: undefined as unknown as Promise<T> };
    const result = render().then(
      (v) => {
        if (this.shared.get(kind) === entry) {
          if (this.options.cacheMs > 0) entry.at = now;
          else this.shared.delete(kind);
        }
        return v;
      },
      (err: unknown) => {
        if (this.shared.get(kind) === entry) this.shared.delete(kind);
        throw err;
      },
    );
    entry.result = result;
    this.shared.set(kind, entry);
    return result;
  }

  /**
   * Walks a source that can hand out its state in slices: endpoint series a slice at a time (each
   * slice's objects die young, so GC pauses stay short), into a writer that keeps each family's output
   * in its own chunks so it still comes out as one group. Yields where an async caller may give the
   * event loop back.
   */
  private *sliced<L>(
    slices: NonNullable<MetricsSource['stateSlices']>,
    w: FamilyWriter<L> & { flush(): void },
  ): Generator<void, void, undefined> {
    // The head (every family, those of endpoint series still empty) sets the order of the groups; each later
    // slice adds its endpoints' series to theirs.
    for (const slice of slices.call(this.source, { batchSize: 32 })) {
      for (const _ of walkFamilies(partsOf(slice.state), this.self, w, slice.kind === 'head' ? 'all' : 'slice')) {
        w.flush();
        yield;
      }
    }
  }

  /** Yields to the event loop (setImmediate) when `SLICE_MS` has passed since the last yield. */
  private breather(): () => Promise<void> {
    const yielding = this.options.yieldBetweenChunks;
    let since = performance.now();
    return async () => {
      if (yielding && performance.now() - since >= SLICE_MS) {
        await new Promise<void>((r) => setImmediate(r));
        since = performance.now();
      }
    };
  }

  /**
   * The walk of the source's families into `w`, the one pipeline of every asynchronous export: a source that hands
   * out slices is walked slice by slice; any other source's state (a cluster aggregator's, awaited) whole. Either
   * way the writer is flushed at every yield, where the caller may give the event loop back.
   */
  private async walk<L>(w: FamilyWriter<L> & { flush(): void }): Promise<Iterable<void>> {
    const source = this.source;
    if (typeof source.stateSlices === 'function') return this.sliced(source.stateSlices, w);
    const state = await source.state();
    return flushing(walkFamilies(partsOf(state), this.self, w), w);
  }

  private async renderAsyncBuffer(format: ExpositionFormat): Promise<Buffer> {
    const breathe = this.breather();
    const w = new GroupedTextWriter(format === 'openmetrics');
    for (const _ of await this.walk(w)) await breathe();
    return w.finish(breathe, format === 'openmetrics' ? '# EOF\n' : '');
  }

  /**
   * Delimited protobuf `MetricFamily` messages, with native-histogram buckets on `http_request_duration_seconds`.
   * Rendered in slices that yield to the event loop (as {@link exportAsync}), the same bytes as a synchronous
   * render of the same state; shared by concurrent calls like {@link exportAsyncBuffer}.
   */
  exportProtobuf(): Promise<Buffer> {
    return this.single('protobuf', () => this.renderProtobufAsync());
  }

  private async renderProtobufAsync(): Promise<Buffer> {
    const breathe = this.breather();
    const w = new ProtobufWriter(true);
    for (const _ of await this.walk(w)) await breathe();
    const gen = w.assemble();
    let r = gen.next();
    while (!r.done) {
      await breathe();
      r = gen.next();
    }
    const bytes = r.value;
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /**
   * {@link exportProtobuf} gzip-compressed (what the handlers send Prometheus, which asks for gzip): the render's
   * pieces go into the compressor a slab at a time, so the uncompressed exposition is never copied into one Buffer (for 10k
   * series that Buffer was 12 MB outside the heap per scrape, and set off a major GC nearly every scrape). `bytes` is
   * the uncompressed length. Shared by concurrent calls like {@link exportProtobuf}; do not write into the Buffer.
   */
  exportProtobufGzip(): Promise<{ body: Buffer; bytes: number }> {
    return this.single('protobuf-gzip', () => this.renderProtobufGzip());
  }

  private async renderProtobufGzip(): Promise<{ body: Buffer; bytes: number }> {
    const breathe = this.breather();
    const w = new ProtobufWriter(true);
    for (const _ of await this.walk(w)) await breathe();
    const z = createGzip({ level: zlibConstants.Z_BEST_SPEED });
    const out: Buffer[] = [];
    z.on('data', (c: Buffer) => out.push(c));
    const ended = once(z, 'end');
    ended.catch(() => undefined); // a failure is rethrown by the await that meets it first, not left unhandled here
    // The pieces (many of them a few bytes: the families' headers) are copied into two slabs taken in turn, each
    // handed to the compressor when full: one trip to the thread pool per slab, not per piece, which under load
    // costs an event-loop turn each. A slab is filled again once the compressor has consumed it (its write callback).
    const stage = [RENDER_SLABS.take(), RENDER_SLABS.take()] as const;
    const inFlight: Array<Promise<void> | undefined> = [undefined, undefined];
    let cur = 0;
    let at = 0;
    let bytes = 0;
    const send = async (): Promise<void> => {
      const filled = stage[cur]!.subarray(0, at);
      inFlight[cur] = new Promise<void>((resolve, reject) => {
        z.write(filled, (err) => (err ? reject(err) : resolve()));
      });
      inFlight[cur]!.catch(() => undefined);
      cur ^= 1;
      at = 0;
      const other = inFlight[cur];
      if (other !== undefined) await Promise.race([other, ended]);
      inFlight[cur] = undefined;
    };
    try {
      for (const piece of w.pieces()) {
        bytes += piece.length;
        for (let off = 0; off < piece.length; ) {
          const n = Math.min(piece.length - off, stage[cur]!.length - at);
          stage[cur]!.set(piece.subarray(off, off + n), at);
          at += n;
          off += n;
          if (at === stage[cur]!.length) await send();
        }
      }
      if (at > 0) await send();
      z.end();
      await ended;
    } catch (err) {
      // The compressor may still hold a staging slab: the slabs are dropped, not given back to the pool.
      z.destroy();
      throw err;
    }
    // The compressor has ended, so it has read every piece and both staging slabs.
    w.release();
    RENDER_SLABS.give(stage);
    return { body: Buffer.concat(out), bytes };
  }

  /** Picks the format from an `Accept` header. */
  exportFor(accept: string | string[] | undefined): { body: string; contentType: string } {
    const { format, contentType } = negotiateFormat(accept);
    return { body: format === 'openmetrics' ? this.exportOpenMetrics() : this.export(), contentType };
  }

  /** The JSON view served at `/metrics/json`: the collector's snapshot. */
  snapshot(): MetricsSnapshot {
    return summarizeState(this.syncState(), this.source.options?.health);
  }

  /**
   * {@link snapshot} for synchronous and asynchronous sources alike (what `/metrics/json` and `/metrics/health`
   * serve); shared by concurrent calls like {@link exportAsyncBuffer}, so do not mutate the object it resolves.
   */
  snapshotAsync(): Promise<MetricsSnapshot> {
    return this.single('json', async () => summarizeState(await this.source.state(), this.source.options?.health));
  }

  /** Counts a refused admin or scrape request under `reason`. */
  countRefusal(reason: RefusalReason): void {
    this.self.refusals[reason] = (this.self.refusals[reason] ?? 0) + 1;
  }
}

/** `walk`, with the writer flushed at each of its yields (so a family's text or bytes move out in pieces). */
function* flushing(walk: Iterable<void>, w: { flush(): void }): Generator<void, void, undefined> {
  for (const _ of walk) {
    w.flush();
    yield;
  }
}
