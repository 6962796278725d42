/**
 * A small, strict parser for the Prometheus text format 0.0.4 and OpenMetrics 1.0 text, for tests.
 * It throws on anything the specs do not allow (or that we never emit): blank lines, unknown
 * escapes, raw newlines, a sample without HELP and TYPE, a sample outside its family, duplicate
 * families, duplicate series, duplicate label names, bad numbers.
 */

export interface Sample {
  name: string;
  family: string;
  labels: Record<string, string>;
  value: number;
  /** The value as written. */
  rawValue: string;
  line: string;
  /** The OpenMetrics exemplar of the sample, if it has one. */
  exemplar?: { labels: Record<string, string>; value: number; timestamp?: number };
}

export interface Family {
  name: string;
  type: string;
  help: string;
  samples: Sample[];
}

export interface Exposition {
  families: Map<string, Family>;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const OM_TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'unknown', 'gaugehistogram', 'stateset', 'info']);

export type Format = 'text' | 'openmetrics';

export class ParseError extends Error {
  constructor(lineNo: number, line: string, why: string) {
    super(`line ${lineNo}: ${why}: ${JSON.stringify(line.length > 200 ? `${line.slice(0, 200)}…` : line)}`);
  }
}

/** Unescapes HELP text: 0.0.4 allows `\\` and `\n`; OpenMetrics also `\"`. */
export function unescapeHelp(s: string, format: Format = 'text'): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\') {
      if (format === 'openmetrics' && c === '"') throw new Error('unescaped " in OpenMetrics HELP');
      out += c;
      continue;
    }
    const n = s[++i];
    if (n === '\\') out += '\\';
    else if (n === 'n') out += '\n';
    else if (n === '"' && format === 'openmetrics') out += '"';
    else throw new Error(`bad escape \\${n ?? '<end>'} in HELP`);
  }
  return out;
}

export function parseNumber(v: string): number {
  if (v === 'NaN') return Number.NaN;
  if (v === '+Inf') return Number.POSITIVE_INFINITY;
  if (v === '-Inf') return Number.NEGATIVE_INFINITY;
  if (!NUMBER.test(v)) throw new Error(`bad number ${JSON.stringify(v)}`);
  return Number(v);
}

/** Parses `{a="x",b="y"}` starting at `s[i] === '{'`; returns the labels and the index after `}`. */
function parseLabels(s: string, start: number): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let i = start + 1;
  if (s[i] === '}') return { labels, end: i + 1 };
  for (;;) {
    const eq = s.indexOf('=', i);
    if (eq < 0) throw new Error('label without =');
    const key = s.slice(i, eq);
    if (!LABEL_NAME.test(key)) throw new Error(`bad label name ${JSON.stringify(key)}`);
    if (key in labels) throw new Error(`duplicate label ${key}`);
    if (s[eq + 1] !== '"') throw new Error('label value must be quoted');
    i = eq + 2;
    let v = '';
    for (;;) {
      const c = s[i];
      if (c === undefined) throw new Error('unterminated label value');
      if (c === '"') break;
      if (c === '\n') throw new Error('raw newline in label value');
      if (c === '\\') {
        const n = s[i + 1];
        if (n === '\\') v += '\\';
        else if (n === '"') v += '"';
        else if (n === 'n') v += '\n';
        else throw new Error(`bad escape \\${n ?? '<end>'} in label value`);
        i += 2;
        continue;
      }
      v += c;
      i++;
    }
    labels[key] = v;
    i++;
    if (s[i] === ',') {
      i++;
      if (s[i] === '}') return { labels, end: i + 1 }; // trailing comma is allowed by both formats
      continue;
    }
    if (s[i] === '}') return { labels, end: i + 1 };
    throw new Error(`expected , or } after label ${key}`);
  }
}

function sampleSuffixOk(family: Family, sampleName: string, format: Format): boolean {
  const base = family.name;
  switch (family.type) {
    case 'counter':
      return format === 'openmetrics'
        ? sampleName === `${base}_total` || sampleName === `${base}_created`
        : sampleName === base;
    case 'histogram':
      return [`${base}_bucket`, `${base}_sum`, `${base}_count`].includes(sampleName);
    case 'summary':
      return [base, `${base}_sum`, `${base}_count`].includes(sampleName);
    default:
      return sampleName === base;
  }
}

/** The identity of a series: name plus sorted labels, with empty label values dropped (they equal absent ones). */
export function seriesKey(name: string, labels: Record<string, string>): string {
  const parts = Object.entries(labels)
    .filter(([, v]) => v !== '')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return `${name}{${parts.join(',')}}`;
}

export function parseExposition(text: string, format: Format = 'text'): Exposition {
  const families = new Map<string, Family>();
  const samples: Sample[] = [];
  const seen = new Set<string>();
  if (text === '') return { families, samples };
  if (!text.endsWith('\n')) throw new Error('exposition must end with a newline');
  const lines = text.slice(0, -1).split('\n');
  let current: Family | undefined;
  let pendingHelp: { name: string; help: string } | undefined;
  let eof = false;
  for (const [idx, line] of lines.entries()) {
    const no = idx + 1;
    const fail = (why: string): never => {
      throw new ParseError(no, line, why);
    };
    if (eof) fail('content after # EOF');
    if (line === '') fail('blank line');
    if (line.startsWith('#')) {
      if (format === 'openmetrics' && line === '# EOF') {
        eof = true;
        continue;
      }
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/s.exec(line);
      if (!m) fail('unexpected comment');
      const [, kind, name, rest] = m as unknown as [string, string, string, string];
      if (!NAME.test(name)) fail('bad metric name');
      if (families.has(name)) fail(`family ${name} declared twice`);
      if (kind === 'HELP') {
        if (pendingHelp) fail('HELP without TYPE');
        try {
          pendingHelp = { name, help: unescapeHelp(rest, format) };
        } catch (e) {
          fail((e as Error).message);
        }
      } else {
        if (!pendingHelp || pendingHelp.name !== name) fail('TYPE without a preceding HELP for the same family');
        if (!(format === 'openmetrics' ? OM_TYPES : TYPES).has(rest)) fail(`bad type ${rest}`);
        if (format === 'openmetrics' && rest === 'counter' && name.endsWith('_total'))
          fail('OpenMetrics counter family ends in _total');
        current = { name, type: rest, help: pendingHelp!.help, samples: [] };
        families.set(name, current);
        pendingHelp = undefined;
      }
      continue;
    }
    if (pendingHelp) fail('HELP without TYPE');
    const nameEnd = line.search(/[{ ]/);
    if (nameEnd <= 0) fail('no metric name');
    const name = line.slice(0, nameEnd);
    if (!NAME.test(name)) fail('bad metric name');
    let labels: Record<string, string> = {};
    let i = nameEnd;
    if (line[i] === '{') {
      try {
        ({ labels, end: i } = parseLabels(line, i));
      } catch (e) {
        fail((e as Error).message);
      }
    }
    if (line[i] !== ' ') fail('expected one space before the value');
    let tail = line.slice(i + 1);
    let exemplar: Sample['exemplar'];
    const hash = tail.indexOf(' # {');
    if (hash >= 0) {
      // OpenMetrics exemplar: only on counter `_total` and histogram `_bucket` samples, labels ≤ 128 characters.
      if (format !== 'openmetrics') fail('exemplar outside OpenMetrics');
      if (!name.endsWith('_total') && !name.endsWith('_bucket')) fail('exemplar on a sample that may not have one');
      let ex: ReturnType<typeof parseLabels> = { labels: {}, end: 0 };
      try {
        ex = parseLabels(tail, hash + 3);
      } catch (e) {
        fail((e as Error).message);
      }
      const chars = Object.entries(ex.labels).reduce((n, [k, v]) => n + k.length + [...v].length, 0);
      if (chars > 128) fail('exemplar label set longer than 128 characters');
      const parts = tail.slice(ex.end).split(' ');
      if (parts[0] !== '' || parts.length < 2 || parts.length > 3 || parts.slice(1).some((p) => p === ''))
        fail('expected exemplar value [timestamp]');
      try {
        exemplar = {
          labels: ex.labels,
          value: parseNumber(parts[1]!),
          ...(parts[2] ? { timestamp: parseNumber(parts[2]) } : {}),
        };
      } catch (e) {
        fail((e as Error).message);
      }
      tail = tail.slice(0, hash);
    }
    const rest = tail.split(' ');
    if (rest.length < 1 || rest.length > 2 || rest.some((p) => p === '')) fail('expected value [timestamp]');
    const rawValue = rest[0]!;
    let value = 0;
    try {
      value = parseNumber(rawValue);
    } catch (e) {
      fail((e as Error).message);
    }
    if (!current) fail('sample before any TYPE');
    if (!sampleSuffixOk(current!, name, format))
      fail(`sample ${name} does not belong to family ${current!.name} (${current!.type})`);
    const key = seriesKey(name, labels);
    if (seen.has(key)) fail(`duplicate series ${key}`);
    seen.add(key);
    const s: Sample = { name, family: current!.name, labels, value, rawValue, line, ...(exemplar ? { exemplar } : {}) };
    current!.samples.push(s);
    samples.push(s);
  }
  if (pendingHelp) throw new Error('HELP without TYPE at end');
  if (format === 'openmetrics' && !eof) throw new Error('OpenMetrics exposition without # EOF');
  return { families, samples };
}

/** Samples keyed by series identity, for comparisons that ignore order. */
export function sampleMap(e: Exposition): Map<string, string> {
  return new Map(e.samples.map((s) => [seriesKey(s.name, s.labels), s.rawValue]));
}
