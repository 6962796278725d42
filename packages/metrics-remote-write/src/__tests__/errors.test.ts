import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { METRICS_ERROR_CODES, MetricsCollector, MetricsError } from '@gatewayz/metrics-core';
import { afterEach, describe, expect, it } from 'vitest';
import { RemoteWriteError, RemoteWriter } from '../index.js';
import { ProtoReader } from '../internal/protoReader.js';

const P = '@gatewayz/metrics-remote-write: ';

/** `error` in the house style: a MetricsError with a known code whose message names the package and shows `shown`. */
function expectStyle(error: unknown, code: string, shown: string): void {
  expect(error).toBeInstanceOf(MetricsError);
  const e = error as MetricsError;
  expect(METRICS_ERROR_CODES).toContain(e.code);
  expect(e.code).toBe(code);
  expect(e.packageName).toBe('@gatewayz/metrics-remote-write');
  expect(e.message).toBe(P + e.detail);
  expect(e.detail, e.message).toContain(shown);
}

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error, nothing was thrown');
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

describe('one error style (issue 10): RemoteWriteError is a MetricsError', () => {
  it('keeps its own name, class and fields, and is a MetricsError with a typed code', () => {
    const e = new RemoteWriteError('SERVER_ERROR', 'the receiver answered 503', { status: 503, retryable: true });
    expect(e).toBeInstanceOf(RemoteWriteError);
    expect(e).toBeInstanceOf(MetricsError);
    expect(e.name).toBe('RemoteWriteError');
    expect(e.status).toBe(503);
    expect(e.retryable).toBe(true);
    expectStyle(e, 'SERVER_ERROR', 'answered 503');
  });

  it('a rejected flush rejects with a MetricsError that shows the status the receiver gave', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(404).end('no such route');
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/wrong`;
    const w = new RemoteWriter({ url, collector: new MetricsCollector(), onError: () => {} });
    const e = await w.flush().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RemoteWriteError);
    expectStyle(e, 'REJECTED', 'answered 404');
  });

  it.each([
    ['no options', undefined, 'got undefined'],
    ['a url that is not a string', { url: 5 }, 'got the number 5'],
    ['a url that is not a URL', { url: 'nope' }, 'got "nope"'],
    ['a url of another scheme', { url: 'ftp://x/y' }, 'got ftp:'],
    ['a collector without state()', { url: 'http://x/y', collector: {} }, 'got an object'],
    ['a zero interval', { url: 'http://x/y', intervalSeconds: 0 }, 'got 0'],
    ['a misspelled key', { url: 'http://x/y', intervalSecond: 1 }, '"intervalSecond"'],
    ['a wrong kind', { url: 'http://x/y', nativeHistograms: 'yes' }, 'got the string "yes"'],
    ['a bad external label name', { url: 'http://x/y', externalLabels: { 'bad-name': 'x' } }, '"bad-name"'],
    ['an external label that is a number', { url: 'http://x/y', externalLabels: { dc: 5 } }, 'got the number 5'],
    ['a header that is a number', { url: 'http://x/y', headers: { 'x-a': 5 } }, 'got the number 5'],
  ])('option error: %s', (_name, options, shown) => {
    const o = options && !('collector' in options) ? { collector: new MetricsCollector(), ...options } : options;
    expectStyle(
      thrown(() => new RemoteWriter({ registerMetrics: false, ...(o as object) } as never)),
      'INVALID_OPTION',
      shown,
    );
  });

  it('a malformed protobuf is a SNAPSHOT_FAILED RemoteWriteError that says where it went wrong', () => {
    // A length-delimited field that claims 10 bytes where 2 follow.
    const e = thrown(() => new ProtoReader(Uint8Array.of(10, 1, 2)).sub());
    expect(e).toBeInstanceOf(RemoteWriteError);
    expectStyle(e, 'SNAPSHOT_FAILED', '10 bytes past the end at byte 1 of 3');
    expectStyle(
      thrown(() => new ProtoReader(Uint8Array.of(0x80)).varint()),
      'SNAPSHOT_FAILED',
      'truncated varint',
    );
    expectStyle(
      thrown(() => new ProtoReader(Uint8Array.of(1)).skip(3)),
      'SNAPSHOT_FAILED',
      'wire type 3',
    );
  });
});
