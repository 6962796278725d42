import { fastifyMetrics, setMetricsLabels } from '@gatewayz/metrics-fastify';
import Fastify, { type FastifyReply } from 'fastify';
import { type Listening, nodeServerOptions, urlOf } from '../internal/listen.js';
import { clientGoneSignal, replyBody } from '../internal/streamReply.js';
import { readBody } from '../readBody.js';
import { errorReply, GatewayError, type Reply } from '../reply.js';
import type { ServerOptions } from './serverOptions.js';

// A streamed reply goes as a Readable: Fastify writes each chunk as it comes and destroys it if the client leaves.
const send = (reply: FastifyReply, r: Reply) => reply.code(r.status).headers(r.headers).send(replyBody(r));

/** The gateway on Fastify 5: the `fastifyMetrics` plugin, then one route per gateway route. */
export async function fastifyServer(o: ServerOptions): Promise<Listening> {
  // Fastify's own request timeout is 0 (none): an endless chunked body would hold its socket forever.
  const http = nodeServerOptions(o.timeouts);
  const app = Fastify({ requestTimeout: http.requestTimeout, keepAliveTimeout: http.keepAliveTimeout, http });
  await app.register(fastifyMetrics, o.metrics);
  // Leave bodies unread, whatever their type: the route reads them with the same limit as Express and Koa,
  // and the core parses them, so a 400 or a 413 is an answer, not a thrown error.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
  for (const route of o.routes) {
    app.route({
      method: route.method,
      url: route.path,
      handler: async (request, reply) => {
        try {
          const body = route.body ? await readBody(request.raw, o.bodyLimit) : undefined;
          const setLabels = (l: { provider: string; model: string }) => setMetricsLabels(request, l);
          const params = request.params as Record<string, unknown>;
          const signal = clientGoneSignal(reply.raw);
          return send(reply, await route.handle({ params, headers: request.headers, body, setLabels, signal }));
        } catch (err) {
          return send(reply, (route.error ?? errorReply)(err));
        }
      },
    });
  }
  app.setNotFoundHandler((_request, reply) =>
    send(reply, errorReply(new GatewayError(404, 'not_found', 'no such route'))),
  );
  await app.listen({ port: o.port, host: o.host });
  // Fastify drops idle keep-alive sockets only when close() starts: a socket that goes idle after its
  // in-flight response would keep the server (and a SIGTERMed CLI) alive until the client hangs up.
  const close = async () => {
    const sweep = setInterval(() => app.server.closeIdleConnections(), 50);
    try {
      await app.close();
    } finally {
      clearInterval(sweep);
    }
  };
  return { server: app.server, url: urlOf(app.server), close };
}
