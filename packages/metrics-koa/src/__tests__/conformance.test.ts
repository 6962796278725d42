import { createServer } from 'node:http';
import { chunkStream, listenNode, runConformanceSuite } from '@gatewayz/test-utils';
import Router from '@koa/router';
import Koa3 from 'koa';
import Koa2 from 'koa2';
import { type KoaMetricsOptions, koaMetrics, setMetricsLabels } from '../index.js';

function buildApp(Koa: typeof Koa3, metrics: KoaMetricsOptions | false): Koa3 {
  const app = new Koa();
  app.silent = true; // Koa would log each thrown error; the responses are the same either way
  if (metrics) app.use(koaMetrics(metrics));
  const router = new Router();
  router.get('/api/users/:id', (ctx) => {
    ctx.body = { id: ctx.params.id };
  });
  router.post('/api/chat', (ctx) => {
    setMetricsLabels(ctx, { provider: 'openai', model: 'gpt-4o' });
    ctx.body = { reply: 'ok' };
  });
  router.get('/api/boom', () => {
    throw new Error('boom');
  });
  router.get('/api/bad', () => {
    throw Object.assign(new Error('bad input'), { status: 400, statusCode: 400, expose: true });
  });
  router.get('/api/unavailable', (ctx) => {
    ctx.status = 503;
    ctx.type = 'text/plain';
    ctx.body = 'unavailable';
  });
  router.post('/api/upload', async (ctx) => {
    for await (const _ of ctx.req);
    ctx.body = { ok: true };
  });
  router.get('/api/stream', (ctx) => {
    ctx.type = 'text/plain';
    ctx.body = chunkStream(ctx.query);
  });
  router.get('/healthz', (ctx) => {
    ctx.type = 'text/plain';
    ctx.body = 'ok';
  });
  const api = new Router({ prefix: '/api' });
  const v1 = new Router({ prefix: '/v1' });
  v1.get('/items/:itemId', (ctx) => {
    ctx.body = { itemId: ctx.params.itemId };
  });
  v1.get('/fail', () => {
    throw new Error('nested boom');
  });
  api.use(v1.routes(), v1.allowedMethods());
  app.use(router.routes()).use(router.allowedMethods());
  app.use(api.routes()).use(api.allowedMethods());
  return app;
}

for (const [name, Koa] of [
  ['koa 3', Koa3],
  ['koa 2', Koa2],
] as [string, typeof Koa3][]) {
  runConformanceSuite(name, async ({ metrics }) => listenNode(createServer(buildApp(Koa, metrics).callback())), {
    packageName: '@gatewayz/metrics-koa',
  });
}
