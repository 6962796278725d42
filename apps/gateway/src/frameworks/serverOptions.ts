import type { MetricsCollector } from '@gatewayz/metrics-core';
import type { HttpMetricsOptions } from '@gatewayz/metrics-exporter/node';
import type { ServerTimeouts } from '../internal/listen.js';
import type { Route } from '../routes.js';

/** What `startGateway` hands each framework file. */
export interface ServerOptions {
  routes: readonly Route[];
  /** Options for the framework's metrics adapter (the same for all three). */
  metrics: {
    collector: MetricsCollector;
    adminToken: string | null | undefined;
    exclude: HttpMetricsOptions['exclude'];
    scrapeAuth?: HttpMetricsOptions['scrapeAuth'];
    dashboard?: HttpMetricsOptions['dashboard'];
    cacheMs?: HttpMetricsOptions['cacheMs'];
  };
  /** Largest accepted request body, in bytes. */
  bodyLimit: number;
  port: number;
  host: string;
  /** Request, header and keep-alive timeouts of the server's sockets. */
  timeouts: ServerTimeouts;
}
