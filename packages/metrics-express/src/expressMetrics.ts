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

/** What the middleware keeps per request: one object in one slot on `req`. */
class Held {
  endpoint: string | undefined = undefined;
  tracked: TrackedRequest | undefined = undefined;
  constructor(public route: RouteLike | undefined) {}
}
const HELD = Symbol('gatewayz.route');
type HeldRequest = Request & { [HELD]?: Held };

// One descriptor shared by every request: per-request getter closures would give each `req` its own
// hidden class and make every later property access on it megamorphic. Its state lives in one `Held`
// object: every property added to Express's `req` (which already carries dozens) costs each request more
// than recording it does.
const routeProperty: PropertyDescriptor & ThisType<HeldRequest> = {
  configurable: true,
  enumerable: true,
  get() {
    return this[HELD]?.route;
  },
  set(value: RouteLike | undefined) {
    const held = this[HELD];
    if (held === undefined) return;
    held.route = value;
    held.endpoint = templateOf(this.baseUrl, value);
    // Routing found the endpoint: the request moves there from the unmatched label in the in-flight gauge.
    held.tracked?.routed();
  },
};

/** The endpoint of a tracked request: one function for every request, not a closure per request. */
function endpointOf(req: HeldRequest): string | undefined {
  const held = req[HELD];
  return held === undefined ? undefined : (held.endpoint ?? templateOf(req.baseUrl, held.route));
}

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
  let lastApp: object | undefined;
  const observeErrors: ErrorRequestHandler = (err, req, _res, next) => {
    markRequestError(req);
    next(err);
  };

  return function expressMetricsMiddleware(req, res, next) {
    const app = req.app;
    if (app !== lastApp && app) {
      lastApp = app;
      if (!observedApps.has(app)) {
        observedApps.add(app);
        app.use(observeErrors);
      }
    }

    if (metrics.handlers.owns(req.path)) {
      metrics.handlers
        .handle({ method: req.method, path: req.path, headers: req.headers })
        .then((r) => (r ? writeNodeResponse(res, r) : next()), next);
      return;
    }

    // The template is taken when Express dispatches the route, while `baseUrl` is still the
    // router's own mount path (Express restores it when an error leaves a nested router).
    const heldReq = req as HeldRequest;
    const held = new Held(req.route as RouteLike | undefined);
    heldReq[HELD] = held;
    Object.defineProperty(req, 'route', routeProperty);
    held.tracked = metrics.track(heldReq, res, req.originalUrl ?? req.url, endpointOf);
    next();
  };
}
