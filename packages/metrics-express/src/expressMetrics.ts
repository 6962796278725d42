import {
  type HttpMetricsOptions,
  markRequestError,
  resolveHttpMetricsOptions,
  type TrackedRequest,
  writeNodeResponse,
} from '@gatewayz/metrics-exporter';
import type { ErrorRequestHandler, Request, RequestHandler } from 'express';

/** Options of {@link expressMetrics}; the `labels` hook receives the Express `req`. */
export type ExpressMetricsOptions = HttpMetricsOptions<Request>;

const PACKAGE = '@gatewayz/metrics-express';

interface RouteLike {
  path?: unknown;
}

/** Mount prefix plus route path: `/api/v1` + `/items/:id`. A router's `/` route is its mount path. */
function templateOf(baseUrl: string | undefined, route: RouteLike | undefined): string | undefined {
  if (route === undefined || route === null) return undefined;
  const path = String(route.path ?? '');
  const base = baseUrl ?? '';
  return base !== '' && (path === '/' || path === '') ? base : base + path;
}

const ROUTE = Symbol('route');
const ENDPOINT = Symbol('endpoint');
const TRACKED = Symbol('tracked');
interface Held {
  [ROUTE]: RouteLike | undefined;
  [ENDPOINT]: string | undefined;
  [TRACKED]: TrackedRequest | undefined;
}

// One descriptor shared by every request: per-request getter closures would give each `req` its own
// hidden class and make every later property access on it megamorphic.
const routeProperty: PropertyDescriptor & ThisType<Request & Held> = {
  configurable: true,
  enumerable: true,
  get() {
    return this[ROUTE];
  },
  set(value: RouteLike | undefined) {
    this[ROUTE] = value;
    this[ENDPOINT] = templateOf(this.baseUrl, value);
    // Routing found the endpoint: the request moves there from the unmatched label in the in-flight gauge.
    this[TRACKED]?.routed();
  },
};

/**
 * Express 4 and 5 middleware: records every request under its route template and serves
 * `GET {prefix}`, `GET {prefix}/json`, `GET {prefix}/health` and `POST {prefix}/reset`.
 *
 * ```ts
 * app.use(expressMetrics({ adminToken: process.env.METRICS_ADMIN_TOKEN }));
 * ```
 *
 * Register it before your routes. On the first request it appends a pass-through error handler to
 * `req.app`, so that errors thrown by the routes are flagged as errors (the response is unchanged).
 */
export function expressMetrics(options: ExpressMetricsOptions = {}): RequestHandler {
  const metrics = resolveHttpMetricsOptions(options, PACKAGE);
  const observedApps = new WeakSet<object>();
  const observeErrors: ErrorRequestHandler = (err, req, _res, next) => {
    markRequestError(req);
    next(err);
  };

  return function expressMetricsMiddleware(req, res, next) {
    const app = req.app;
    if (app && !observedApps.has(app)) {
      observedApps.add(app);
      app.use(observeErrors);
    }

    if (metrics.handlers.owns(req.path)) {
      metrics.handlers
        .handle({ method: req.method, path: req.path, headers: req.headers })
        .then((r) => (r ? writeNodeResponse(res, r) : next()), next);
      return;
    }

    // The template is taken when Express dispatches the route, while `baseUrl` is still the
    // router's own mount path (Express restores it when an error leaves a nested router).
    const held = req as Request & Held;
    held[ROUTE] = req.route as RouteLike | undefined;
    held[ENDPOINT] = undefined;
    held[TRACKED] = undefined;
    Object.defineProperty(req, 'route', routeProperty);
    held[TRACKED] = metrics.track(
      req,
      res,
      req.originalUrl ?? req.url,
      () => held[ENDPOINT] ?? templateOf(req.baseUrl, held[ROUTE]),
    );
    next();
  };
}
