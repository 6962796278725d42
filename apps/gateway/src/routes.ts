import type { GatewayService, RequestLabels } from './gatewayService.js';
import { json, openAiErrorReply, type Reply } from './reply.js';

/** A request in plain values, as every framework file can produce it. */
export interface RouteRequest {
  params: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
  /** The body as text; only read for routes with `body: true`. */
  body: string | undefined;
  /** Attaches provider/model to the request's metrics (the adapter's `setMetricsLabels`). */
  setLabels(labels: RequestLabels): void;
  /** A signal that aborts when the client goes away before the response is complete (made on first call). */
  signal(): AbortSignal;
}

/** One gateway route: the framework files register each with its own router, under the same template. */
export interface Route {
  method: 'GET' | 'POST' | 'DELETE';
  /** Route template, `:name` style (all three routers accept it). */
  path: string;
  /** Read the body before calling `handle`. */
  body?: boolean;
  handle(req: RouteRequest): Reply | Promise<Reply>;
  /** The reply to an error thrown while reading the body or handling. @default the gateway's `errorReply` */
  error?: (err: unknown) => Reply;
}

const header = (req: RouteRequest, name: string) => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};
const param = (req: RouteRequest, name: string) => {
  const v = req.params[name];
  return typeof v === 'string' ? v : undefined;
};

/** The gateway's API, framework-neutral. */
export function createRoutes(service: GatewayService, info: { framework: string; startedAt: number }): Route[] {
  const outage = '/api/admin/providers/:name/outage';
  // The page, its assets and its security headers come from the metrics adapter (its `dashboard` option).
  const dashboard: Reply = {
    status: 302,
    headers: { location: '/metrics/dashboard', 'cache-control': 'no-store' },
    body: '',
  };
  return [
    { method: 'POST', path: '/api/chat', body: true, handle: (req) => service.chat(req.body, req.setLabels) },
    {
      method: 'POST',
      path: '/v1/chat/completions',
      body: true,
      error: openAiErrorReply,
      handle: (req) =>
        service.chatCompletions({
          body: req.body,
          authorization: header(req, 'authorization'),
          signal: req.signal(),
          setLabels: req.setLabels,
        }),
    },
    {
      method: 'GET',
      path: '/v1/models',
      error: openAiErrorReply,
      handle: (req) => service.openAiModels(header(req, 'authorization')),
    },
    { method: 'GET', path: '/api/models', handle: () => service.models() },
    { method: 'GET', path: '/api/providers', handle: () => service.providers() },
    { method: 'GET', path: '/api/usage', handle: () => service.usage() },
    {
      method: 'POST',
      path: outage,
      body: true,
      handle: (req) => service.startOutage(param(req, 'name'), req.body, header(req, 'authorization')),
    },
    {
      method: 'DELETE',
      path: outage,
      handle: (req) => service.endOutage(param(req, 'name'), header(req, 'authorization')),
    },
    { method: 'GET', path: '/dashboard', handle: () => dashboard },
    {
      method: 'GET',
      path: '/healthz',
      handle: () =>
        json(200, { status: 'ok', framework: info.framework, uptimeSeconds: (Date.now() - info.startedAt) / 1000 }),
    },
    {
      method: 'GET',
      path: '/',
      handle: () =>
        json(200, {
          name: 'gatewayz demo gateway',
          framework: info.framework,
          endpoints: [
            'POST /v1/chat/completions (OpenAI-compatible, streaming)',
            'GET /v1/models',
            'POST /api/chat',
            'GET /api/models',
            'GET /api/providers',
            'GET /api/usage',
            `POST|DELETE ${outage}`,
            'GET /healthz',
            'GET /dashboard (redirects to /metrics/dashboard)',
            'GET /metrics/dashboard',
            'GET /metrics',
            'GET /metrics/json',
            'GET /metrics/health',
            'POST /metrics/reset',
          ],
        }),
    },
  ];
}
