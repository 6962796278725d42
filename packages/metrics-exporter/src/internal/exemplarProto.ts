import type { Exemplar } from '@gatewayz/metrics-core';
import { exemplarLabels } from './exemplarText.js';
import type { ProtoWriter } from './protoWriter.js';

/**
 * Writes `e` as an `io.prometheus.client.Exemplar` (labels = 1, value = 2, timestamp = 3) in field `field` of the
 * message `w` is writing (`Counter.exemplar` = 2, `Bucket.exemplar` = 3). Nothing for a missing or oversized one.
 */
export function writeExemplar(w: ProtoWriter, field: number, e: Exemplar | null | undefined): void {
  if (!e || typeof e !== 'object' || !Number.isFinite(e.value)) return;
  const pairs = exemplarLabels(e);
  if (!pairs) return;
  w.message(field, (x) => {
    for (const [k, v] of pairs) {
      x.message(1, (p) => {
        p.string(1, k);
        p.string(2, v);
      });
    }
    x.double(2, e.value);
    if (Number.isFinite(e.timestampMs) && e.timestampMs >= 0) {
      const seconds = Math.floor(e.timestampMs / 1000);
      const nanos = Math.round((e.timestampMs - seconds * 1000) * 1e6);
      x.message(3, (t) => {
        t.uint(1, seconds);
        if (nanos > 0) t.uint(2, Math.min(nanos, 999_999_999));
      });
    }
  });
}
