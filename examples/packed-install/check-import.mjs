// Each entry point through import (ESM): the main entry, the node layer and the dashboard page.

import { createMetricsHandlers } from '@gatewayz/metrics-exporter';
import { DASHBOARD_CSP, metricsDashboard } from '@gatewayz/metrics-exporter/dashboard';
import { getMetricsLabels } from '@gatewayz/metrics-exporter/node';
import { setMetricsLabels } from '@gatewayz/metrics-express';

const req = {};
setMetricsLabels(req, { model: 'gpt-4o' });
if (getMetricsLabels(req)?.model !== 'gpt-4o') throw new Error('labels set through the adapter are unseen by /node');

const handlers = createMetricsHandlers({ adminToken: null, dashboard: metricsDashboard({ historySeconds: 0 }) });
const r = await handlers.dashboard({ method: 'GET', path: '/metrics/dashboard', headers: {} });
if (r.status !== 200 || r.headers['content-security-policy'] !== DASHBOARD_CSP) throw new Error('no dashboard page');
console.log('import ok');
