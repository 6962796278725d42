import type { FamilyState } from '@gatewayz/metrics-core';

/** The aggregator's census, read back from the families it adds to its state. */
export function census(s: {
  families?: readonly FamilyState[];
}): { workers: number; answered: number; skippedTotal: number } | undefined {
  const workers = s.families?.find((f) => f.name === 'gatewayz_cluster_workers');
  const skipped = s.families?.find((f) => f.name === 'gatewayz_cluster_workers_skipped_total');
  if (!workers || !skipped) return undefined;
  const value = (state: string) => workers.series.find((x) => x.labels[0] === state)?.value ?? Number.NaN;
  const answered = value('answered');
  return { workers: answered + value('skipped'), answered, skippedTotal: skipped.series[0]?.value ?? Number.NaN };
}
