import type { ExemplarInput } from '@gatewayz/metrics-core';

/** W3C Trace Context, version 00: `00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`, lower case only. */
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;
const ALL_ZERO_TRACE = '0'.repeat(32);
const ALL_ZERO_SPAN = '0'.repeat(16);

/**
 * The trace and parent span of a `traceparent` header, or `undefined` for anything that is not exactly a
 * valid version-00 header (other versions, upper case, all-zero ids, extra text, a repeated header):
 * nothing a client sends reaches a label unless it is 48 hex digits.
 */
export function parseTraceparent(header: unknown): ExemplarInput | undefined {
  if (typeof header !== 'string' || header.length !== 55) return undefined;
  const m = TRACEPARENT.exec(header);
  if (!m) return undefined;
  const traceId = m[1]!;
  const spanId = m[2]!;
  if (traceId === ALL_ZERO_TRACE || spanId === ALL_ZERO_SPAN) return undefined;
  return { traceId, spanId };
}

/** Where `@opentelemetry/api` 1.x registers its global context manager (and tracer provider). */
const OTEL_API_KEY = Symbol.for('opentelemetry.js.api.1');
/** The context key under which the API keeps the active span (`Symbol.for` by its description). */
const SPAN_KEY = Symbol.for('OpenTelemetry Context Key SPAN');
const TRACE_ID = /^[0-9a-f]{32}$/;
const SPAN_ID = /^[0-9a-f]{16}$/;

interface OtelGlobal {
  context?: { active?: () => { getValue?: (key: symbol) => unknown } | undefined };
}
interface OtelSpan {
  spanContext?: () => { traceId?: unknown; spanId?: unknown } | undefined;
}

/**
 * The active OpenTelemetry span's trace, when the app uses `@opentelemetry/api` with a context manager;
 * otherwise `undefined`. Reads the API's own global registration (one symbol lookup when OpenTelemetry is
 * absent), so this package never imports or requires the API. Never throws.
 */
export function activeSpanExemplar(): ExemplarInput | undefined {
  const api = (globalThis as Record<symbol, OtelGlobal | undefined>)[OTEL_API_KEY];
  if (api?.context === undefined) return undefined;
  try {
    const span = api.context.active?.()?.getValue?.(SPAN_KEY) as OtelSpan | undefined;
    const sc = span?.spanContext?.();
    if (!sc) return undefined;
    const { traceId, spanId } = sc;
    if (typeof traceId !== 'string' || !TRACE_ID.test(traceId) || traceId === ALL_ZERO_TRACE) return undefined;
    if (typeof spanId === 'string' && SPAN_ID.test(spanId) && spanId !== ALL_ZERO_SPAN) return { traceId, spanId };
    return { traceId };
  } catch {
    return undefined;
  }
}

/** The trace of a request: its `traceparent` header when valid, else the active OpenTelemetry span. */
export function requestExemplar(headers: { readonly [name: string]: unknown } | undefined): ExemplarInput | undefined {
  const header = headers?.traceparent;
  return (header === undefined ? undefined : parseTraceparent(header)) ?? activeSpanExemplar();
}
