import { escapeHelp, escapeLabelValue, formatValue } from './escape.js';
import type { ParsedFamily, ParsedSample } from './parseExposition.js';
import { parseNumber, SUFFIXES } from './parseExposition.js';
import { labelPair, ProtoWriter } from './protoWriter.js';

/** Every series name a family may produce in any format (OpenMetrics counters add `_total` and `_created`). */
export function reservedNames(name: string, type: ParsedFamily['type']): string[] {
  const out = new Set<string>([name]);
  for (const s of SUFFIXES[type]) out.add(name + s);
  if (type === 'histogram' || type === 'summary' || type === 'counter') out.add(`${name}_created`);
  return [...out];
}

/**
 * Keeps the families whose names clash with nothing in `taken` (nor with an earlier kept family),
 * and adds their names to `taken`. Two families that share a series name make any format invalid.
 */
export function dropClashes(
  families: readonly ParsedFamily[],
  taken: Set<string>,
): { kept: ParsedFamily[]; clashes: number } {
  const kept: ParsedFamily[] = [];
  let clashes = 0;
  for (const f of families) {
    const names = reservedNames(f.name, f.type);
    if (f.type === 'counter') names.push(f.textName);
    if (names.some((n) => taken.has(n))) {
      clashes++;
      continue;
    }
    for (const n of names) taken.add(n);
    kept.push(f);
  }
  return { kept, clashes };
}

/** A family as 0.0.4 text and protobuf can carry it: one name, one of their five types. */
interface SimpleFamily {
  name: string;
  type: 'counter' | 'gauge' | 'untyped' | 'histogram' | 'summary';
  help?: string | undefined;
  /** Samples with the name each one is written under. */
  samples: { name: string; s: ParsedSample }[];
}

/**
 * Maps OpenMetrics-only shapes onto what 0.0.4 and protobuf have, as Prometheus ingests them: an info
 * family becomes the gauge `<name>_info`, a stateset a gauge, a gauge histogram three gauges
 * (`_bucket`, `_gcount`, `_gsum`). `_created` samples are left out (0.0.4 has no place for them).
 */
function simplify(f: ParsedFamily): SimpleFamily[] {
  const named = (suffix: string, base = f.name) =>
    f.samples.filter((s) => s.suffix === suffix).map((s) => ({ name: base + suffix, s }));
  const withSuffixes = (suffixes: string[]) =>
    f.samples.filter((s) => suffixes.includes(s.suffix)).map((s) => ({ name: f.name + s.suffix, s }));
  switch (f.type) {
    case 'counter':
      return [
        {
          name: f.textName,
          type: 'counter',
          help: f.help,
          samples: f.samples.filter((s) => s.suffix === '_total').map((s) => ({ name: f.textName, s })),
        },
      ];
    case 'gauge':
    case 'stateset':
      return [{ name: f.name, type: 'gauge', help: f.help, samples: named('') }];
    case 'untyped':
      return [{ name: f.name, type: 'untyped', help: f.help, samples: named('') }];
    case 'info':
      return [{ name: `${f.name}_info`, type: 'gauge', help: f.help, samples: named('_info') }];
    case 'histogram':
      return [{ name: f.name, type: 'histogram', help: f.help, samples: withSuffixes(['_bucket', '_sum', '_count']) }];
    case 'summary':
      return [{ name: f.name, type: 'summary', help: f.help, samples: withSuffixes(['', '_sum', '_count']) }];
    case 'gaugehistogram':
      return ['_bucket', '_gcount', '_gsum'].map((x) => ({
        name: f.name + x,
        type: 'gauge' as const,
        help: f.help,
        samples: named(x),
      }));
  }
}

function labelText(labels: readonly [string, string][]): string {
  if (labels.length === 0) return '';
  let s = '';
  for (const [k, v] of labels) s += `${s === '' ? '' : ','}${k}="${escapeLabelValue(v)}"`;
  return `{${s}}`;
}

function sampleLine(name: string, s: ParsedSample, om: boolean): string {
  let line = `${name}${labelText(s.labels)} ${formatValue(s.value)}`;
  if (s.timestampMs !== undefined) line += ` ${om ? formatValue(s.timestampMs / 1000) : Math.round(s.timestampMs)}`;
  return `${line}\n`;
}

/** Families as Prometheus text 0.0.4 (`om` false) or OpenMetrics 1.0 lines, without `# EOF`. */
export function renderParsedText(families: readonly ParsedFamily[], om: boolean): string {
  let out = '';
  for (const f of families) {
    if (f.samples.length === 0) continue;
    if (!om) {
      for (const sf of simplify(f)) {
        if (sf.samples.length === 0) continue;
        if (sf.help !== undefined) out += `# HELP ${sf.name} ${escapeHelp(sf.help)}\n`;
        out += `# TYPE ${sf.name} ${sf.type}\n`;
        for (const { name, s } of sf.samples) out += sampleLine(name, s, false);
      }
      continue;
    }
    const type = f.type === 'untyped' ? 'unknown' : f.type;
    if (f.help !== undefined) out += `# HELP ${f.name} ${escapeHelp(f.help).replace(/"/g, '\\"')}\n`;
    out += `# TYPE ${f.name} ${type}\n`;
    if (f.unit && f.unit !== '' && f.name.endsWith(`_${f.unit}`)) out += `# UNIT ${f.name} ${f.unit}\n`;
    for (const s of f.samples) out += sampleLine(f.name + s.suffix, s, true);
  }
  return out;
}

const PROTO_TYPE = { counter: 0, gauge: 1, summary: 2, untyped: 3, histogram: 4 } as const;

const count = (v: number) => (Number.isFinite(v) && v > 0 ? Math.round(v) : 0);

/** Groups a histogram's or summary's samples by their labels without `le` / `quantile`, in order of appearance. */
function groups(samples: SimpleFamily['samples'], special: string) {
  const out = new Map<
    string,
    { labels: [string, string][]; items: { name: string; s: ParsedSample; at?: number }[] }
  >();
  for (const item of samples) {
    let at: number | undefined;
    const labels: [string, string][] = [];
    for (const pair of item.s.labels) {
      if (pair[0] === special) at = parseNumber(pair[1]) ?? Number.NaN;
      else labels.push(pair);
    }
    const key = JSON.stringify(labels);
    let g = out.get(key);
    if (!g) {
      g = { labels, items: [] };
      out.set(key, g);
    }
    g.items.push(at === undefined ? item : { ...item, at });
  }
  return out.values();
}

function labelPairs(w: ProtoWriter, labels: readonly [string, string][]): void {
  for (const [k, v] of labels) labelPair(w, k, v);
}

function timestamp(w: ProtoWriter, s: ParsedSample): void {
  const ms = s.timestampMs;
  if (ms !== undefined && Number.isFinite(ms) && ms >= 0) w.uint(6, Math.round(ms));
}

/**
 * Families as delimited `io.prometheus.client.MetricFamily` messages, as {@link renderProtobuf} writes
 * ours: counters, gauges, untyped, classic histograms (the `+Inf` bucket is implied by the count) and
 * summaries.
 */
export function renderParsedProtobuf(families: readonly ParsedFamily[]): Uint8Array {
  const out = new ProtoWriter();
  for (const f of families) {
    for (const sf of simplify(f)) {
      if (sf.samples.length === 0) continue;
      const fw = new ProtoWriter();
      fw.string(1, sf.name);
      if (sf.help) fw.string(2, sf.help);
      fw.uint(3, PROTO_TYPE[sf.type]);
      if (sf.type === 'histogram' || sf.type === 'summary') {
        const histogram = sf.type === 'histogram';
        for (const g of groups(sf.samples, histogram ? 'le' : 'quantile')) {
          const m = new ProtoWriter();
          labelPairs(m, g.labels);
          let sum = 0;
          let total: number | undefined;
          let inf: number | undefined;
          const points: [number, number][] = [];
          let first: ParsedSample | undefined;
          for (const { s, at } of g.items) {
            first ??= s;
            if (s.suffix === '_sum') sum = s.value;
            else if (s.suffix === '_count') total = s.value;
            else if (at !== undefined && !Number.isNaN(at)) {
              if (histogram && at === Number.POSITIVE_INFINITY) inf = s.value;
              else points.push([at, s.value]);
            }
          }
          if (histogram) points.sort((a, b) => a[0] - b[0]);
          m.message(histogram ? 7 : 4, (h) => {
            h.uint(1, count(total ?? inf ?? 0));
            h.double(2, sum);
            for (const [at, v] of points) {
              h.message(3, (b) => {
                if (histogram) {
                  b.uint(1, count(v));
                  b.double(2, at);
                } else {
                  b.double(1, at);
                  b.double(2, v);
                }
              });
            }
          });
          if (first) timestamp(m, first);
          fw.bytes(4, m.finish().slice());
        }
      } else {
        const field = sf.type === 'counter' ? 3 : sf.type === 'gauge' ? 2 : 5;
        for (const { s } of sf.samples) {
          const m = new ProtoWriter();
          labelPairs(m, s.labels);
          m.message(field, (v) => v.double(1, s.value));
          timestamp(m, s);
          fw.bytes(4, m.finish().slice());
        }
      }
      out.delimited(fw.finish());
    }
  }
  return out.finish();
}
