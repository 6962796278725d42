// The same packages through require(): the CommonJS builds resolve and export what the ESM builds do.
const { expressMetrics, setMetricsLabels } = require('@gatewayz/metrics-express');
const { getMetricsCollector } = require('@gatewayz/metrics-core');
const { PrometheusExporter, createMetricsHandlers } = require('@gatewayz/metrics-exporter');
const { getMetricsLabels } = require('@gatewayz/metrics-exporter/node');
const { metricsDashboard, DASHBOARD_CSP } = require('@gatewayz/metrics-exporter/dashboard');

if (typeof expressMetrics !== 'function') throw new Error('expressMetrics is not a function');
getMetricsCollector().recordRequest({ endpoint: '/cjs', method: 'GET', latencySeconds: 0.01, statusCode: 200 });
const text = new PrometheusExporter(getMetricsCollector()).export();
if (!text.includes('http_requests_total{endpoint="/cjs",method="GET"} 1')) throw new Error('no /cjs sample');

// One copy of the node layer's state: labels set through the adapter are read through the subpath.
const req = {};
setMetricsLabels(req, { provider: 'openai' });
if (getMetricsLabels(req)?.provider !== 'openai') throw new Error('labels set through the adapter are unseen by /node');

const handlers = createMetricsHandlers({ adminToken: null, dashboard: metricsDashboard({ historySeconds: 0 }) });
handlers.dashboard({ method: 'GET', path: '/metrics/dashboard', headers: {} }).then((r) => {
  if (r.status !== 200 || r.headers['content-security-policy'] !== DASHBOARD_CSP) throw new Error('no dashboard page');
  console.log('require ok');
});
