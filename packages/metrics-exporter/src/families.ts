import { SEED_FAMILIES, type SeedFamilyInfo } from '@gatewayz/metrics-core';

/** One metric family this toolkit writes: name, type and help, for docs and tests. */
export type MetricFamilyInfo = SeedFamilyInfo;

/**
 * Every fixed metric family the toolkit writes, in output order, with its type, labels and help: the seed's and
 * the collector's own (declared in `@gatewayz/metrics-core`, whose state carries them), the exporter's refusals,
 * and the census a cluster aggregator adds. Declared families (`collector.counter()` and the like, the runtime
 * and AI families) come from the state and are not listed. The quantile families state the error bound at the
 * default `sketchScale`.
 */
export const METRIC_FAMILIES = {
  ...SEED_FAMILIES,
  refusals: {
    name: 'gatewayz_metrics_admin_refusals_total',
    type: 'counter',
    labels: ['reason'],
    help: 'Refused requests to the metrics admin and scrape endpoints.',
  },
  clusterWorkers: {
    name: 'gatewayz_cluster_workers',
    type: 'gauge',
    labels: ['state'],
    help: 'Cluster workers at the last scrape: answered in time, or skipped.',
  },
  clusterSkipped: {
    name: 'gatewayz_cluster_workers_skipped_total',
    type: 'counter',
    labels: [],
    help: 'Worker answers missed (timeout or dead worker) since the aggregator started.',
  },
} as const satisfies Record<string, MetricFamilyInfo>;
