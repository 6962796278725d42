import { pipeline } from 'node:stream';
import { expressMetrics, setMetricsLabels } from '@gatewayz/metrics-express';
import express, { type ErrorRequestHandler, type Response } from 'express';
import { type Listening, listenNode } from '../internal/listen.js';
import { clientGoneSignal, replyBody } from '../internal/streamReply.js';
import { readBody } from '../readBody.js';
import { errorReply, GatewayError, type Reply } from '../reply.js';
import type { ServerOptions } from './serverOptions.js';

function send(res: Response, r: Reply): void {
  const body = replyBody(r);
  res.status(r.status).set(r.headers);
  // A stream: each chunk written as it comes; pipeline destroys it (ending the relay) if the client leaves.
  if (typeof body === 'string') res.send(body);
  else pipeline(body, res, () => {});
}

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
          const signal = clientGoneSignal(res);
          send(res, await route.handle({ params: req.params, headers: req.headers, body, setLabels, signal }));
        } catch (err) {
          if (route.error) send(res, route.error(err));
          else next(err);
        }
      },
    );
  }
  app.use((_req, _res, next) => next(new GatewayError(404, 'not_found', 'no such route')));
  const onError: ErrorRequestHandler = (err, _req, res, _next) => send(res, errorReply(err));
  app.use(onError);
  return listenNode(app, o.port, o.host, { timeouts: o.timeouts });
}
