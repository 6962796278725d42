import type { CollectorState, Exemplar } from '@gatewayz/metrics-core';
import { METRIC_FAMILIES, type MetricFamilyInfo } from './families.js';
import { escapeHelp, escapeLabelValue, formatCanonical, formatValue } from './internal/escape.js';
import { exemplarSuffix } from './internal/exemplarText.js';
import { RENDER_SLABS } from './internal/slabPool.js';
import {
  type ExporterSelfState,
  type FamilyWriter,
  type HistogramData,
  type LabelPairs,
  partsOf,
  type RefusalReason,
  type StatePart,
  walkFamilies,
} from './internal/walk.js';
import type { ExpositionFormat } from './negotiate.js';

export type { ExporterSelfState, MetricFamilyInfo, RefusalReason, StatePart };
export { METRIC_FAMILIES };

const CHUNK = 64 * 1024;

/**
 * {@link formatValue} for sample values, the same text. A fraction goes through `JSON.stringify` (which the spec
 * defines as the same `ToString`) rather than `String()`: V8 keeps each `String(fraction)` in its number-to-string
 * cache, which lives in the old generation, so every such string survived minor GCs. A 10k-series render has about
 * 50k fractions (averages, quantiles, sums), and 300k `String()` calls on fractions leave about 12 MB in the old
 * generation, against none with `JSON.stringify`; that growth is what set off a major GC every scrape or two.
 */
export function sampleText(v: number): string {
  if ((v | 0) === v) return String(v);
  return Number.isFinite(v) ? JSON.stringify(v) : formatValue(v);
}

/** Writes families as Prometheus text 0.0.4 or OpenMetrics 1.0 lines into `buf`. */
export class TextWriter implements FamilyWriter<string> {
  buf = '';
  private name = '';
  private readonly les = new WeakMap<readonly number[], string[]>();

  constructor(readonly om: boolean) {}

  labels(base: LabelPairs, names: readonly string[], values: readonly string[]): string {
    let s = '';
    for (const [k, v] of base) s += `${s === '' ? '' : ','}${k}="${escapeLabelValue(v)}"`;
    for (let i = 0; i < names.length; i++)
      s += `${s === '' ? '' : ','}${names[i]}="${escapeLabelValue(values[i] ?? '')}"`;
    return s;
  }

  family(info: MetricFamilyInfo): void {
    this.resume(info);
    const family = this.om && info.type === 'counter' ? info.name.replace(/_total$/, '') : info.name;
    const help = this.om ? escapeHelp(info.help).replace(/"/g, '\\"') : escapeHelp(info.help);
    this.buf += `# HELP ${family} ${help}\n# TYPE ${family} ${info.type}\n`;
  }

  /** Continues writing samples of `info` without a new header. */
  protected resume(info: MetricFamilyInfo): void {
    this.name = info.name;
  }

  sample(labels: string, value: number, exemplar?: Exemplar): void {
    // Exemplars exist only in OpenMetrics; the 0.0.4 line stays as it always was.
    const ex = this.om && exemplar !== undefined ? exemplarSuffix(exemplar) : '';
    this.buf +=
      labels === ''
        ? `${this.name} ${sampleText(value)}${ex}\n`
        : `${this.name}{${labels}} ${sampleText(value)}${ex}\n`;
  }

  private leLabels(bounds: readonly number[]): string[] {
    let les = this.les.get(bounds);
    if (!les) {
      les = [...bounds.map((b) => (this.om ? formatCanonical(b) : formatValue(b))), '+Inf'].map((b) => `le="${b}"`);
      this.les.set(bounds, les);
    }
    return les;
  }

  histogram(labels: string, h: HistogramData): void {
    const les = this.leLabels(h.bounds);
    const prefix = labels === '' ? '' : `${labels},`;
    const name = this.name;
    let cumulative = 0;
    let out = '';
    const ex = this.om ? h.exemplars : undefined;
    for (let i = 0; i < les.length; i++) {
      cumulative += h.buckets[i] ?? 0;
      out += `${name}_bucket{${prefix}${les[i]}} ${sampleText(cumulative)}${ex ? exemplarSuffix(ex[i]) : ''}\n`;
    }
    const braces = labels === '' ? '' : `{${labels}}`;
    this.buf += `${out}${name}_sum${braces} ${sampleText(h.sum)}\n${name}_count${braces} ${sampleText(cumulative)}\n`;
  }

  endFamily(): void {}
}

/** Pending text longer than this (in UTF-16 units) is moved into a slab right away, so it always fits one. */
const PENDING_MAX = 16 * 1024;

/**
 * A text writer that keeps each family's lines in its own list of chunks, so the same family can be
 * written piece by piece (a slice of endpoints at a time) and still come out as one group, with its
 * HELP and TYPE once. Families are output in the order first written. The chunks are views of slabs
 * from {@link RENDER_SLABS}, given back once `finish()` has copied them out: use a writer for one render.
 */
export class GroupedTextWriter extends TextWriter {
  private readonly groups = new Map<string, Buffer[]>();
  private current: Buffer[] = [];
  /** The slabs this render took, and where writing goes on in the last one. */
  private readonly slabs: Buffer[] = [];
  private slab: Buffer | undefined;
  private pos = 0;

  override family(info: MetricFamilyInfo): void {
    this.flush();
    let group = this.groups.get(info.name);
    if (group) {
      this.current = group;
      this.resume(info);
      return;
    }
    group = [];
    this.groups.set(info.name, group);
    this.current = group;
    super.family(info);
  }

  override sample(labels: string, value: number, exemplar?: Exemplar): void {
    super.sample(labels, value, exemplar);
    if (this.buf.length >= PENDING_MAX) this.flush();
  }

  override histogram(labels: string, h: HistogramData): void {
    super.histogram(labels, h);
    if (this.buf.length >= PENDING_MAX) this.flush();
  }

  /** Moves the pending text into the current family's chunks; call it often enough to keep strings short-lived. */
  flush(): void {
    const text = this.buf;
    if (text === '') return;
    this.buf = '';
    const pool = RENDER_SLABS;
    // UTF-8 takes at most 3 bytes per UTF-16 unit; text that could not fit a slab (one very long line) gets its own.
    const worst = text.length * 3;
    if (worst > pool.slabBytes) {
      this.current.push(Buffer.from(text, 'utf8'));
      return;
    }
    if (this.slab === undefined || pool.slabBytes - this.pos < worst) {
      this.slab = pool.take();
      this.slabs.push(this.slab);
      this.pos = 0;
    }
    const n = this.slab.write(text, this.pos, 'utf8');
    this.current.push(this.slab.subarray(this.pos, this.pos + n));
    this.pos += n;
  }

  /**
   * The whole exposition in one Buffer, copied piece by piece with `breathe()` between pieces, followed by `trailer`
   * (OpenMetrics' `# EOF`), which belongs to no family. The slabs go back to the pool after the copy.
   */
  async finish(breathe: () => Promise<void>, trailer = ''): Promise<Buffer> {
    this.flush();
    const parts = [...this.groups.values()].flat();
    if (trailer !== '') parts.push(Buffer.from(trailer, 'utf8'));
    const out = await joinPaced(parts, breathe);
    this.groups.clear();
    this.slab = undefined;
    RENDER_SLABS.give(this.slabs.splice(0));
    return out;
  }
}

/**
 * `parts` copied into one Buffer piece by piece, with `breathe()` after each piece (where an async caller may
 * yield), so joining a large exposition is never one long copy as `Buffer.concat` would be.
 */
export async function joinPaced(parts: readonly Buffer[], breathe: () => Promise<void>): Promise<Buffer> {
  let total = 0;
  for (const b of parts) total += b.length;
  const out = Buffer.allocUnsafe(total);
  let offset = 0;
  for (const b of parts) {
    offset += b.copy(out, offset);
    await breathe();
  }
  return out;
}

/**
 * Writes the state as Prometheus text 0.0.4 or OpenMetrics 1.0, in chunks of about 64 KiB so a
 * caller can yield to the event loop between them. Joining the chunks gives the whole exposition
 * (without OpenMetrics' final `# EOF`). Several states can be written side by side, each with
 * constant labels such as `worker`.
 */
export function* renderChunks(
  input: CollectorState | readonly StatePart[],
  format: ExpositionFormat,
  self: ExporterSelfState = { refusals: {} },
): Generator<string, void, undefined> {
  const w = new TextWriter(format === 'openmetrics');
  for (const _ of walkFamilies(partsOf(input), self, w)) {
    if (w.buf.length >= CHUNK) {
      yield w.buf;
      w.buf = '';
    }
  }
  if (w.buf !== '') yield w.buf;
}

/** The whole exposition as one string (joins {@link renderChunks}); OpenMetrics ends with `# EOF`. */
export function renderText(
  state: CollectorState | readonly StatePart[],
  format: ExpositionFormat = 'text',
  self?: ExporterSelfState,
): string {
  let out = '';
  for (const chunk of renderChunks(state, format, self)) out += chunk;
  return format === 'openmetrics' ? `${out}# EOF\n` : out;
}
