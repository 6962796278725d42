import { METRIC_FAMILIES } from '@gatewayz/metrics-exporter';
import { expect, it } from 'vitest';
import { ClusterAggregator } from '../index.js';

// The census families are declared in this package, where they are made; the exporter lists them too (for prom-client
// interop, the append clash check and the docs). The two must say the same.
it("declares its census families as the exporter's METRIC_FAMILIES lists them", async () => {
  const state = await new ClusterAggregator({ includeClusterWorkers: false }).state();
  for (const info of [METRIC_FAMILIES.clusterWorkers, METRIC_FAMILIES.clusterSkipped]) {
    const f = state.families.find((x) => x.name === info.name);
    expect(f, info.name).toBeDefined();
    expect({ name: f!.name, type: f!.type, help: f!.help, labels: f!.labelNames }).toEqual({
      name: info.name,
      type: info.type,
      help: info.help,
      labels: [...info.labels],
    });
  }
});
