import { expect, it } from 'vitest';
import * as dashboard from '../entries/dashboard.js';
import * as node from '../entries/node.js';
import * as entry from '../index.js';

// Each entry's names, as every package snapshots them: adding or removing one is a deliberate, reviewed change.
it('exports exactly the public API', () => {
  expect(Object.keys(entry).sort()).toMatchInlineSnapshot(`
    [
      "METRIC_FAMILIES",
      "MIN_ADMIN_TOKEN_LENGTH",
      "OPENMETRICS_CONTENT_TYPE",
      "PrometheusExporter",
      "TEXT_CONTENT_TYPE",
      "bearerCredentials",
      "bearerTokenProblem",
      "checkBearer",
      "createMetricsHandlers",
      "formatValue",
      "negotiateScrapeFormat",
      "registerPromClientMetrics",
      "renderChunks",
      "renderProtobuf",
      "renderText",
    ]
  `);
});

it('@gatewayz/metrics-exporter/node exports exactly the node layer', () => {
  expect(Object.keys(node).sort()).toMatchInlineSnapshot(`
    [
      "CLIENT_CLOSED_STATUS",
      "getMetricsLabels",
      "markRequestError",
      "resolveHttpMetricsOptions",
      "setMetricsLabels",
      "writeNodeResponse",
    ]
  `);
});

it('@gatewayz/metrics-exporter/dashboard exports exactly the page', () => {
  expect(Object.keys(dashboard).sort()).toMatchInlineSnapshot(`
    [
      "DASHBOARD_CSP",
      "dashboardHtml",
      "metricsDashboard",
    ]
  `);
});
