import { createServer } from 'node:http';
import { pipeline } from 'node:stream';
import { chunkStream, listenNode, runConformanceSuite } from '@gatewayz/test-utils';
import type { Express, Router } from 'express';
import express5 from 'express';
import express4 from 'express4';
import { beforeAll, vi } from 'vitest';
import { type ExpressMetricsOptions, expressMetrics, setMetricsLabels } from '../index.js';

type ExpressFactory = { (): Express; Router(): Router };

function buildApp(express: ExpressFactory, metrics: ExpressMetricsOptions | false): Express {
  const app = express();
  app.set('env', 'production'); // error pages without stack traces, so both apps' bodies compare equal
  if (metrics) app.use(expressMetrics(metrics));
  app.get('/api/users/:id', (req, res) => {
    res.json({ id: req.params.id });
  });
  app.post('/api/chat', (req, res) => {
    setMetricsLabels(req, { provider: 'openai', model: 'gpt-4o' });
    res.json({ reply: 'ok' });
  });
  app.get('/api/boom', () => {
    throw new Error('boom');
  });
  app.get('/api/bad', () => {
    throw Object.assign(new Error('bad input'), { status: 400, statusCode: 400, expose: true });
  });
  app.get('/api/unavailable', (_req, res) => {
    res.status(503).type('text/plain').send('unavailable');
  });
  app.get('/healthz', (_req, res) => {
    res.type('text/plain').send('ok');
  });
  app.post('/api/upload', (req, res) => {
    req.resume();
    req.on('end', () => res.json({ ok: true }));
  });
  app.get('/api/stream', (req, res) => {
    res.type('text/plain');
    pipeline(chunkStream(req.query), res, () => {});
  });
  const v1 = express.Router();
  v1.get('/items/:itemId', (req, res) => {
    res.json({ itemId: req.params.itemId });
  });
  v1.get('/fail', () => {
    throw new Error('nested boom');
  });
  app.use('/api/v1', v1);
  return app;
}

// Express logs each thrown error's stack unless its env is 'test', and in 'test' it puts the stack in the
// response body, which differs between the app and its control; so: env 'production', and no log noise.
beforeAll(() => {
  vi.spyOn(console, 'error').mockImplementation(() => {});
});

for (const [name, express] of [
  ['express 5', express5],
  ['express 4', express4],
] as [string, ExpressFactory][]) {
  runConformanceSuite(name, async ({ metrics }) => listenNode(createServer(buildApp(express, metrics))), {
    packageName: '@gatewayz/metrics-express',
  });
}
