import { MetricsCollector, seedView } from '@gatewayz/metrics-core';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createMetricsHandlers,
  type MetricsRequest,
  OPENMETRICS_CONTENT_TYPE,
  PrometheusExporter,
  TEXT_CONTENT_TYPE,
} from '../index.js';
import { parseExposition } from './helpers/exposition.js';
import { collectorWithClock, populatedCollector } from './helpers/fixtures.js';

const TOKEN = 'a-very-secret-admin-token-0123456789';
const PROM_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

const req = (method: string, path: string, headers: MetricsRequest['headers'] = {}): MetricsRequest => ({
  method,
  path,
  headers,
});
const refusals = (h: ReturnType<typeof createMetricsHandlers>, reason: string) => {
  const p = parseExposition(h.exporter.export());
  return p.samples.find((s) => s.name === 'gatewayz_metrics_admin_refusals_total' && s.labels.reason === reason)?.value;
};

describe('createMetricsHandlers', () => {
  const savedEnv = process.env.METRICS_ADMIN_TOKEN;
  afterEach(() => {
    if (savedEnv === undefined) delete process.env.METRICS_ADMIN_TOKEN;
    else process.env.METRICS_ADMIN_TOKEN = savedEnv;
  });

  describe('GET/HEAD /metrics', () => {
    const { collector } = populatedCollector();
    const h = createMetricsHandlers({ collector, adminToken: null });

    it('serves text 0.0.4 by default and OpenMetrics to Prometheus', async () => {
      const text = await h.metrics(req('GET', '/metrics'));
      expect(text.status).toBe(200);
      expect(text.headers['content-type']).toBe(TEXT_CONTENT_TYPE);
      expect(String(text.body)).toBe(h.exporter.export());
      parseExposition(String(text.body));
      const om = await h.metrics(req('GET', '/metrics', { accept: PROM_ACCEPT }));
      expect(om.headers['content-type']).toBe(OPENMETRICS_CONTENT_TYPE);
      expect(String(om.body)).toBe(h.exporter.exportOpenMetrics());
      const star = await h.metrics(req('GET', '/metrics', { accept: '*/*' }));
      expect(star.headers['content-type']).toBe(TEXT_CONTENT_TYPE);
    });

    it('reads headers whatever their case and from arrays', async () => {
      const om = await h.metrics(req('GET', '/metrics', { Accept: 'application/openmetrics-text' }));
      expect(om.headers['content-type']).toBe(OPENMETRICS_CONTENT_TYPE);
      const arr = await h.metrics(
        req('GET', '/metrics', { accept: ['text/plain;q=0.1', 'application/openmetrics-text'] }),
      );
      expect(arr.headers['content-type']).toBe(OPENMETRICS_CONTENT_TYPE);
    });

    it('HEAD gives the headers without a body', async () => {
      const r = await h.metrics(req('HEAD', '/metrics', { accept: PROM_ACCEPT }));
      expect(r.status).toBe(200);
      expect(r.body).toBe('');
      expect(r.headers['content-type']).toBe(OPENMETRICS_CONTENT_TYPE);
    });

    it.each(['POST', 'PUT', 'DELETE', 'PATCH'])('%s gets 405 with Allow', async (method) => {
      for (const handler of [h.metrics, h.json, h.health]) {
        const r = await handler(req(method, '/metrics'));
        expect(r.status).toBe(405);
        expect(r.headers.allow).toBe('GET, HEAD');
      }
    });
  });

  it('/metrics/json returns the snapshot as JSON', async () => {
    const { collector } = populatedCollector();
    const h = createMetricsHandlers({ collector, adminToken: null });
    const r = await h.json(req('GET', '/metrics/json'));
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(String(r.body))).toEqual(JSON.parse(JSON.stringify(collector.snapshot())));
  });

  describe('/metrics/health', () => {
    const drive = (requests: number, errors: number) => {
      const { collector, clock } = collectorWithClock({ windowSeconds: 60 });
      for (let i = 0; i < requests; i++) {
        collector.recordRequest({
          endpoint: '/x',
          method: 'GET',
          statusCode: i < errors ? 500 : 200,
          latencySeconds: 0.01,
        });
      }
      return { h: createMetricsHandlers({ collector, adminToken: null }), clock };
    };

    it('is 200 healthy below 5% errors', async () => {
      const r = await drive(100, 4).h.health(req('GET', '/metrics/health'));
      expect(r.status).toBe(200);
      expect(JSON.parse(String(r.body))).toMatchObject({ status: 'healthy', requests: 100, errors: 4 });
    });

    it('is 200 degraded from 5% to 10%', async () => {
      const r = await drive(100, 7).h.health(req('GET', '/metrics/health'));
      expect(r.status).toBe(200);
      expect(JSON.parse(String(r.body)).status).toBe('degraded');
    });

    it('is 503 unhealthy above 10%, and healthy again once the window has passed', async () => {
      const { h, clock } = drive(100, 20);
      const r = await h.health(req('GET', '/metrics/health'));
      expect(r.status).toBe(503);
      expect(JSON.parse(String(r.body))).toMatchObject({ status: 'unhealthy', errorRate: 0.2 });
      clock.advance(5 * 60_000);
      const later = await h.health(req('GET', '/metrics/health'));
      expect(later.status).toBe(200);
      expect(JSON.parse(String(later.body))).toMatchObject({ status: 'healthy', insufficientData: true });
    });

    it('HEAD gives the status without a body', async () => {
      const r = await drive(100, 20).h.health(req('HEAD', '/metrics/health'));
      expect(r.status).toBe(503);
      expect(r.body).toBe('');
    });
  });

  describe('POST /metrics/reset', () => {
    const setup = (...token: [string | null | undefined] | []) => {
      const { collector } = populatedCollector();
      return { collector, h: createMetricsHandlers({ collector, adminToken: token.length === 0 ? TOKEN : token[0] }) };
    };

    it('refuses GET with 405 Allow: POST', async () => {
      const { h, collector } = setup();
      const r = await h.reset(req('GET', '/metrics/reset', { authorization: `Bearer ${TOKEN}` }));
      expect(r.status).toBe(405);
      expect(r.headers.allow).toBe('POST');
      expect(seedView(collector.state()).cache.hits).toBe(7);
      expect(refusals(h, 'method')).toBe(1);
    });

    it('is disabled (403) when no token is configured', async () => {
      delete process.env.METRICS_ADMIN_TOKEN;
      for (const adminToken of [undefined, null, '']) {
        const { h, collector } = setup(adminToken);
        const r = await h.reset(req('POST', '/metrics/reset', { authorization: `Bearer ${TOKEN}` }));
        expect(r.status).toBe(403);
        expect(seedView(collector.state()).cache.hits).toBe(7);
        expect(refusals(h, 'disabled')).toBe(1);
      }
    });

    it('answers 401 with WWW-Authenticate without a bearer token', async () => {
      const { h, collector } = setup();
      for (const authorization of [undefined, '', 'Basic Zm9vOmJhcg==', 'Bearer', 'Bearer ']) {
        const r = await h.reset(req('POST', '/metrics/reset', authorization === undefined ? {} : { authorization }));
        expect(r.status, String(authorization)).toBe(401);
        expect(r.headers['www-authenticate']).toMatch(/^Bearer/);
      }
      expect(seedView(collector.state()).cache.hits).toBe(7);
      expect(refusals(h, 'missing_token')).toBe(5);
    });

    it('answers 403 to a wrong token', async () => {
      const { h, collector } = setup();
      for (const t of [`${TOKEN}x`, TOKEN.slice(0, -1), TOKEN.toUpperCase(), 'x']) {
        const r = await h.reset(req('POST', '/metrics/reset', { authorization: `Bearer ${t}` }));
        expect(r.status).toBe(403);
      }
      expect(seedView(collector.state()).cache.hits).toBe(7);
      expect(refusals(h, 'wrong_token')).toBe(4);
    });

    it('resets with the right token: counters are zeroed', async () => {
      const { h } = setup();
      const r = await h.reset(req('POST', '/metrics/reset', { authorization: `bearer  ${TOKEN}` }));
      expect(r.status).toBe(200);
      const p = parseExposition(h.exporter.export());
      const counters = p.samples.filter(
        (s) => p.families.get(s.family)!.type === 'counter' && !s.family.startsWith('gatewayz_metrics_admin'),
      );
      expect(counters.length).toBeGreaterThan(0);
      for (const s of counters) expect(s.value, s.line).toBe(0);
      expect(p.samples.filter((s) => s.name === 'http_requests_total')).toHaveLength(0);
    });

    it('reads the token from process.env.METRICS_ADMIN_TOKEN by default', async () => {
      process.env.METRICS_ADMIN_TOKEN = TOKEN;
      const { collector } = populatedCollector();
      const h = createMetricsHandlers({ collector });
      expect((await h.reset(req('POST', '/metrics/reset', { authorization: `Bearer ${TOKEN}` }))).status).toBe(200);
      expect(seedView(collector.state()).cache.hits).toBe(0);
      process.env.METRICS_ADMIN_TOKEN = 'short';
      expect(() => createMetricsHandlers({ collector })).toThrow(/^@gatewayz\/metrics-exporter/);
    });

    it('rejects a token shorter than 16 characters at creation', () => {
      const collector = new MetricsCollector({ runtimeMetrics: false });
      for (const adminToken of ['x', '123456789012345']) {
        expect(() => createMetricsHandlers({ collector, adminToken })).toThrow(TypeError);
        expect(() => createMetricsHandlers({ collector, adminToken })).toThrow(/^@gatewayz\/metrics-exporter/);
      }
      expect(() => createMetricsHandlers({ collector, adminToken: '1234567890123456' })).not.toThrow();
    });
  });

  describe('scrapeAuth', () => {
    const collector = new MetricsCollector({ runtimeMetrics: false });
    const bearer = createMetricsHandlers({ collector, adminToken: null, scrapeAuth: { bearerToken: TOKEN } });
    const basic = createMetricsHandlers({
      collector,
      adminToken: null,
      scrapeAuth: { basic: { username: 'prom', password: 'pä55:word' } },
    });
    const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

    it('bearer: the right token passes, anything else is 401', async () => {
      expect((await bearer.metrics(req('GET', '/metrics', { authorization: `Bearer ${TOKEN}` }))).status).toBe(200);
      expect((await bearer.json(req('GET', '/metrics/json', { authorization: `Bearer ${TOKEN}` }))).status).toBe(200);
      for (const authorization of [undefined, `Bearer ${TOKEN}x`, `Basic ${b64(`x:${TOKEN}`)}`, TOKEN]) {
        const r = await bearer.metrics(req('GET', '/metrics', authorization ? { authorization } : {}));
        expect(r.status).toBe(401);
        expect(r.headers['www-authenticate']).toMatch(/^Bearer/);
        expect((await bearer.json(req('GET', '/metrics/json', authorization ? { authorization } : {}))).status).toBe(
          401,
        );
      }
      expect(refusals(bearer, 'unauthorized_scrape')).toBe(8);
      // health stays open for load balancers
      expect((await bearer.health(req('GET', '/metrics/health'))).status).toBe(200);
    });

    it('basic: the right credentials pass (any scheme case), anything else is 401', async () => {
      for (const scheme of ['Basic', 'basic', 'BASIC']) {
        const r = await basic.metrics(req('GET', '/metrics', { authorization: `${scheme} ${b64('prom:pä55:word')}` }));
        expect(r.status, scheme).toBe(200);
      }
      for (const authorization of [
        undefined,
        `Basic ${b64('prom:wrong')}`,
        `Basic ${b64('Prom:pä55:word')}`,
        `Bearer ${TOKEN}`,
      ]) {
        const r = await basic.metrics(req('GET', '/metrics', authorization ? { authorization } : {}));
        expect(r.status).toBe(401);
        expect(r.headers['www-authenticate']).toMatch(/^Basic realm=/);
      }
    });

    it('rejects a short scrape bearer token, and a scrapeAuth with neither method, at creation', () => {
      expect(() => createMetricsHandlers({ collector, scrapeAuth: { bearerToken: 'short' } })).toThrow(
        /^@gatewayz\/metrics-exporter/,
      );
      expect(() => createMetricsHandlers({ collector, scrapeAuth: {} })).toThrow(/^@gatewayz\/metrics-exporter/);
      const basic = (username: string, password: string) => ({ basic: { username, password } });
      expect(() => createMetricsHandlers({ collector, scrapeAuth: basic('a:b', 'pw') })).toThrow(
        /^@gatewayz\/metrics-exporter/,
      );
      expect(() => createMetricsHandlers({ collector, scrapeAuth: basic('user', '') })).toThrow(
        /^@gatewayz\/metrics-exporter/,
      );
    });
  });

  describe('handle() routing', () => {
    const collector = new MetricsCollector({ runtimeMetrics: false });
    const h = createMetricsHandlers({ collector, adminToken: TOKEN });

    it('routes the four paths, with query strings and a trailing slash', async () => {
      expect((await h.handle(req('GET', '/metrics')))?.headers['content-type']).toBe(TEXT_CONTENT_TYPE);
      expect((await h.handle(req('GET', '/metrics/?x=1')))?.headers['content-type']).toBe(TEXT_CONTENT_TYPE);
      expect((await h.handle(req('GET', '/metrics?name[]=x')))?.status).toBe(200);
      expect((await h.handle(req('GET', '/metrics/json?pretty')))?.headers['content-type']).toMatch(/json/);
      expect(JSON.parse(String((await h.handle(req('GET', '/metrics/health/')))!.body).toString()).status).toBe(
        'healthy',
      );
      expect((await h.handle(req('GET', '/metrics/reset')))?.status).toBe(405);
      expect((await h.handle(req('POST', '/metrics/reset?now=1', { authorization: `Bearer ${TOKEN}` })))?.status).toBe(
        200,
      );
    });

    it('returns undefined for other paths', async () => {
      for (const path of ['/', '/metricsx', '/metrics/other', '/api/metrics', '/metrics/json/x', '', '/METRICS']) {
        expect(await h.handle(req('GET', path)), path).toBeUndefined();
        expect(h.owns(path)).toBe(false);
      }
      expect(await h.handle({ method: 'GET', headers: {} })).toBeUndefined();
      expect(h.owns('/metrics/json?x')).toBe(true);
    });

    it('routes a dashboard page path that is not under the prefix (owns() checks every route, not only the prefix)', async () => {
      const page = {
        serve: () => ({
          paths: ['/ops/board', '/metrics/dashboard'],
          respond: () => ({ status: 200, headers: { 'content-type': 'text/html' }, body: 'board' }),
        }),
      };
      const d = createMetricsHandlers({ collector, adminToken: null, dashboard: page });
      for (const path of ['/ops/board', '/ops/board/', '/ops/board?x=1', '/metrics/dashboard', '/metrics']) {
        expect(d.owns(path), path).toBe(true);
      }
      expect((await d.handle(req('GET', '/ops/board')))?.body).toBe('board');
      for (const path of ['/ops', '/ops/boardx', '/hello', '/metricsx']) expect(d.owns(path), path).toBe(false);
    });

    it('honours a custom prefix', async () => {
      const p = createMetricsHandlers({ collector, adminToken: null, prefix: '/internal/prom/' });
      expect(p.prefix).toBe('/internal/prom');
      expect((await p.handle(req('GET', '/internal/prom')))?.status).toBe(200);
      expect((await p.handle(req('GET', '/internal/prom/health')))?.status).toBe(200);
      expect(await p.handle(req('GET', '/metrics'))).toBeUndefined();
      expect(() => createMetricsHandlers({ collector, prefix: 'metrics' })).toThrow(/^@gatewayz\/metrics-exporter/);
    });
  });

  describe('append', () => {
    const other = (format: string) =>
      format === 'openmetrics'
        ? '# HELP other Other.\n# TYPE other counter\nother_total 3\n# EOF\n'
        : '# HELP other_total Other.\n# TYPE other_total counter\nother_total 3';

    it('concatenates another registry in 0.0.4', async () => {
      const { collector } = collectorWithClock();
      const h = createMetricsHandlers({ collector, adminToken: null, append: other });
      const r = await h.metrics(req('GET', '/metrics'));
      expect(r.body).toBe(`${h.exporter.export()}${other('text')}\n`);
      expect(parseExposition(String(r.body)).families.get('other_total')!.samples[0]!.value).toBe(3);
    });

    it('keeps exactly one # EOF at the end in OpenMetrics', async () => {
      const { collector } = collectorWithClock();
      const h = createMetricsHandlers({ collector, adminToken: null, append: async (f) => other(f) });
      const r = await h.metrics(req('GET', '/metrics', { accept: PROM_ACCEPT }));
      expect(String(r.body).match(/# EOF/g)).toHaveLength(1);
      expect(String(r.body).endsWith('other_total 3\n# EOF\n')).toBe(true);
      expect(parseExposition(String(r.body), 'openmetrics').families.get('other')!.type).toBe('counter');
      const empty = createMetricsHandlers({ collector, adminToken: null, append: () => '' });
      expect((await empty.metrics(req('GET', '/metrics', { accept: PROM_ACCEPT }))).body).toBe(
        empty.exporter.exportOpenMetrics(),
      );
    });
  });

  it('/metrics/json and /metrics/health never include the admin token or any header value', async () => {
    const { collector } = populatedCollector();
    const scrapeToken = 'scrape-token-abcdefghijklmnop';
    const h = createMetricsHandlers({ collector, adminToken: TOKEN, scrapeAuth: { bearerToken: scrapeToken } });
    const secretHeaders = {
      authorization: `Bearer ${scrapeToken}`,
      cookie: 'session=cookie-secret-value',
      'x-api-key': 'api-key-secret-value',
      'user-agent': 'agent-secret-value',
    };
    await h.reset(req('POST', '/metrics/reset', { authorization: `Bearer wrong-${TOKEN}` }));
    for (const path of ['/metrics/json', '/metrics/health']) {
      const r = await h.handle(req('GET', path, secretHeaders));
      expect([200, 503]).toContain(r?.status);
      expect(r?.body.length).toBeGreaterThan(50);
      const all = JSON.stringify(r);
      for (const secret of [TOKEN, scrapeToken, 'cookie-secret-value', 'api-key-secret-value', 'agent-secret-value']) {
        expect(all).not.toContain(secret);
      }
    }
  });

  it('works over an exporter without a resettable collector (501 on reset)', async () => {
    const c = new MetricsCollector({ runtimeMetrics: false });
    const exporter = new PrometheusExporter({ state: () => c.state() });
    const h = createMetricsHandlers({ exporter, adminToken: TOKEN });
    expect((await h.metrics(req('GET', '/metrics'))).status).toBe(200);
    expect((await h.reset(req('POST', '/metrics/reset', { authorization: `Bearer ${TOKEN}` }))).status).toBe(501);
  });
});
