import type { Exemplar } from '@gatewayz/metrics-core';
import { escapeLabelValue, formatValue } from './escape.js';

/** OpenMetrics: an exemplar's label names and values together hold at most 128 UTF-8 characters. */
export const EXEMPLAR_LABELS_MAX = 128;

/** The exemplar's label pairs, or `undefined` when they are too long for OpenMetrics (then it is not shown). */
export function exemplarLabels(e: Exemplar): [string, string][] | undefined {
  const pairs: [string, string][] = [['trace_id', String(e.traceId)]];
  if (e.spanId) pairs.push(['span_id', String(e.spanId)]);
  let chars = 0;
  for (const [k, v] of pairs) chars += k.length + [...v].length;
  return chars <= EXEMPLAR_LABELS_MAX ? pairs : undefined;
}

/** ` # {trace_id="…",span_id="…"} value timestamp` for an OpenMetrics sample line, or `''`. */
export function exemplarSuffix(e: Exemplar | null | undefined): string {
  if (!e || typeof e !== 'object') return '';
  const pairs = exemplarLabels(e);
  if (!pairs || !Number.isFinite(e.value)) return '';
  const labels = pairs.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(',');
  const ts = Number.isFinite(e.timestampMs) ? ` ${(e.timestampMs / 1000).toFixed(3)}` : '';
  return ` # {${labels}} ${formatValue(e.value)}${ts}`;
}
