// The same packages through require(): the CommonJS builds resolve and export what the ESM builds do.
const { expressMetrics } = require('@gatewayz/metrics-express');
const { getMetricsCollector } = require('@gatewayz/metrics-core');
const { PrometheusExporter } = require('@gatewayz/metrics-exporter');

if (typeof expressMetrics !== 'function') throw new Error('expressMetrics is not a function');
getMetricsCollector().recordRequest({ endpoint: '/cjs', method: 'GET', latencySeconds: 0.01, statusCode: 200 });
const text = new PrometheusExporter(getMetricsCollector()).export();
if (!text.includes('http_requests_total{endpoint="/cjs",method="GET"} 1')) throw new Error('no /cjs sample');
console.log('require ok');
