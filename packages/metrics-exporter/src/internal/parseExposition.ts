/** Family types of the text formats: 0.0.4 (`untyped`) and OpenMetrics 1.0 (`unknown`, `info`, ...). */
export type ParsedType =
  | 'counter'
  | 'gauge'
  | 'histogram'
  | 'summary'
  | 'untyped'
  | 'info'
  | 'stateset'
  | 'gaugehistogram';

export interface ParsedSample {
  /** What follows the family name: `''`, `_total`, `_created`, `_bucket`, `_sum`, `_count`, `_gcount`, `_gsum`, `_info`. */
  suffix: string;
  labels: [string, string][];
  value: number;
  /** Milliseconds since the epoch, when the line had a timestamp. */
  timestampMs?: number;
}

/** One family of an exposition, named as OpenMetrics names it (a counter without `_total`). */
export interface ParsedFamily {
  name: string;
  type: ParsedType;
  help?: string;
  unit?: string;
  /** A counter's name in 0.0.4: with `_total` when the input had it. */
  textName: string;
  samples: ParsedSample[];
}

export interface ParsedExposition {
  families: ParsedFamily[];
  /** Lines that could not be read and were left out. */
  invalidLines: number;
}

const TYPES: Record<string, ParsedType> = {
  counter: 'counter',
  gauge: 'gauge',
  histogram: 'histogram',
  summary: 'summary',
  untyped: 'untyped',
  unknown: 'untyped',
  info: 'info',
  stateset: 'stateset',
  gaugehistogram: 'gaugehistogram',
};

/** The sample-name suffixes each type allows after its family name. */
export const SUFFIXES: Record<ParsedType, readonly string[]> = {
  counter: ['_total', '_created'],
  gauge: [''],
  untyped: [''],
  stateset: [''],
  info: ['_info'],
  histogram: ['_bucket', '_sum', '_count', '_created'],
  summary: ['', '_sum', '_count', '_created'],
  gaugehistogram: ['_bucket', '_gcount', '_gsum'],
};

const isNameStart = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const isDigit = (c: number) => c >= 48 && c <= 57;
const COLON = 58;

/** Length of the metric (`colon`) or label name at `s[i]`, 0 when there is none. */
function nameLength(s: string, i: number, colon: boolean): number {
  let j = i;
  while (j < s.length) {
    const c = s.charCodeAt(j);
    if (isNameStart(c) || (colon && c === COLON) || (j > i && isDigit(c))) j++;
    else break;
  }
  return j - i;
}

/** A sample value or timestamp as both formats spell it (`NaN`, `+Inf`, any case, as Go's ParseFloat takes them). */
export function parseNumber(s: string): number | undefined {
  if (s === '') return undefined;
  const lower = s.toLowerCase();
  if (lower === 'nan') return Number.NaN;
  if (lower === '+inf' || lower === 'inf') return Number.POSITIVE_INFINITY;
  if (lower === '-inf') return Number.NEGATIVE_INFINITY;
  const n = Number(s);
  return Number.isNaN(n) ? undefined : n;
}

function unescapeText(s: string, quote: boolean): string {
  if (!s.includes('\\')) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\' || i + 1 >= s.length) {
      out += c;
      continue;
    }
    const n = s[++i]!;
    if (n === 'n') out += '\n';
    else if (n === '\\') out += '\\';
    else if (n === '"' && quote) out += '"';
    else out += `\\${n}`;
  }
  return out;
}

interface SampleLine {
  name: string;
  labels: [string, string][];
  value: number;
  timestamp?: number;
}

/** Reads `name{l="v",...} value [timestamp] [# exemplar]`, or undefined when the line is not one. */
function parseSampleLine(line: string): SampleLine | undefined {
  const n = nameLength(line, 0, true);
  if (n === 0) return undefined;
  const name = line.slice(0, n);
  let i = n;
  const labels: [string, string][] = [];
  if (line.charCodeAt(i) === 123 /* { */) {
    i++;
    for (;;) {
      while (line[i] === ' ' || line[i] === '\t') i++;
      if (line[i] === '}') {
        i++;
        break;
      }
      const ln = nameLength(line, i, false);
      if (ln === 0) return undefined;
      const key = line.slice(i, i + ln);
      i += ln;
      while (line[i] === ' ' || line[i] === '\t') i++;
      if (line[i] !== '=') return undefined;
      i++;
      while (line[i] === ' ' || line[i] === '\t') i++;
      if (line[i] !== '"') return undefined;
      const start = ++i;
      let escaped = false;
      while (i < line.length) {
        const c = line[i];
        if (c === '\\') {
          escaped = true;
          i += 2;
        } else if (c === '"') break;
        else i++;
      }
      if (i >= line.length) return undefined;
      const raw = line.slice(start, i);
      labels.push([key, escaped ? unescapeText(raw, true) : raw]);
      i++;
      while (line[i] === ' ' || line[i] === '\t') i++;
      if (line[i] === ',') i++;
      else if (line[i] !== '}') return undefined;
    }
  }
  if (line[i] !== ' ' && line[i] !== '\t') return undefined;
  const rest = line.slice(i).trim();
  const hash = rest.indexOf(' # ');
  const parts = (hash >= 0 ? rest.slice(0, hash) : rest).split(/[ \t]+/);
  if (parts.length > 2) return undefined;
  const value = parseNumber(parts[0] ?? '');
  if (value === undefined) return undefined;
  if (parts.length === 1) return { name, labels, value };
  const timestamp = parseNumber(parts[1]!);
  if (timestamp === undefined || !Number.isFinite(timestamp)) return undefined;
  return { name, labels, value, timestamp };
}

/**
 * Reads a Prometheus text 0.0.4 or OpenMetrics 1.0 exposition (what prom-client's `register.metrics()`
 * returns in either mode) into families. Tolerant: blank lines, other comments and exemplars are
 * skipped, lines that cannot be read are counted and left out, and nothing after `# EOF` is read.
 * Linear in the input; no regular expression can backtrack.
 */
export function parseExposition(text: string): ParsedExposition {
  const families: ParsedFamily[] = [];
  let invalidLines = 0;
  const openMetrics = /(^|\n)# EOF[ \t\r]*(\n|$)/.test(text);
  let current: ParsedFamily | undefined;
  /** Whether `current` still takes a HELP/TYPE/UNIT line: no samples yet. */
  let open = false;
  let typed = false;

  const start = (name: string): ParsedFamily => {
    current = { name, type: 'untyped', textName: name, samples: [] };
    families.push(current);
    open = true;
    typed = false;
    return current;
  };
  const header = (name: string): ParsedFamily =>
    current && open && (current.name === name || current.textName === name) ? current : start(name);

  let pos = 0;
  while (pos <= text.length) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    let line = text.slice(pos, end);
    pos = end + 1;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      // `s`: HELP text may hold U+2028/U+2029, which `.` does not match otherwise.
      const m = /^#[ \t]+(HELP|TYPE|UNIT|EOF)(?:[ \t]+([^ \t]+))?(?:[ \t](.*))?$/s.exec(line);
      if (!m) continue; // another comment
      const [, kind, name = '', rest = ''] = m;
      if (kind === 'EOF') break;
      if (nameLength(name, 0, true) !== name.length || name === '') {
        invalidLines++;
        continue;
      }
      if (kind === 'HELP') {
        const f = header(name);
        if (f.help === undefined) f.help = unescapeText(rest, openMetrics);
        else if (f === current) start(name).help = unescapeText(rest, openMetrics);
      } else if (kind === 'TYPE') {
        const type = TYPES[rest.trim().toLowerCase()];
        if (!type) {
          invalidLines++;
          continue;
        }
        let f = header(name);
        if (typed) f = start(name);
        typed = true;
        f.type = type;
        if (type === 'counter' && name.endsWith('_total')) {
          f.name = name.slice(0, -'_total'.length);
          f.textName = name;
        } else if (type === 'counter') {
          f.textName = openMetrics ? `${name}_total` : name;
        }
      } else {
        const f = header(name);
        f.unit = rest.trim();
      }
      continue;
    }
    const s = parseSampleLine(line);
    if (!s) {
      invalidLines++;
      continue;
    }
    let f = current;
    let suffix: string | undefined;
    if (f) {
      if (f.type === 'counter' && s.name === f.textName) suffix = '_total';
      else {
        for (const x of SUFFIXES[f.type]) {
          if (s.name.length === f.name.length + x.length && s.name.startsWith(f.name) && s.name.endsWith(x)) {
            suffix = x;
            break;
          }
        }
      }
    }
    if (!f || suffix === undefined) {
      f = start(s.name);
      suffix = '';
    }
    open = false;
    const sample: ParsedSample = { suffix, labels: s.labels, value: s.value };
    if (s.timestamp !== undefined) sample.timestampMs = openMetrics ? s.timestamp * 1000 : s.timestamp;
    f.samples.push(sample);
  }
  return { families, invalidLines };
}
