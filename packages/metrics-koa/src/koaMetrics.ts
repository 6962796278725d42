import { type HttpMetricsOptions, markRequestError, resolveHttpMetricsOptions } from '@gatewayz/metrics-exporter';
import type { Context, Middleware } from 'koa';

/** Options of {@link koaMetrics}; the `labels` hook receives the Koa `ctx`. */
export type KoaMetricsOptions = HttpMetricsOptions<Context>;

const PACKAGE = '@gatewayz/metrics-koa';

/** The template @koa/router matched, prefixes of nested routers included (`/api/v1/items/:id`). */
function matchedRoute(ctx: Context): string | undefined {
  const route = (ctx as Context & { _matchedRoute?: string | RegExp })._matchedRoute;
  return route === undefined || route === null ? undefined : String(route);
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
    metrics.track(ctx, ctx.res, ctx.originalUrl, () => matchedRoute(ctx));
    try {
      await next();
    } catch (err) {
      // Koa's own error handling then sends the response; the status it sends is the one recorded.
      markRequestError(ctx);
      throw err;
    }
  };
}
