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
// the unmatched label to its endpoint in the in-flight gauge. One descriptor shared by every request,
// its state in one `Held` object (each property added to `ctx` costs every request).
const matchedRouteProperty: PropertyDescriptor & ThisType<HeldContext> = {
  configurable: true,
  enumerable: true,
  get() {
    return this[HELD]?.matched;
  },
  set(value: string | RegExp | undefined) {
    const held = this[HELD];
    if (held === undefined) return;
    held.matched = value;
    held.tracked?.routed();
  },
};

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
