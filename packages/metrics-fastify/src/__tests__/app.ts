import { chunkStream } from '@gatewayz/test-utils';
import Fastify, { type FastifyInstance } from 'fastify';
import { type FastifyMetricsOptions, fastifyMetrics, setMetricsLabels } from '../index.js';

export async function buildApp(metrics: FastifyMetricsOptions | false): Promise<FastifyInstance> {
  const app = Fastify();
  if (metrics) await app.register(fastifyMetrics, metrics);
  app.get('/api/users/:id', async (request) => ({ id: (request.params as { id: string }).id }));
  app.post('/api/chat', async (request) => {
    setMetricsLabels(request, { provider: 'openai', model: 'gpt-4o' });
    return { reply: 'ok' };
  });
  app.get('/api/boom', async () => {
    throw new Error('boom');
  });
  app.get('/api/bad', async () => {
    throw Object.assign(new Error('bad input'), { status: 400, statusCode: 400, expose: true });
  });
  app.get('/api/unavailable', async (_request, reply) => reply.code(503).type('text/plain').send('unavailable'));
  app.get('/healthz', async (_request, reply) => reply.type('text/plain').send('ok'));
  app.post('/api/upload', async () => ({ ok: true }));
  app.get('/api/stream', async (request, reply) =>
    reply.type('text/plain').send(chunkStream(request.query as Record<string, unknown>)),
  );
  await app.register(
    async (v1) => {
      v1.get('/items/:itemId', async (request) => ({ itemId: (request.params as { itemId: string }).itemId }));
      v1.get('/fail', async () => {
        throw new Error('nested boom');
      });
    },
    { prefix: '/api/v1' },
  );
  return app;
}
