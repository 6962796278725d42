import { MetricsCollector } from '@gatewayz/metrics-core';
import { parseExposition, sampleValue } from '@gatewayz/test-utils';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import defaultExport, { fastifyMetrics } from '../index.js';
import { buildApp } from './app.js';

describe('fastifyMetrics through fastify.inject', () => {
  it('records route templates, the unmatched label and thrown errors', async () => {
    const collector = new MetricsCollector();
    const app = await buildApp({ collector });
    for (const id of ['1', '2', '3']) expect((await app.inject({ url: `/api/users/${id}` })).statusCode).toBe(200);
    expect((await app.inject({ url: '/wp-login.php' })).statusCode).toBe(404);
    const boom = await app.inject({ url: '/api/v1/fail' });
    expect(boom.statusCode).toBe(500);
    expect(boom.json()).toMatchObject({ statusCode: 500, message: 'nested boom' });

    const res = await app.inject({ url: '/metrics' });
    expect(res.statusCode).toBe(200);
    const s = parseExposition(res.body);
    expect(sampleValue(s, 'http_requests_total', { endpoint: '/api/users/:id', method: 'GET' })).toBe(3);
    expect(sampleValue(s, 'http_requests_total', { endpoint: '__unmatched__', method: 'GET' })).toBe(1);
    expect(sampleValue(s, 'http_request_errors_total', { endpoint: '/api/v1/fail', method: 'GET' })).toBe(1);
    await app.close();
  });

  it('is a fastify-plugin with a name, exported as named and default', async () => {
    expect(defaultExport).toBe(fastifyMetrics);
    expect((fastifyMetrics as unknown as Record<symbol, unknown>)[Symbol.for('skip-override')]).toBe(true);
    const app = Fastify();
    await app.register(fastifyMetrics, { collector: new MetricsCollector() });
    expect(app.hasPlugin('@gatewayz/metrics-fastify')).toBe(true);
    await app.close();
  });

  it('answers POST /metrics/reset whatever body the client sends', async () => {
    const collector = new MetricsCollector();
    const app = await buildApp({ collector, adminToken: 'a-long-enough-admin-token' });
    await app.inject({ url: '/api/users/1' });
    const res = await app.inject({
      method: 'POST',
      url: '/metrics/reset',
      headers: {
        authorization: 'Bearer a-long-enough-admin-token',
        'content-type': 'application/x-www-form-urlencoded',
      },
      payload: 'x=1',
    });
    expect(res.statusCode).toBe(200);
    expect(collector.snapshot().totals.requests).toBe(0);
    await app.close();
  });
});
