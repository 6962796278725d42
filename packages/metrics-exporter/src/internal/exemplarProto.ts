import type { Exemplar } from '@gatewayz/metrics-core';
import { exemplarLabels } from './exemplarText.js';
import { labelPair, type ProtoWriter } from './protoWriter.js';

/**
 * Writes `e` as an `io.prometheus.client.Exemplar` (labels = 1, value = 2, timestamp = 3) in field `field` of the
 * message `w` is writing (`Counter.exemplar` = 2, `Bucket.exemplar` = 3). Nothing for a missing or oversized one.
 */
export function writeExemplar(w: ProtoWriter, field: number, e: Exemplar | null | undefined): void {
  if (!e || typeof e !== 'object' || !Number.isFinite(e.value)) return;
  const pairs = exemplarLabels(e);
  if (!pairs) return;
  const x = w.open(field);
  for (const [k, v] of pairs) labelPair(w, k, v);
  w.double(2, e.value);
  if (Number.isFinite(e.timestampMs) && e.timestampMs >= 0) {
    const seconds = Math.floor(e.timestampMs / 1000);
    const nanos = Math.round((e.timestampMs - seconds * 1000) * 1e6);
    const t = w.open(3);
    w.uint(1, seconds);
    if (nanos > 0) w.uint(2, Math.min(nanos, 999_999_999));
    w.close(t);
  }
  w.close(x);
}
