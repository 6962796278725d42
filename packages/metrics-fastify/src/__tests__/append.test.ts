import { MetricsCollector } from '@gatewayz/metrics-core';
import { expectAppendConverted, PROM_CLIENT_TEXT } from '@gatewayz/test-utils';
import { describe, it } from 'vitest';
import { buildApp } from './app.js';

describe('fastifyMetrics append', () => {
  it('passes append through: prom-client text is converted to the negotiated format', async () => {
    const app = await buildApp({ collector: new MetricsCollector(), append: () => PROM_CLIENT_TEXT });
    await app.inject({ url: '/api/users/1' });
    await expectAppendConverted(async (accept) => {
      const res = await app.inject({ url: '/metrics', headers: accept ? { accept } : {} });
      return { contentType: String(res.headers['content-type']), body: res.rawPayload };
    });
    await app.close();
  });
});
