import { createServer } from 'node:http';
import { MetricsCollector } from '@gatewayz/metrics-core';
import { expectAppendConverted, listenNode, PROM_CLIENT_TEXT } from '@gatewayz/test-utils';
import Koa from 'koa';
import { describe, it } from 'vitest';
import { koaMetrics } from '../index.js';

describe('koaMetrics append', () => {
  it('passes append through: prom-client text is converted to the negotiated format', async () => {
    const app = new Koa();
    app.use(koaMetrics({ collector: new MetricsCollector(), append: async () => PROM_CLIENT_TEXT }));
    app.use((ctx) => {
      ctx.body = 'ok';
    });
    const server = await listenNode(createServer(app.callback()));
    try {
      await fetch(`${server.url}/x`);
      await expectAppendConverted(async (accept) => {
        const res = await fetch(`${server.url}/metrics`, { headers: accept ? { accept } : {} });
        return { contentType: String(res.headers.get('content-type')), body: Buffer.from(await res.arrayBuffer()) };
      });
    } finally {
      await server.close();
    }
  });
});
