import { describe, expect, it } from 'vitest';
import { MetricsCollector, mergeStates, type RequestRecord, reviveState, seedView } from '../index.js';

const T1 = '4bf92f3577b34da6a3ce929d0e0e4736';
const T2 = '0af7651916cd43dd8448eb211c80319c';
const S1 = '00f067aa0ba902b7';

function clock(start = 1_700_000_000_000) {
  let t = start;
  return { now: () => t, set: (v: number) => (t = v) };
}

const req = (latencySeconds: number, exemplar?: RequestRecord['exemplar']): RequestRecord => ({
  endpoint: '/v1/chat',
  method: 'POST',
  latencySeconds,
  statusCode: 200,
  ...(exemplar ? { exemplar } : {}),
});

describe('exemplars', () => {
  it('keeps the last exemplar of each classic bucket and of the counter, with value and time', () => {
    const c = clock();
    const m = new MetricsCollector({ now: c.now, histogramBuckets: [0.1, 1] });
    m.recordRequest(req(0.05, { traceId: T1, spanId: S1 }));
    c.set(1_700_000_000_500);
    m.recordRequest(req(0.5, { traceId: T2 }));
    c.set(1_700_000_001_000);
    m.recordRequest(req(0.07, { traceId: T2, spanId: S1 }));
    m.recordRequest(req(0.08)); // no trace: the bucket keeps the last one
    const s = seedView(m.state()).endpoints[0]!.methods[0]!;
    expect(s.exemplars).toEqual([
      { traceId: T2, spanId: S1, value: 0.07, timestampMs: 1_700_000_001_000 },
      { traceId: T2, value: 0.5, timestampMs: 1_700_000_000_500 },
      null,
    ]);
    expect(s.requestExemplar).toEqual({ traceId: T2, spanId: S1, value: 1, timestampMs: 1_700_000_001_000 });
  });

  it('holds at most one exemplar per bucket per series, however many requests', () => {
    const m = new MetricsCollector({ histogramBuckets: [0.1, 1] });
    for (let i = 0; i < 5000; i++) {
      const hex = i.toString(16).padStart(32, '1');
      m.recordRequest(req((i % 30) / 10, { traceId: hex }));
    }
    const s = seedView(m.state()).endpoints[0]!.methods[0]!;
    expect(s.exemplars).toHaveLength(3);
    expect(s.exemplars!.every((e) => e !== null)).toBe(true);
    expect(s.exemplars![2]!.traceId).toBe((4999).toString(16).padStart(32, '1'));
  });

  it('a series without any trace carries no exemplar fields', () => {
    const m = new MetricsCollector();
    m.recordRequest(req(0.2));
    const s = seedView(m.state()).endpoints[0]!.methods[0]!;
    expect('exemplars' in s).toBe(false);
    expect('requestExemplar' in s).toBe(false);
  });

  it.each([
    ['upper-case hex', { traceId: T1.toUpperCase() }],
    ['all-zero trace id', { traceId: '0'.repeat(32) }],
    ['short trace id', { traceId: T1.slice(1) }],
    ['long trace id', { traceId: `${T1}0` }],
    ['label injection', { traceId: `${T1.slice(0, 30)}"}` }],
    ['newline', { traceId: `${T1.slice(0, 31)}\n` }],
    ['all-zero span id', { traceId: T1, spanId: '0'.repeat(16) }],
    ['bad span id', { traceId: T1, spanId: 'xyz' }],
    ['span id injection', { traceId: T1, spanId: '"} 1 # {a="b' }],
    ['number', { traceId: 42 }],
    ['string', 'abc'],
  ])('drops and counts a malformed exemplar (%s), still recording the request', (_, exemplar) => {
    const m = new MetricsCollector();
    m.recordRequest(req(0.2, exemplar as never));
    const st = seedView(m.state());
    const s = st.endpoints[0]!.methods[0]!;
    expect(s.requests).toBe(1);
    expect(s.count).toBe(1);
    expect(s.exemplars).toBeUndefined();
    expect(s.requestExemplar).toBeUndefined();
    expect(st.dropped.invalid_exemplar).toBe(1);
  });

  it('an invalid latency keeps the counter exemplar but no bucket exemplar', () => {
    const m = new MetricsCollector();
    m.recordRequest(req(Number.NaN, { traceId: T1 }));
    const s = seedView(m.state()).endpoints[0]!.methods[0]!;
    expect(s.exemplars).toBeUndefined();
    expect(s.requestExemplar?.traceId).toBe(T1);
  });

  it('mergeStates keeps the latest exemplar per bucket, through JSON and reviveState (cluster IPC)', () => {
    const ca = clock();
    const cb = clock();
    const a = new MetricsCollector({ now: ca.now, histogramBuckets: [0.1, 1] });
    const b = new MetricsCollector({ now: cb.now, histogramBuckets: [0.1, 1] });
    ca.set(2000);
    a.recordRequest(req(0.05, { traceId: T1 })); // later in bucket 0
    cb.set(1000);
    b.recordRequest(req(0.05, { traceId: T2 }));
    cb.set(3000);
    b.recordRequest(req(0.5, { traceId: T2 })); // only in bucket 1
    ca.set(1500);
    a.recordRequest(req(5, { traceId: T1 }));
    const viaJson = reviveState(JSON.parse(JSON.stringify(b.state())));
    for (const merged of [mergeStates([a.state(), viaJson]), mergeStates([viaJson, a.state()])]) {
      const m = seedView(merged).endpoints[0]!.methods[0]!;
      expect(m.exemplars!.map((e) => e && [e.traceId, e.timestampMs])).toEqual([
        [T1, 2000],
        [T2, 3000],
        [T1, 1500],
      ]);
      expect(m.requestExemplar).toMatchObject({ traceId: T2, timestampMs: 3000 });
      expect(m.buckets).toEqual([2, 1, 1]);
    }
    // the inputs are not modified
    expect(seedView(a.state()).endpoints[0]!.methods[0]!.exemplars![1]).toBeNull();
  });
});
