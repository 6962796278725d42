import {
  type HttpMetricsOptions,
  markRequestError,
  resolveHttpMetricsOptions,
  type TrackedRequest,
  writeNodeResponse,
} from '@gatewayz/metrics-exporter/node';
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

/** What the middleware keeps per tracked request: one object in one slot on `req`. */
class Held {
  endpoint: string | undefined = undefined;
  tracked: TrackedRequest | undefined = undefined;
  constructor(public route: RouteLike | undefined) {}
}
// One slot, not a WeakMap beside `req`: under 50 concurrent connections a WeakMap entry per request cost
// about 15 µs of CPU per request more than the slot (ephemerons in every scavenge; bench/http.mjs).
const HELD = Symbol('gatewayz.route');
type HeldRequest = Request & { [HELD]?: Held };

// The `route` accessor, shared by every request. It sits on the app's request prototype (`app.request`, which
// the prototypes of mounted apps inherit from), so Express's own `req.route = route` calls the setter and adds
// nothing to `req`; on a request that already has its own `route`, it is defined on the request itself.
const routeProperty: PropertyDescriptor & ThisType<HeldRequest> = {
  configurable: true,
  enumerable: true,
  get() {
    return this[HELD]?.route;
  },
  set(value: RouteLike | undefined) {
    const held = this[HELD];
    if (held === undefined) {
      // A request this middleware does not track (excluded, a metrics endpoint): a plain property, as without it.
      Object.defineProperty(this, 'route', { value, writable: true, enumerable: true, configurable: true });
      return;
    }
    held.route = value;
    held.endpoint = templateOf(this.baseUrl, value);
    // Routing found the endpoint: the request moves there from the unmatched label in the in-flight gauge.
    held.tracked?.routed();
  },
};

/**
 * Puts the accessor on `proto` when it is the app's request prototype and has no `route` of its own; true when
 * the accessor there is this one (another copy of this package, or anyone else's, keeps its own).
 */
function onPrototype(proto: object | null, app: { request?: unknown } | undefined): boolean {
  if (proto === null || proto !== app?.request) return false;
  const own = Object.getOwnPropertyDescriptor(proto, 'route');
  if (own === undefined) {
    Object.defineProperty(proto, 'route', routeProperty);
    return true;
  }
  return own.set === routeProperty.set;
}

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
  let lastProto: object | null | undefined;
  let lastOnProto = false;
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
    const held = new Held(req.route as RouteLike | undefined);
    (req as HeldRequest)[HELD] = held;
    const proto = Object.getPrototypeOf(req) as object | null;
    if (proto !== lastProto) {
      lastProto = proto;
      lastOnProto = onPrototype(proto, app as { request?: unknown } | undefined);
    }
    if (!lastOnProto || Object.hasOwn(req, 'route')) Object.defineProperty(req, 'route', routeProperty);
    held.tracked = metrics.track(req as HeldRequest, res, req.originalUrl ?? req.url, endpointOf);
    next();
  };
}
