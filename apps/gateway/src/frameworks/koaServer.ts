import { koaMetrics, setMetricsLabels } from '@gatewayz/metrics-koa';
import Router from '@koa/router';
import Koa, { type Context } from 'koa';
import { type Listening, listenNode } from '../internal/listen.js';
import { clientGoneSignal, replyBody } from '../internal/streamReply.js';
import { isClientGone, readBody } from '../readBody.js';
import { errorReply, GatewayError, type Reply } from '../reply.js';
import type { ServerOptions } from './serverOptions.js';

function send(ctx: Context, r: Reply): void {
  ctx.status = r.status;
  ctx.set(r.headers);
  // A streamed reply goes as a Readable: Koa pipes each chunk as it comes and destroys it if the client leaves.
  ctx.body = replyBody(r);
}

/** The gateway on Koa 3: `koaMetrics` first, an error boundary, then one @koa/router route per gateway route. */
export function koaServer(o: ServerOptions): Promise<Listening> {
  const app = new Koa();
  const router = new Router();
  for (const route of o.routes) {
    const method = route.method === 'GET' ? 'get' : route.method === 'POST' ? 'post' : 'delete';
    router[method](route.path, async (ctx) => {
      try {
        const body = route.body ? await readBody(ctx.req, o.bodyLimit) : undefined;
        const setLabels = (l: { provider: string; model: string }) => setMetricsLabels(ctx, l);
        const signal = clientGoneSignal(ctx.res);
        send(ctx, await route.handle({ params: ctx.params, headers: ctx.headers, body, setLabels, signal }));
      } catch (err) {
        if (!route.error) throw err;
        send(ctx, route.error(err));
      }
    });
  }
  // A client that hangs up mid-request is an ordinary event, which the adapter records as 499; Koa's
  // default handler would print a stack trace for each. Every other error still goes to Koa's own logger.
  app.on('error', (err: Error, ctx?: Context) => {
    if (!isClientGone(err, ctx?.req)) app.onerror(err);
  });
  app.use(koaMetrics(o.metrics));
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      send(ctx, errorReply(err));
    }
  });
  app.use(router.routes());
  app.use((ctx) => send(ctx, errorReply(new GatewayError(404, 'not_found', 'no such route'))));
  return listenNode(app.callback(), o.port, o.host, { timeouts: o.timeouts });
}
