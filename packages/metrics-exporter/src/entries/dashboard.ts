// `@gatewayz/metrics-exporter/dashboard`: the live HTML page, loaded only by an app that serves it.
export type { DashboardOptions } from '../dashboard.js';
export { DASHBOARD_CSP, dashboardHtml, metricsDashboard } from '../dashboard.js';
export type { DashboardPoint } from '../dashboardHistory.js';
export type { DashboardPage, DashboardRoutes } from '../handlers.js';
