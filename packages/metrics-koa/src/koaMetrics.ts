import {
  type HttpMetricsOptions,
  markRequestError,
  resolveHttpMetricsOptions,
  type TrackedRequest,
} from '@gatewayz/metrics-exporter/node';
import type { Context, Middleware } from 'koa';

/** Options of {@link koaMetrics}; the `labels` hook receives the Koa `ctx`. */
export type KoaMetricsOptions = HttpMetricsOptions<Context>;

const PACKAGE = '@gatewayz/metrics-koa';

/** What the middleware keeps per request: one object in one slot on `ctx`. */
class Held {
  tracked: TrackedRequest | undefined = undefined;
  constructor(public matched: string | RegExp | undefined) {}
}
const HELD = Symbol('gatewayz.matchedRoute');
type HeldContext = Context & { [HELD]?: Held };

/** The template @koa/router matched, prefixes of nested routers included (`/api/v1/items/:id`). */
function matchedRoute(ctx: HeldContext): string | undefined {
  const route = ctx[HELD]?.matched;
  return route === undefined || route === null ? undefined : String(route);
}

// @koa/router sets `ctx._matchedRoute` when it dispatches a route: that is when the request moves from
// the unmatched label to its endpoint in the in-flight gauge. One accessor for every request, on the app's context
// prototype (`app.context`, which every `ctx` inherits from), so the router's `ctx._matchedRoute = path` calls the
// setter and adds nothing to `ctx`; its state is one `Held` object in one slot. (Defined on each `ctx` instead, it
// cost 1.2 to 2.5 µs of CPU per request more in bench/http.mjs.)
const matchedRouteProperty: PropertyDescriptor & ThisType<HeldContext> = {
  configurable: true,
  enumerable: true,
  get() {
    return this[HELD]?.matched;
  },
  set(value: string | RegExp | undefined) {
    const held = this[HELD];
    if (held === undefined) {
      // A request this middleware does not track (a metrics endpoint, another app's): a plain property, as without it.
      Object.defineProperty(this, '_matchedRoute', { value, writable: true, enumerable: true, configurable: true });
      return;
    }
    held.matched = value;
    held.tracked?.routed();
  },
};

/**
 * Puts the accessor on `proto` when it is the app's context prototype and has no `_matchedRoute` of its own; true
 * when the accessor there is this one (another copy of this package, or anyone else's, keeps its own).
 */
function onPrototype(proto: object | null, app: { context?: unknown } | undefined): boolean {
  if (proto === null || proto !== app?.context) return false;
  const own = Object.getOwnPropertyDescriptor(proto, '_matchedRoute');
  if (own === undefined) {
    Object.defineProperty(proto, '_matchedRoute', matchedRouteProperty);
    return true;
  }
  return own.set === matchedRouteProperty.set;
}

/**
 * Koa 2 and 3 middleware: records every request under the route template @koa/router matched
 * (`ctx._matchedRoute`) and serves `GET {prefix}`, `GET {prefix}/json`, `GET {prefix}/health` and
 * `POST {prefix}/reset`. Register it first, before the routers.
 *
 * ```ts
 * app.use(koaMetrics({ adminToken: process.env.METRICS_ADMIN_TOKEN }));
 * app.use(router.routes());
 * ```
 */
export function koaMetrics(options: KoaMetricsOptions = {}): Middleware {
  const metrics = resolveHttpMetricsOptions(options, PACKAGE);
  const { handlers } = metrics;

  let lastProto: object | null | undefined;
  let lastOnProto = false;

  return async function koaMetricsMiddleware(ctx, next) {
    if (handlers.owns(ctx.path)) {
      const r = await handlers.handle({ method: ctx.method, path: ctx.path, headers: ctx.headers });
      if (r) {
        ctx.status = r.status;
        ctx.set(r.headers);
        ctx.body = r.body;
        return;
      }
    }
    const heldCtx = ctx as HeldContext;
    const held = new Held((ctx as Context & { _matchedRoute?: string | RegExp })._matchedRoute);
    heldCtx[HELD] = held;
    const proto = Object.getPrototypeOf(ctx) as object | null;
    if (proto !== lastProto) {
      lastProto = proto;
      lastOnProto = onPrototype(proto, ctx.app as { context?: unknown } | undefined);
    }
    if (!lastOnProto || Object.hasOwn(ctx, '_matchedRoute'))
      Object.defineProperty(ctx, '_matchedRoute', matchedRouteProperty);
    held.tracked = metrics.track(heldCtx, ctx.res, ctx.originalUrl, matchedRoute);
    try {
      await next();
    } catch (err) {
      // Koa's own error handling then sends the response; the status it sends is the one recorded.
      markRequestError(ctx);
      throw err;
    }
  };
}
