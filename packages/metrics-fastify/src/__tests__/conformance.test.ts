import { runConformanceSuite } from '@gatewayz/test-utils';
import { buildApp } from './app.js';

runConformanceSuite(
  'fastify 5',
  async ({ metrics }) => {
    const app = await buildApp(metrics);
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    return { url, close: () => app.close() };
  },
  { packageName: '@gatewayz/metrics-fastify' },
);
