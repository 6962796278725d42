/** The trace a request belongs to, in plain values (e.g. from a W3C `traceparent` header or an OpenTelemetry span). */
export interface ExemplarInput {
  /** 32 lower-case hex digits, not all zero. */
  traceId: string;
  /** 16 lower-case hex digits, not all zero. */
  spanId?: string | undefined;
}

/** One kept exemplar: the trace, the observed value, and when it was recorded (ms since the epoch). */
export interface Exemplar {
  traceId: string;
  spanId?: string;
  value: number;
  timestampMs: number;
}

/** True when `v` is exactly `length` lower-case hex digits, not all zero (one pass, no regexp). */
function lowerHexId(v: unknown, length: number): v is string {
  if (typeof v !== 'string' || v.length !== length) return false;
  let nonZero = false;
  for (let i = 0; i < length; i++) {
    const c = v.charCodeAt(i);
    if (c > 48 && c <= 57) nonZero = true;
    else if (c >= 97 && c <= 102) nonZero = true;
    else if (c !== 48) return false;
  }
  return nonZero;
}

/** True when `id` is a valid W3C trace id (32 lower-hex digits, not all zero). */
export const isTraceId = (id: unknown): id is string => lowerHexId(id, 32);

/** True when `id` is a valid W3C span (parent) id (16 lower-hex digits, not all zero). */
export const isSpanId = (id: unknown): id is string => lowerHexId(id, 16);

/** The exemplar for `input`, or `undefined` when it is malformed (then nothing of it may reach a label). */
export function makeExemplar(input: unknown, value: number, timestampMs: number): Exemplar | undefined {
  if (input === null || typeof input !== 'object') return undefined;
  const { traceId, spanId } = input as ExemplarInput;
  if (!isTraceId(traceId)) return undefined;
  if (spanId === undefined) return { traceId, value, timestampMs };
  return isSpanId(spanId) ? { traceId, spanId, value, timestampMs } : undefined;
}

/** The later of two exemplars (by timestamp; `b` wins a tie, as the one merged in). */
export const laterExemplar = (a: Exemplar | null | undefined, b: Exemplar | null | undefined): Exemplar | null =>
  (b && (!a || b.timestampMs >= a.timestampMs) ? b : a) ?? null;

/** Merges per-bucket exemplar lists, keeping the latest in each bucket. */
export function mergeExemplarLists(
  a: readonly (Exemplar | null)[] | undefined,
  b: readonly (Exemplar | null)[] | undefined,
): (Exemplar | null)[] | undefined {
  if (!b) return a ? [...a] : undefined;
  if (!a) return [...b];
  const n = Math.max(a.length, b.length);
  const out: (Exemplar | null)[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = laterExemplar(a[i], b[i]);
  return out;
}
