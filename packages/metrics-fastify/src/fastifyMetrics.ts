import type { IncomingMessage, ServerResponse } from 'node:http';
import { type HttpMetricsOptions, markRequestError, resolveHttpMetricsOptions } from '@gatewayz/metrics-exporter/node';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

/** Options of {@link fastifyMetrics}; the `labels` hook receives the Fastify `request`. */
export type FastifyMetricsOptions = HttpMetricsOptions<FastifyRequest>;

const PACKAGE = '@gatewayz/metrics-fastify';

/** Fastify's own `register` options, which Fastify hands to the plugin too: not unknown options of ours. */
type RegisterOptions = { logLevel?: unknown; logSerializers?: unknown };

/**
 * The route template, read once per request: Fastify has routed the request before its first hook runs, and
 * `routeOptions` builds a new object on every read.
 */
const routeOf = (request: FastifyRequest): string | undefined => request.routeOptions.url;

const plugin: FastifyPluginAsync<FastifyMetricsOptions> = async (app, options) => {
  const { logLevel: _level, logSerializers: _serializers, ...own } = options as FastifyMetricsOptions & RegisterOptions;
  const metrics = resolveHttpMetricsOptions(own, PACKAGE);
  const { handlers } = metrics;
  // The last request that passed the onRequest hook. Fastify runs the hook inside its own 'request' listener,
  // so when ours (registered after Fastify's) runs, the request it is given passed the hook exactly when it is
  // this one. A variable, not a WeakSet of every request: an ephemeron per request costs more than its check.
  let lastHooked: IncomingMessage | undefined;

  // The four endpoints are answered in onRequest, before body parsing: `POST /metrics/reset` works
  // whatever body or content type the client sends, and the app's own routes stay untouched.
  // Callback-style hooks: an async hook costs every request a promise.
  app.addHook('onRequest', (request, reply, done) => {
    if (handlers.owns(request.url)) {
      handlers.handle({ method: request.method, path: request.url, headers: request.headers }).then((r) => {
        if (r) reply.code(r.status).headers(r.headers).send(r.body);
        else {
          metrics.track(request, reply.raw, request.url, routeOf(request));
          done();
        }
      }, done);
      return;
    }
    lastHooked = request.raw;
    metrics.track(request, reply.raw, request.url, routeOf(request));
    done();
  });

  // Fastify answers a malformed URL (400) or an over-long parameter (414) itself, before any hook
  // runs. The server's 'request' listeners run after Fastify's own: a request already answered there
  // without passing the onRequest hook is recorded as unmatched; `exclude` and `labels` then get a
  // stand-in with `raw`, `url`, `method` and `headers`. (`inject()` emits no 'request'.)
  app.server?.on?.('request', (req: IncomingMessage, res: ServerResponse) => {
    const hooked = req === lastHooked;
    lastHooked = undefined;
    if (!res.writableEnded || hooked) return;
    const url = req.url ?? '/';
    const request = { raw: req, url, method: req.method, headers: req.headers } as unknown as FastifyRequest;
    metrics.track(request, res, url, undefined);
  });

  app.addHook('onError', (request, _reply, _error, done) => {
    markRequestError(request);
    done();
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
