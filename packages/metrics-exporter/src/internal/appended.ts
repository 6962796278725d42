import type { MetricsSource } from '../exporter.js';
import { METRIC_FAMILIES } from '../families.js';
import type { ExpositionFormat, ScrapeFormat } from '../negotiate.js';
import type { AppendRefusalReason } from '../refusals.js';
import { type ParsedFamily, parseExposition } from './parseExposition.js';
import { dropClashes, renderParsedProtobuf, renderParsedText, reservedNames } from './renderParsed.js';

/** Reasons counted in `gatewayz_metrics_admin_refusals_total` when part of the `append` output is left out. */
export const APPEND_REASONS = {
  /** `append` threw, rejected or returned something other than a string: the scrape carries only our families. */
  error: 'append_error',
  /** An appended family whose name clashes with one of ours (or an earlier appended one): left out. */
  clash: 'append_clash',
  /** An appended line that is neither a sample nor a comment: left out. */
  invalidLine: 'append_invalid_line',
  /** `append` did not settle within `appendTimeoutMs`: the scrape carries only our families. */
  timeout: 'append_timeout',
} as const satisfies Record<string, AppendRefusalReason>;

/** How long a scrape waits for `append` by default, in milliseconds (Prometheus' own scrape timeout is 10 s). */
export const DEFAULT_APPEND_TIMEOUT_MS = 5000;

const TIMED_OUT: unique symbol = Symbol('timed out');

/** `value`, or `TIMED_OUT` once `ms` have passed; the timer never outlives the race. */
function within<T>(value: T | Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  if (!(value instanceof Promise)) return Promise.resolve(value);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(resolve, ms, TIMED_OUT);
  });
  return Promise.race([value, late]).finally(() => clearTimeout(timer));
}

let ours: ReadonlySet<string> | undefined;
/** Every series name our own families may write, in any format. */
function ourNames(): ReadonlySet<string> {
  if (!ours) {
    const names = new Set<string>();
    for (const f of Object.values(METRIC_FAMILIES)) {
      const base = f.type === 'counter' ? f.name.replace(/_total$/, '') : f.name;
      for (const n of reservedNames(base, f.type)) names.add(n);
      names.add(f.name);
    }
    ours = names;
  }
  return ours;
}

/**
 * Calls `append` and reads what it returns (0.0.4 or OpenMetrics text) into families that can be
 * rendered in any scrape format beside ours (the seed's families and the source's `declared` ones win any
 * clash). Never throws: failures, an `append` that has not settled
 * after `timeoutMs`, unreadable lines and families whose names clash with ours are left out and counted
 * under `count(reason, n)`.
 */
export async function readAppended(
  append: (format: ExpositionFormat) => string | Promise<string>,
  format: ScrapeFormat,
  count: (reason: AppendRefusalReason, n: number) => void,
  timeoutMs: number = DEFAULT_APPEND_TIMEOUT_MS,
  declared: readonly { name: string; type: 'counter' | 'gauge' | 'histogram' }[] = [],
): Promise<ParsedFamily[]> {
  let text: unknown;
  try {
    text = await within(append(format === 'protobuf' ? 'text' : format), timeoutMs);
  } catch {
    count(APPEND_REASONS.error, 1);
    return [];
  }
  if (text === TIMED_OUT) {
    count(APPEND_REASONS.timeout, 1);
    return [];
  }
  if (typeof text !== 'string') {
    count(APPEND_REASONS.error, 1);
    return [];
  }
  const parsed = parseExposition(text);
  if (parsed.invalidLines > 0) count(APPEND_REASONS.invalidLine, parsed.invalidLines);
  const taken = new Set(ourNames());
  for (const f of declared) {
    const base = f.type === 'counter' ? f.name.replace(/_total$/, '') : f.name;
    for (const n of reservedNames(base, f.type)) taken.add(n);
    taken.add(f.name);
  }
  const { kept, clashes } = dropClashes(parsed.families, taken);
  if (clashes > 0) count(APPEND_REASONS.clash, clashes);
  return kept;
}

/** The families `source` says it declares (a `MetricsCollector` can tell; an aggregator cannot); never throws. */
export function declaredOf(
  source: MetricsSource,
): readonly { name: string; type: 'counter' | 'gauge' | 'histogram' }[] {
  try {
    return source.declaredFamilies?.() ?? [];
  } catch {
    return [];
  }
}

/** The appended families as delimited protobuf `MetricFamily` messages. */
export function renderAppendedProtobuf(families: readonly ParsedFamily[]): Buffer {
  const bytes = renderParsedProtobuf(families);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The appended families as 0.0.4 or OpenMetrics lines (without `# EOF`). */
export function renderAppendedText(families: readonly ParsedFamily[], format: ExpositionFormat): string {
  return renderParsedText(families, format === 'openmetrics');
}
