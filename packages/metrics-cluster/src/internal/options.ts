import { MetricsError, type OptionSchema } from '@gatewayz/metrics-core';
import type { ClusterAggregatorOptions } from '../aggregator.js';
import type { ServeWorkerMetricsOptions } from '../worker.js';

/** The name this package's errors start with. */
export const CLUSTER_PACKAGE = '@gatewayz/metrics-cluster';

/** A configuration error of this package. */
export const invalidOption = (message: string): MetricsError =>
  new MetricsError('INVALID_OPTION', message, CLUSTER_PACKAGE);

// Typed against the option types: an option added there without its rule here fails to compile.
export const AGGREGATOR_OPTIONS: OptionSchema<ClusterAggregatorOptions> = {
  local: 'object',
  timeoutMs: 'number',
  includeClusterWorkers: 'boolean',
  perWorker: 'boolean',
};

export const WORKER_OPTIONS: OptionSchema<ServeWorkerMetricsOptions> = {
  collector: 'object',
  port: 'object',
};
