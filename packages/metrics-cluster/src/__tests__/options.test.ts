import { MessageChannel } from 'node:worker_threads';
import { MetricsCollector, MetricsError } from '@gatewayz/metrics-core';
import { describe, expect, it } from 'vitest';
import { ClusterAggregator, serveWorkerMetrics } from '../index.js';
import { isReply, isRequest, REPLY_KINDS, REPLY_TO, REQUEST_KINDS, TAG } from '../protocol.js';

function thrown(f: () => unknown): MetricsError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(MetricsError);
    expect(e).toBeInstanceOf(TypeError);
    expect((e as MetricsError).code).toBe('INVALID_OPTION');
    return e as MetricsError;
  }
  throw new Error('expected a MetricsError, nothing was thrown');
}

const P = '@gatewayz/metrics-cluster: ';

describe('ClusterAggregator options', () => {
  it.each([
    [{ timeout: 500 }, 'unknown option "timeout"; did you mean "timeoutMs"?'],
    [{ perworker: true }, 'unknown option "perworker"; did you mean "perWorker"?'],
    [{ includeClusterWorker: false }, 'unknown option "includeClusterWorker"; did you mean "includeClusterWorkers"?'],
    [{ perWorker: 'yes' }, 'option "perWorker" must be a boolean, got the string "yes"'],
    [{ timeoutMs: '500' }, 'option "timeoutMs" must be a number, got the string "500"'],
    [{ timeoutMs: 0 }, 'timeoutMs must be a positive number, got 0'],
    [{ local: {} }, 'option "local" must be a MetricsCollector'],
  ])('%j', (o, message) => {
    expect(thrown(() => new ClusterAggregator(o as never)).message).toBe(P + message);
  });

  it('accepts every documented option', () => {
    expect(
      () =>
        new ClusterAggregator({
          local: new MetricsCollector(),
          timeoutMs: 50,
          includeClusterWorkers: false,
          perWorker: true,
        }),
    ).not.toThrow();
  });
});

describe('serveWorkerMetrics options', () => {
  it('rejects a misspelled key, a wrong kind and a port that cannot listen', () => {
    const { port1, port2 } = new MessageChannel();
    try {
      expect(thrown(() => serveWorkerMetrics({ colector: new MetricsCollector(), port: port1 } as never)).message).toBe(
        `${P}unknown option "colector"; did you mean "collector"?`,
      );
      expect(thrown(() => serveWorkerMetrics({ collector: 5, port: port1 } as never)).message).toBe(
        `${P}option "collector" must be an object, got the number 5`,
      );
      expect(thrown(() => serveWorkerMetrics({ collector: {}, port: port1 } as never)).message).toBe(
        `${P}option "collector" must be a MetricsCollector, got an object without state()`,
      );
      expect(thrown(() => serveWorkerMetrics({ port: {} } as never)).message).toBe(
        `${P}option "port" must have on() and off() (a MessagePort, parentPort or process), got an object without on()`,
      );
      const stop = serveWorkerMetrics({ collector: new MetricsCollector(), port: port1 });
      stop();
    } finally {
      port1.close();
      port2.close();
    }
  });
});

describe('the cluster protocol: one list of message kinds', () => {
  it('knows each request and reply kind, and nothing else', () => {
    for (const kind of REQUEST_KINDS) expect(isRequest({ [TAG]: kind, id: 1 }), kind).toBe(true);
    for (const kind of Object.values(REPLY_TO)) expect(isReply({ [TAG]: kind, id: 1 }), kind).toBe(true);
    expect([...REPLY_KINDS].sort()).toEqual(Object.values(REPLY_TO).sort());
    for (const m of [{ [TAG]: 'state', id: 1 }, { [TAG]: 'collec', id: 1 }, { type: 'collect' }, null, 'collect'])
      expect(isRequest(m), JSON.stringify(m)).toBe(false);
    for (const m of [{ [TAG]: 'collect', id: 1 }, { [TAG]: 'reset_done', id: 1 }, undefined])
      expect(isReply(m), JSON.stringify(m)).toBe(false);
  });
});
