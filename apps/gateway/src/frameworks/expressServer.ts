import { expressMetrics, setMetricsLabels } from '@gatewayz/metrics-express';
import express, { type ErrorRequestHandler, type Response } from 'express';
import { type Listening, listenNode } from '../internal/listen.js';
import { readBody } from '../readBody.js';
import { errorReply, GatewayError, type Reply } from '../reply.js';
import type { ServerOptions } from './serverOptions.js';

const send = (res: Response, r: Reply) => res.status(r.status).set(r.headers).send(r.body);

/** The gateway on Express 5: `expressMetrics` first, then one Express route per gateway route. */
export function expressServer(o: ServerOptions): Promise<Listening> {
  const app = express();
  app.disable('x-powered-by');
  app.use(expressMetrics(o.metrics));
  for (const route of o.routes) {
    app[route.method === 'GET' ? 'get' : route.method === 'POST' ? 'post' : 'delete'](
      route.path,
      async (req, res, next) => {
        try {
          const body = route.body ? await readBody(req, o.bodyLimit) : undefined;
          const setLabels = (l: { provider: string; model: string }) => setMetricsLabels(req, l);
          send(res, await route.handle({ params: req.params, headers: req.headers, body, setLabels }));
        } catch (err) {
          next(err);
        }
      },
    );
  }
  app.use((_req, _res, next) => next(new GatewayError(404, 'not_found', 'no such route')));
  const onError: ErrorRequestHandler = (err, _req, res, _next) => send(res, errorReply(err));
  app.use(onError);
  return listenNode(app, o.port, o.host, { timeouts: o.timeouts });
}
