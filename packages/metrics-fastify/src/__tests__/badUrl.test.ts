import type { AddressInfo } from 'node:net';
import { MetricsCollector, seedView } from '@gatewayz/metrics-core';
import { parseExposition, sampleValue } from '@gatewayz/test-utils';
import Fastify from 'fastify';
import { expect, it } from 'vitest';
import { fastifyMetrics } from '../index.js';

it('records the 400 and 414 Fastify sends itself for a malformed URL or an over-long parameter', async () => {
  const collector = new MetricsCollector();
  const app = Fastify();
  await app.register(fastifyMetrics, { collector, adminToken: null });
  app.get('/u/:id', async () => 'ok');
  await app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  try {
    expect((await fetch(`${base}/u/%ED%A0%80`)).status).toBe(400); // a lone surrogate, percent-encoded
    expect((await fetch(`${base}/u/%zz`)).status).toBe(400);
    expect((await fetch(`${base}/u/${'x'.repeat(200)}`)).status).toBe(414);
    expect((await fetch(`${base}/u/1`)).status).toBe(200);
    expect((await fetch(`${base}/metrics/%ED%A0%80`)).status).toBe(400);
    const s = parseExposition(await (await fetch(`${base}/metrics`)).text());
    expect(sampleValue(s, 'http_response_status_total', { endpoint: '__unmatched__', status: '400' })).toBe(3);
    expect(sampleValue(s, 'http_response_status_total', { endpoint: '__unmatched__', status: '414' })).toBe(1);
    expect(sampleValue(s, 'http_requests_total', { endpoint: '/u/:id', method: 'GET' })).toBe(1);
    expect(seedView(collector.state()).totals.requests).toBe(5);
    // answered before any hook ran, yet counted in flight and back out
    expect((seedView(collector.state()).inFlight ?? []).map((f) => f.requests)).toEqual(
      (seedView(collector.state()).inFlight ?? []).map(() => 0),
    );
  } finally {
    await app.close();
  }
});
