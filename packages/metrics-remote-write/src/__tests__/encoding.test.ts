import { MetricsCollector } from '@gatewayz/metrics-core';
import { PrometheusExporter } from '@gatewayz/metrics-exporter';
import { parseExposition } from '@gatewayz/test-utils';
import { describe, expect, it } from 'vitest';
import * as api from '../index.js';
import { decodeExposition } from '../internal/exposition.js';
import { snappyCompress, snappyUncompress } from '../internal/snappy.js';
import { encodeWriteRequest, type TimeSeries, toTimeSeries } from '../internal/writeRequest.js';

// An independent protobuf wire decoder (BigInt varints, no schema): field number -> raw values.
type Field = { wire: number; int?: bigint; bytes?: Uint8Array; f64?: number };
function wire(buf: Uint8Array): Map<number, Field[]> {
  const out = new Map<number, Field[]>();
  let i = 0;
  const varint = () => {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      const b = buf[i++];
      if (b === undefined) throw new Error('truncated');
      v |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return v;
      shift += 7n;
    }
  };
  while (i < buf.length) {
    const tag = Number(varint());
    const f: Field = { wire: tag & 7 };
    if (f.wire === 0) f.int = varint();
    else if (f.wire === 1) {
      f.f64 = new DataView(buf.buffer, buf.byteOffset + i, 8).getFloat64(0, true);
      i += 8;
    } else if (f.wire === 2) {
      const n = Number(varint());
      f.bytes = buf.subarray(i, i + n);
      i += n;
    } else throw new Error(`wire ${f.wire}`);
    const list = out.get(tag >> 3) ?? [];
    list.push(f);
    out.set(tag >> 3, list);
  }
  return out;
}
const str = (f: Field | undefined) => new TextDecoder().decode(f?.bytes ?? new Uint8Array());
const zigzag = (v: bigint) => Number((v >> 1n) ^ -(v & 1n));
const int64 = (v: bigint | undefined) => Number(BigInt.asIntN(64, v ?? 0n));

interface Decoded {
  labels: [string, string][];
  samples: [number, number][];
  histograms: Map<number, Field[]>[];
}
function decodeWriteRequest(buf: Uint8Array): Decoded[] {
  return (wire(buf).get(1) ?? []).map((ts) => {
    const t = wire(ts.bytes!);
    return {
      labels: (t.get(1) ?? []).map((l) => {
        const m = wire(l.bytes!);
        return [str(m.get(1)?.[0]), str(m.get(2)?.[0])] as [string, string];
      }),
      samples: (t.get(2) ?? []).map((s) => {
        const m = wire(s.bytes!);
        return [m.get(1)?.[0]?.f64 ?? 0, int64(m.get(2)?.[0]?.int)] as [number, number];
      }),
      histograms: (t.get(4) ?? []).map((h) => wire(h.bytes!)),
    };
  });
}

// An independent snappy block decoder (the format from google/snappy's format_description.txt).
function unsnappy(src: Uint8Array): Uint8Array {
  let i = 0;
  let len = 0;
  for (let shift = 0; ; shift += 7) {
    const b = src[i++]!;
    len |= (b & 0x7f) << shift;
    if (b < 0x80) break;
  }
  const out = new Uint8Array(len);
  let o = 0;
  while (i < src.length) {
    const tag = src[i++]!;
    const kind = tag & 3;
    if (kind === 0) {
      let n = tag >> 2;
      if (n >= 60) {
        const bytes = n - 59;
        n = 0;
        for (let k = 0; k < bytes; k++) n |= src[i++]! << (8 * k);
      }
      n += 1;
      out.set(src.subarray(i, i + n), o);
      i += n;
      o += n;
      continue;
    }
    let n: number;
    let off: number;
    if (kind === 1) {
      n = ((tag >> 2) & 7) + 4;
      off = ((tag >> 5) << 8) | src[i++]!;
    } else if (kind === 2) {
      n = (tag >> 2) + 1;
      off = src[i]! | (src[i + 1]! << 8);
      i += 2;
    } else {
      n = (tag >> 2) + 1;
      off = src[i]! | (src[i + 1]! << 8) | (src[i + 2]! << 16) | (src[i + 3]! << 24);
      i += 4;
    }
    for (let k = 0; k < n; k++, o++) out[o] = out[o - off]!;
  }
  if (o !== len) throw new Error(`snappy: ${o} bytes, header says ${len}`);
  return out;
}

function busyCollector(): MetricsCollector {
  const c = new MetricsCollector({ runtimeMetrics: false });
  for (let i = 0; i < 500; i++) {
    c.recordRequest({
      endpoint: `/e${i % 7}`,
      method: i % 2 ? 'GET' : 'POST',
      latencySeconds: (i % 50) / 40 + 0.0001,
      statusCode: i % 13 === 0 ? 500 : 200,
      provider: 'openai',
      model: i % 3 ? 'gpt-4o' : 'o1 "quoted" ✓',
    });
  }
  c.recordCacheHit();
  c.recordDbQuery(0.02);
  c.recordExternalApiCall('stripe');
  return c;
}

describe('exposition → WriteRequest', () => {
  it('every sample of the text exposition arrives, same labels and value, with __name__ first and labels sorted', async () => {
    const c = busyCollector();
    const exporter = new PrometheusExporter(c);
    const text = parseExposition(exporter.export());
    const families = decodeExposition(await exporter.exportProtobuf());
    const series = toTimeSeries(families, {
      externalLabels: { instance: 'a', job: 'gw' },
      nativeHistograms: false,
      timestampMs: 1_700_000_000_123,
    });
    const decoded = decodeWriteRequest(encodeWriteRequest(series, families));
    expect(decoded.length).toBe(series.length);
    const byKey = new Map(decoded.map((d) => [JSON.stringify(d.labels), d]));
    for (const s of text) {
      const labels = Object.entries({ ...s.labels, __name__: s.name, instance: 'a', job: 'gw' }).sort(([a], [b]) =>
        a < b ? -1 : 1,
      );
      const hit = byKey.get(JSON.stringify(labels));
      expect(hit, `${s.name} ${JSON.stringify(s.labels)}`).toBeDefined();
      // Uptime moves between the two renders; every other value is the same.
      if (s.name !== 'gatewayz_uptime_seconds') {
        expect(hit!.samples, `${s.name} ${JSON.stringify(s.labels)}`).toEqual([[s.value, 1_700_000_000_123]]);
      }
    }
    expect(decoded.length).toBe(text.length);
    for (const d of decoded) {
      expect(d.labels[0]![0]).toBe('__name__');
      const names = d.labels.map((l) => l[0]);
      expect(names).toEqual([...names].sort());
    }
  });

  it('an external label never overrides a label the series has', () => {
    const series = toTimeSeries(
      [{ name: 'x_total', help: '', type: 'counter', metrics: [{ labels: [['instance', 'own']], value: 3 }] }],
      { externalLabels: { instance: 'ext', zone: 'z' }, nativeHistograms: false, timestampMs: 5 },
    );
    expect(series[0]!.labels).toEqual([
      ['__name__', 'x_total'],
      ['instance', 'own'],
      ['zone', 'z'],
    ]);
  });

  it('native histograms: the same count, sum, schema, spans and deltas as the exposition (option on only)', async () => {
    const c = busyCollector();
    const families = decodeExposition(await new PrometheusExporter(c).exportProtobuf());
    const off = toTimeSeries(families, { externalLabels: {}, nativeHistograms: false, timestampMs: 1 });
    expect(off.every((s) => s.histograms.length === 0)).toBe(true);
    const on = toTimeSeries(families, { externalLabels: {}, nativeHistograms: true, timestampMs: 1 });
    const native = on.filter((s) => s.histograms.length > 0);
    expect(native.length).toBeGreaterThan(0);
    const decoded = decodeWriteRequest(encodeWriteRequest(on));
    for (const s of native) {
      const d = decoded.find((x) => JSON.stringify(x.labels) === JSON.stringify(s.labels))!;
      const h = d.histograms[0]!;
      const src = s.histograms[0]!;
      expect(Number(h.get(1)![0]!.int)).toBe(src.count);
      expect(h.get(3)![0]!.f64).toBe(src.sum);
      expect(zigzag(h.get(4)?.[0]?.int ?? 0n)).toBe(src.schema);
      expect(h.get(5)![0]!.f64).toBe(src.zeroThreshold);
      const spans = (h.get(11) ?? []).map((sp) => {
        const m = wire(sp.bytes!);
        return { offset: zigzag(m.get(1)?.[0]?.int ?? 0n), length: Number(m.get(2)?.[0]?.int ?? 0n) };
      });
      expect(spans).toEqual(src.positiveSpans);
      // Deltas are packed: one length-delimited field of zig-zag varints.
      const packed = h.get(12)?.[0]?.bytes ?? new Uint8Array();
      const deltas: number[] = [];
      for (let i = 0; i < packed.length; ) {
        let v = 0n;
        let shift = 0n;
        for (;;) {
          const b = packed[i++]!;
          v |= BigInt(b & 0x7f) << shift;
          shift += 7n;
          if (b < 0x80) break;
        }
        deltas.push(zigzag(v));
      }
      expect(deltas).toEqual(src.positiveDeltas);
      // The buckets add up to the count.
      let running = 0;
      let total = Number(h.get(6)?.[0]?.int ?? 0n);
      for (const dlt of deltas) {
        running += dlt;
        total += running;
      }
      expect(total).toBe(src.count);
      expect(int64(h.get(15)![0]!.int)).toBe(1);
    }
  });

  it('odd values survive: negative timestamps, NaN, ±Inf, long and multi-byte label values', () => {
    const long = 'ü'.repeat(5000);
    const series: TimeSeries[] = [
      {
        labels: [
          ['__name__', 'odd'],
          ['v', long],
        ],
        samples: [
          { value: Number.NaN, timestampMs: -5 },
          { value: Number.POSITIVE_INFINITY, timestampMs: 2 ** 52 },
          { value: -0.5, timestampMs: 0 },
        ],
        histograms: [],
      },
    ];
    const [d] = decodeWriteRequest(encodeWriteRequest(series));
    expect(d!.labels).toEqual([
      ['__name__', 'odd'],
      ['v', long],
    ]);
    expect(d!.samples[0]![0]).toBeNaN();
    expect(d!.samples.map((s) => s[1])).toEqual([-5, 2 ** 52, 0]);
    expect(d!.samples.slice(1).map((s) => s[0])).toEqual([Number.POSITIVE_INFINITY, -0.5]);
  });
});

describe('snappy', () => {
  it('is the block format (not framed) and an independent decoder gets the bytes back', async () => {
    const families = decodeExposition(await new PrometheusExporter(busyCollector()).exportProtobuf());
    const raw = encodeWriteRequest(
      toTimeSeries(families, { externalLabels: {}, nativeHistograms: true, timestampMs: 1 }),
    );
    const packed = snappyCompress(raw);
    // A framed stream starts with the stream identifier chunk 0xff 06 00 00 "sNaPpY".
    expect(packed[0]).not.toBe(0xff);
    expect(packed.length).toBeLessThan(raw.length / 3);
    expect(Buffer.from(unsnappy(packed)).equals(Buffer.from(raw))).toBe(true);
    expect(Buffer.from(snappyUncompress(packed)).equals(Buffer.from(raw))).toBe(true);
  });
});

// The public entry's names, as every package snapshots them: adding or removing one is a deliberate, reviewed change.
it('exports exactly these names', () => {
  expect(Object.keys(api).sort()).toMatchInlineSnapshot(`
    [
      "RemoteWriteError",
      "RemoteWriter",
      "SELF_METRICS",
    ]
  `);
});
