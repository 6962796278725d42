import { type CollectorState, type EndpointState, mergeFamilies, mergeStates } from '@gatewayz/metrics-core';
import { coalescedExemplars } from './exemplarText.js';

function hasDuplicates<T>(list: readonly T[], key: (t: T) => string): boolean {
  if (list.length < 2) return false;
  const seen = new Set<string>();
  for (const t of list) {
    const k = key(t);
    if (seen.has(k)) return true;
    seen.add(k);
  }
  return false;
}

function coalesce<T>(list: T[], key: (t: T) => string, add: (a: T, b: T) => T): T[] {
  const byKey = new Map<string, T>();
  for (const t of list) {
    const k = key(t);
    const prev = byKey.get(k);
    byKey.set(k, prev === undefined ? t : add(prev, t));
  }
  return [...byKey.values()];
}

const innerDuplicates = (e: EndpointState) =>
  hasDuplicates(e.methods, (m) => m.method) || hasDuplicates(e.statuses, (s) => s.status);

/**
 * Returns a state in which every label value appears once per list, so that every rendered series is
 * unique. A collector's state normally is; duplicates come from a label value that collides with
 * the overflow value, or from a hand-built or custom source. Duplicates are summed (windows merged),
 * as `mergeStates` merges collectors. The input is not modified; without duplicates it is returned as is.
 */
export function uniqueSeries(state: CollectorState): CollectorState {
  let s = state;
  if (
    hasDuplicates(s.endpoints, (e) => e.endpoint) ||
    hasDuplicates(s.providers, (p) => p.label) ||
    hasDuplicates(s.models, (p) => p.label) ||
    hasDuplicates(s.services, (p) => p.label) ||
    hasDuplicates(s.inFlight ?? [], (f) => f.endpoint)
  ) {
    s = { ...mergeStates([s]), cardinality: state.cardinality };
  }
  if (s.endpoints.some(innerDuplicates)) {
    s = {
      ...s,
      endpoints: s.endpoints.map((e) =>
        innerDuplicates(e)
          ? {
              ...e,
              methods: coalesce(
                e.methods,
                (m) => m.method,
                (a, b) => ({
                  method: a.method,
                  requests: a.requests + b.requests,
                  errors: a.errors + b.errors,
                  buckets: a.buckets.map((n, i) => n + (b.buckets[i] ?? 0)),
                  sum: a.sum + b.sum,
                  count: a.count + b.count,
                  ...coalescedExemplars(a, b),
                }),
              ),
              statuses: coalesce(
                e.statuses,
                (x) => x.status,
                (a, b) => ({ status: a.status, count: a.count + b.count }),
              ),
            }
          : e,
      ),
    };
  }
  if (s.families?.some((f) => hasDuplicates(f.series, (x) => x.labels.join('\u0000')))) {
    s = { ...s, families: mergeFamilies([s.families]) };
  }
  return s;
}
