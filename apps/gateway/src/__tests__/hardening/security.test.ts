import { MetricsCollector } from '@gatewayz/metrics-core';
import { parseExposition, sampleValue } from '@gatewayz/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FRAMEWORKS, type Gateway, startGateway } from '../../gateway.js';
import { ADMIN_TOKEN, http, spawnCli } from './helpers.js';

/**
 * The admin and metrics surface: reset takes only `Authorization: Bearer <token>` and refuses (and
 * counts) everything else; no token disables it; a short token stops startup; the read-only views
 * leak no secrets or raw request data; the demo never logs tokens; bad bodies get clear 400/413s.
 */

const refusals = async (base: string): Promise<Record<string, number>> => {
  const samples = parseExposition(await (await fetch(`${base}/metrics`)).text());
  return Object.fromEntries(
    samples.filter((s) => s.name === 'gatewayz_metrics_admin_refusals_total').map((s) => [s.labels.reason, s.value]),
  );
};

describe.each(FRAMEWORKS)('on %s', (framework) => {
  let gw: Gateway;
  beforeAll(async () => {
    gw = await startGateway({
      framework,
      collector: new MetricsCollector(),
      adminToken: ADMIN_TOKEN,
      seed: 9,
      errorRateScale: 0,
      billingErrorRate: 0,
    });
  });
  afterAll(() => gw?.close());

  it('reset accepts only Authorization: Bearer <token>, refuses GET, and counts every refusal', async () => {
    const reset = `${gw.url}/metrics/reset`;
    const b64 = Buffer.from(ADMIN_TOKEN).toString('base64');
    const refused: [string, Record<string, string>, number, string][] = [
      ['no credentials', {}, 401, 'missing_token'],
      ['Basic with the token', { authorization: `Basic ${b64}` }, 401, 'missing_token'],
      [
        'Basic user:token',
        { authorization: `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}` },
        401,
        'missing_token',
      ],
      ['another scheme', { authorization: `Token ${ADMIN_TOKEN}` }, 401, 'missing_token'],
      ['the bare token', { authorization: ADMIN_TOKEN }, 401, 'missing_token'],
      ['a trailing extra word', { authorization: `Bearer ${ADMIN_TOKEN} x` }, 401, 'missing_token'],
      ['the token in another header', { 'x-admin-token': ADMIN_TOKEN, 'x-api-key': ADMIN_TOKEN }, 401, 'missing_token'],
      ['the token as a cookie', { cookie: `token=${ADMIN_TOKEN}` }, 401, 'missing_token'],
      ['a longer token', { authorization: `Bearer ${ADMIN_TOKEN}x` }, 403, 'wrong_token'],
      ['a prefix of the token', { authorization: `Bearer ${ADMIN_TOKEN.slice(0, -1)}` }, 403, 'wrong_token'],
      ['the token upper-cased', { authorization: `Bearer ${ADMIN_TOKEN.toUpperCase()}` }, 403, 'wrong_token'],
      ['an empty-looking token', { authorization: 'Bearer ""' }, 403, 'wrong_token'],
    ];
    const expected: Record<string, number> = {};
    for (const [why, headers, status, reason] of refused) {
      const res = await http(reset, { method: 'POST', headers });
      expect(res.status, why).toBe(status);
      expect(res.body, why).not.toContain(ADMIN_TOKEN);
      if (status === 401) expect(res.headers['www-authenticate']).toMatch(/^Bearer /);
      expect(JSON.parse(res.body)).toHaveProperty('error');
      expected[reason] = (expected[reason] ?? 0) + 1;
    }
    // In the query string or the body: still no credentials.
    for (const init of [
      { url: `${reset}?token=${ADMIN_TOKEN}&access_token=${ADMIN_TOKEN}`, body: undefined },
      { url: reset, body: JSON.stringify({ token: ADMIN_TOKEN, authorization: `Bearer ${ADMIN_TOKEN}` }) },
    ]) {
      const res = await http(init.url, { method: 'POST', ...(init.body && { body: init.body }) });
      expect(res.status).toBe(401);
      expected.missing_token! += 1;
    }
    for (const method of ['GET', 'HEAD', 'PUT', 'DELETE', 'PATCH']) {
      const res = await http(reset, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect(res.status, method).toBe(405);
      expect(res.headers.allow).toBe('POST');
      expected.method = (expected.method ?? 0) + 1;
    }
    expect(await refusals(gw.url)).toEqual({ disabled: 0, unauthorized_scrape: 0, ...expected });

    // The one accepted form (the scheme is case-insensitive, RFC 9110), which really resets.
    await fetch(`${gw.url}/api/models`);
    for (const scheme of ['Bearer', 'bearer']) {
      const ok = await http(reset, { method: 'POST', headers: { authorization: `${scheme} ${ADMIN_TOKEN}` } });
      expect(ok.status).toBe(200);
    }
    const after = parseExposition(await (await fetch(`${gw.url}/metrics`)).text());
    expect(sampleValue(after, 'http_requests_total', { endpoint: '/api/models', method: 'GET' })).toBe(0);
    // Refusals are the exporter's own counters: a reset of the collector does not wipe the evidence.
    expect(await refusals(gw.url)).toEqual({ disabled: 0, unauthorized_scrape: 0, ...expected });
  });

  it('without a token reset is disabled (403, counted), whatever credentials are sent', async () => {
    const off = await startGateway({ framework, collector: new MetricsCollector(), adminToken: null, seed: 1 });
    try {
      for (const authorization of [undefined, `Bearer ${ADMIN_TOKEN}`, 'Bearer ', 'Bearer undefined', 'Bearer null']) {
        const res = await http(`${off.url}/metrics/reset`, {
          method: 'POST',
          ...(authorization !== undefined && { headers: { authorization } }),
        });
        expect(res.status).toBe(403);
        expect(JSON.parse(res.body).error).toMatch(/disabled/);
      }
      expect((await refusals(off.url)).disabled).toBe(5);
    } finally {
      await off.close();
    }
  });

  it('a token shorter than 16 characters stops startup with a clear error', async () => {
    for (const adminToken of ['short', 'x'.repeat(15)]) {
      await expect(startGateway({ framework, adminToken })).rejects.toThrow(
        /adminToken must be at least 16 characters/,
      );
    }
  });

  it('/metrics, /metrics/json and /metrics/health leak no secrets or raw request data', async () => {
    const secret = (n: number) => `SeCrEt${n}zq`;
    const token = (n: number) => `sk-live-${secret(n)}-0123456789abcdef`;
    const headers = {
      authorization: `Bearer ${token(1)}`,
      cookie: `session=${secret(2)}; csrf=${secret(3)}`,
      'x-api-key': token(4),
      'x-forwarded-for': secret(5),
      'user-agent': `scanner/${secret(6)}`,
      'content-type': 'application/json',
    };
    const chat = (body: unknown, path = '/api/chat') =>
      http(`${gw.url}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
    expect(
      (await chat({ message: `my password is ${secret(7)}`, model: 'gpt-4o-mini', apiKey: token(8) })).status,
    ).toBe(200);
    expect((await chat({ message: 'x', model: `${secret(9)}-model` })).status).toBe(400);
    expect((await chat({ message: 'x' }, `/api/chat?api_key=${token(10)}&q=${secret(11)}`)).status).toBe(200);
    expect((await chat({ message: `{"token": "${token(12)}"`, model: 'claude-3-5-haiku' })).status).toBe(200);
    expect((await http(`${gw.url}/api/models?access_token=${token(13)}`, { headers })).status).toBe(200);
    expect((await http(`${gw.url}/${secret(14)}/.env?password=${secret(15)}`, { headers })).status).toBe(404);
    expect(
      (await http(`${gw.url}/api/admin/providers/${secret(16)}/outage`, { method: 'POST', headers, body: '{}' }))
        .status,
    ).toBe(403);
    expect((await http(`${gw.url}/metrics/reset?token=${token(17)}`, { method: 'POST', headers })).status).toBe(403);
    expect((await chat({ message: 'y', model: 'gpt-4o' }, `/metrics/json?token=${token(18)}`)).status).toBe(405);

    const views = [
      await http(`${gw.url}/metrics`),
      await http(`${gw.url}/metrics`, { headers: { accept: 'application/openmetrics-text; version=1.0.0' } }),
      await http(`${gw.url}/metrics/json`),
      await http(`${gw.url}/metrics/health`),
      await http(`${gw.url}/metrics?token=${token(19)}`, { headers }),
    ];
    const protobuf = await fetch(`${gw.url}/metrics`, {
      headers: { accept: 'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited' },
    });
    const bodies = [...views.map((v) => v.body), Buffer.from(await protobuf.arrayBuffer()).toString('latin1')];
    for (const body of bodies) {
      expect(body.length).toBeGreaterThan(50);
      expect(body).not.toMatch(/SeCrEt\d+zq/);
      expect(body).not.toContain('sk-live');
      expect(body).not.toContain(ADMIN_TOKEN);
      expect(body).not.toMatch(/password|cookie|session=|x-api-key|user-agent|scanner\//i);
      expect(body).not.toContain('127.0.0.1'); // no client addresses, no upstream URLs
    }
    // The JSON view holds labels and numbers only: no header, body, query string or address fields.
    const json = JSON.parse(views[2]!.body) as Record<string, unknown>;
    const keys = new Set<string>();
    const walk = (v: unknown) => {
      if (!v || typeof v !== 'object') return;
      for (const [k, x] of Object.entries(v)) {
        keys.add(k);
        walk(x);
      }
    };
    walk(json);
    for (const k of ['headers', 'body', 'query', 'url', 'ip', 'authorization', 'message', 'token'])
      expect(keys.has(k), k).toBe(false);
  });

  it('bodies over 64 KiB get 413 (declared or streamed), bad JSON a clear 400, and the server stays up', async () => {
    const chat = (body: string | Buffer, chunked = false) =>
      http(`${gw.url}/api/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, chunked });
    const big = JSON.stringify({ message: 'x'.repeat(64 * 1024) });
    const cases: [string, Promise<{ status: number; body: string }>, number, string, RegExp][] = [
      ['declared 64 KiB + 1', chat(big.slice(0, 64 * 1024 + 1)), 413, 'payload_too_large', /larger than 65536 bytes/],
      ['streamed (chunked) 1 MiB', chat('x'.repeat(1 << 20), true), 413, 'payload_too_large', /larger than 65536/],
      [
        'exactly 64 KiB is read, then validated',
        chat(`{"message": "${'y'.repeat(64 * 1024 - 15)}"}`),
        400,
        'invalid_request',
        /longer than 16000 characters/,
      ],
      ['truncated JSON', chat('{"message": "hi"'), 400, 'invalid_json', /not valid JSON/],
      ['not an object', chat('"hello"'), 400, 'invalid_request', /not a JSON object/],
      ['nested 20k deep', chat('['.repeat(20_000) + ']'.repeat(20_000)), 400, 'invalid_request', /not a JSON object/],
      ['invalid UTF-8', chat(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])), 400, 'invalid_json', /JSON/],
      ['message of the wrong type', chat('{"message": {"$gt": ""}}'), 400, 'invalid_request', /non-empty string/],
      ['model of the wrong type', chat('{"message": "a", "model": ["gpt-4o"]}'), 400, 'invalid_request', /"model"/],
    ];
    for (const [why, pending, status, code, message] of cases) {
      const res = await pending;
      expect(res.status, why).toBe(status);
      const body = JSON.parse(res.body) as { error: { code: string; message: string } };
      expect(body.error.code, why).toBe(code);
      expect(body.error.message, why).toMatch(message);
    }
    // __proto__ in the body is plain data: the request works and nothing is polluted.
    const proto = await chat('{"message": "proto", "model": "mistral-small", "__proto__": {"polluted": true}}');
    expect(proto.status).toBe(200);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
    const samples = parseExposition(await (await fetch(`${gw.url}/metrics`)).text());
    expect(sampleValue(samples, 'http_response_status_total', { endpoint: '/api/chat', status: '413' })).toBe(2);
  });

  it('admin routes are off without a token (403), need the exact bearer with one, and work with it', async () => {
    const anthropic = async (base: string) => {
      const body = JSON.parse((await http(`${base}/api/providers`)).body) as {
        providers: { name: string; status: string }[];
      };
      return body.providers.find((p) => p.name === 'anthropic')?.status;
    };
    const json = { 'content-type': 'application/json' };
    const open = await startGateway({ framework, collector: new MetricsCollector(), adminToken: null, seed: 9 });
    try {
      const outage = `${open.url}/api/admin/providers/anthropic/outage`;
      for (const headers of [json, { ...json, authorization: `Bearer ${ADMIN_TOKEN}` }]) {
        for (const [method, body] of [
          ['POST', '{"seconds": 86400}'],
          ['DELETE', undefined],
        ] as const) {
          const res = await http(outage, { method, headers, ...(body !== undefined && { body }) });
          expect(res.status, `${method} without a configured token`).toBe(403);
          const error = (JSON.parse(res.body) as { error: { code: string; message: string } }).error;
          expect(error.code).toBe('admin_disabled');
          expect(error.message).toMatch(/admin routes are disabled: start the gateway with METRICS_ADMIN_TOKEN/);
        }
      }
      expect(await anthropic(open.url)).toBe('up');
    } finally {
      await open.close();
    }

    const outage = `${gw.url}/api/admin/providers/anthropic/outage`;
    const refused: [string, Record<string, string>, number][] = [
      ['no credentials', {}, 401],
      ['Basic with the token', { authorization: `Basic ${Buffer.from(ADMIN_TOKEN).toString('base64')}` }, 401],
      ['the bare token', { authorization: ADMIN_TOKEN }, 401],
      ['the token as a cookie', { cookie: `token=${ADMIN_TOKEN}` }, 401],
      ['the token in another header', { 'x-admin-token': ADMIN_TOKEN }, 401],
      ['a wrong token', { authorization: 'Bearer wrong-token-but-long-enough-1' }, 403],
      ['a prefix of the token', { authorization: `Bearer ${ADMIN_TOKEN.slice(0, -1)}` }, 403],
    ];
    for (const [why, headers, status] of refused) {
      const post = await http(outage, { method: 'POST', headers: { ...json, ...headers }, body: '{"seconds": 60}' });
      expect(post.status, `POST, ${why}`).toBe(status);
      expect((await http(outage, { method: 'DELETE', headers })).status, `DELETE, ${why}`).toBe(status);
    }
    expect(await anthropic(gw.url)).toBe('up');
    const auth = { ...json, authorization: `Bearer ${ADMIN_TOKEN}` };
    expect((await http(outage, { method: 'POST', headers: auth, body: '{"seconds": 60}' })).status).toBe(200);
    expect(await anthropic(gw.url)).toBe('outage');
    expect((await http(outage, { method: 'DELETE', headers: auth })).status).toBe(200);
    expect(await anthropic(gw.url)).toBe('up');
  });

  it('malformed URLs get a 4xx on every route, and 30 of them leave health healthy', async () => {
    const g = await startGateway({
      framework,
      collector: new MetricsCollector(),
      adminToken: ADMIN_TOKEN,
      seed: 9,
      errorRateScale: 0,
      billingErrorRate: 0,
    });
    try {
      const auth = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
      const malformed: [string, string][] = [
        ['DELETE', '/api/admin/providers/%zz/outage'],
        ['POST', '/api/admin/providers/%E0%A4%A/outage'],
        ['DELETE', '/api/admin/providers/%/outage'],
        ['POST', '/api/admin/providers/%C0%AF/outage'],
        ['GET', '/api/%zz'],
        ['GET', '/%ff%zz'],
      ];
      const statuses: number[] = [];
      for (let i = 0; i < 30; i++) {
        const [method, path] = malformed[i % malformed.length]!;
        const res = await http(`${g.url}${path}`, { method, headers: auth, ...(method === 'POST' && { body: '{}' }) });
        expect(res.status, `${method} ${path}`).toBeGreaterThanOrEqual(400);
        expect(res.status, `${method} ${path}`).toBeLessThan(500);
        expect(() => JSON.parse(res.body), `${method} ${path}: a JSON error`).not.toThrow();
        statuses.push(res.status);
      }
      const health = await http(`${g.url}/metrics/health`);
      const body = JSON.parse(health.body) as { status: string; errors: number; insufficientData: boolean };
      expect(body).toMatchObject({ status: 'healthy', errors: 0, insufficientData: false });
      expect(health.status).toBe(200);
      const samples = parseExposition(await (await fetch(`${g.url}/metrics`)).text());
      const serverErrors = samples
        .filter((s) => s.name === 'http_response_status_total' && (s.labels.status ?? '').startsWith('5'))
        .reduce((n, s) => n + s.value, 0);
      expect(serverErrors).toBe(0);
      malformedFigures.push(`${framework}: ${[...new Set(statuses)].join('/')}, health ${body.status}`);
    } finally {
      await g.close();
    }
  });
});

const malformedFigures: string[] = [];
describe('malformed URL figures', () => {
  it('reports', () => console.info(`30 malformed URLs:\n  ${malformedFigures.join('\n  ')}`));
});

describe('the demo CLI', () => {
  it('refuses a short METRICS_ADMIN_TOKEN at startup with a clear message, without echoing it', async () => {
    const cli = spawnCli([], { METRICS_ADMIN_TOKEN: 'short-tok3n' });
    const code = await cli.exited;
    expect(code).not.toBe(0);
    expect(cli.stderr()).toMatch(/METRICS_ADMIN_TOKEN is too short \(11 characters\): use at least 16/);
    expect(cli.stdout() + cli.stderr()).not.toContain('short-tok3n');
  });

  it('never logs the token, right or wrong, while it is used', async () => {
    const wrong = 'wrong-token-but-long-enough-123';
    const cli = spawnCli(['--framework', 'express', '--seed', '2'], { METRICS_ADMIN_TOKEN: ADMIN_TOKEN });
    try {
      const base = await cli.ready;
      const auth = (t: string) => ({ authorization: `Bearer ${t}`, 'content-type': 'application/json' });
      expect((await http(`${base}/metrics/reset`, { method: 'POST', headers: auth(wrong) })).status).toBe(403);
      expect((await http(`${base}/metrics/reset`, { method: 'POST', headers: auth(ADMIN_TOKEN) })).status).toBe(200);
      const outage = `${base}/api/admin/providers/google/outage`;
      expect((await http(outage, { method: 'POST', headers: auth(wrong), body: '{}' })).status).toBe(403);
      expect((await http(outage, { method: 'POST', headers: auth(ADMIN_TOKEN), body: '{"seconds": 1}' })).status).toBe(
        200,
      );
      expect((await http(outage, { method: 'DELETE', headers: auth(ADMIN_TOKEN) })).status).toBe(200);
      expect((await http(`${base}/api/chat`, { method: 'POST', headers: auth(ADMIN_TOKEN), body: '{' })).status).toBe(
        400,
      );
      expect((await http(`${base}/metrics`, { headers: auth(ADMIN_TOKEN) })).status).toBe(200);
    } finally {
      cli.child.kill('SIGTERM');
    }
    expect(await cli.exited).toBe(0);
    const logs = cli.stdout() + cli.stderr();
    expect(logs).toContain('listening on');
    expect(logs).not.toContain(ADMIN_TOKEN);
    expect(logs).not.toContain(wrong);
    expect(cli.stderr()).toBe('');
  });
});
