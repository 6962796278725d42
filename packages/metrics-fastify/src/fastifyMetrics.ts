import { type HttpMetricsOptions, markRequestError, resolveHttpMetricsOptions } from '@gatewayz/metrics-exporter';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

/** Options of {@link fastifyMetrics}; the `labels` hook receives the Fastify `request`. */
export type FastifyMetricsOptions = HttpMetricsOptions<FastifyRequest>;

const PACKAGE = '@gatewayz/metrics-fastify';

const plugin: FastifyPluginAsync<FastifyMetricsOptions> = async (app, options) => {
  const metrics = resolveHttpMetricsOptions(options, PACKAGE);
  const { handlers } = metrics;

  // The four endpoints are answered in onRequest, before body parsing: `POST /metrics/reset` works
  // whatever body or content type the client sends, and the app's own routes stay untouched.
  app.addHook('onRequest', async (request, reply) => {
    if (handlers.owns(request.url)) {
      const r = await handlers.handle({ method: request.method, path: request.url, headers: request.headers });
      if (r) return reply.code(r.status).headers(r.headers).send(r.body);
    }
    metrics.track(request, reply.raw, request.url, () => request.routeOptions.url);
    return undefined;
  });

  app.addHook('onError', async (request) => {
    markRequestError(request);
  });
};

/**
 * Fastify 5 plugin: records every request under its route template (`request.routeOptions.url`) and
 * serves `GET {prefix}`, `GET {prefix}/json`, `GET {prefix}/health` and `POST {prefix}/reset`.
 * Wrapped with `fastify-plugin`, so its hooks see every route of the instance it is registered on.
 *
 * ```ts
 * await app.register(fastifyMetrics, { adminToken: process.env.METRICS_ADMIN_TOKEN });
 * ```
 */
export const fastifyMetrics = fp(plugin, { fastify: '5.x', name: PACKAGE });

export default fastifyMetrics;
