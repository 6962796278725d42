/** A decoded `io.prometheus.client.MetricFamily` (the fields the exposition uses). */
export interface DecodedFamily {
  name: string;
  help: string;
  type: number;
  metrics: DecodedMetric[];
}

export interface DecodedMetric {
  labels: Record<string, string>;
  gauge?: number;
  counter?: number;
  untyped?: number;
  summary?: { count: number; sum: number; quantiles: [number, number][] };
  histogram?: { count: number; sum: number; buckets: [number, number][]; schema?: number };
  timestampMs?: number;
}

type Field = { field: number; wire: number; int?: number; double?: number; bytes?: Uint8Array };

/** A strict decoder of protobuf wire format: throws on truncation or an unknown wire type. */
function fields(b: Uint8Array): Field[] {
  const out: Field[] = [];
  let i = 0;
  const varint = () => {
    let v = 0;
    let mul = 1;
    for (;;) {
      if (i >= b.length) throw new Error('truncated varint');
      const c = b[i++]!;
      v += (c & 0x7f) * mul;
      mul *= 128;
      if (c < 0x80) return v;
    }
  };
  while (i < b.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (wire === 0) out.push({ field, wire, int: varint() });
    else if (wire === 1) {
      if (i + 8 > b.length) throw new Error('truncated double');
      out.push({ field, wire, double: new DataView(b.buffer, b.byteOffset + i, 8).getFloat64(0, true) });
      i += 8;
    } else if (wire === 2) {
      const n = varint();
      if (i + n > b.length) throw new Error('truncated bytes');
      out.push({ field, wire, bytes: b.subarray(i, i + n) });
      i += n;
    } else throw new Error(`unexpected wire type ${wire}`);
  }
  return out;
}

const text = (b: Uint8Array | undefined) => Buffer.from(b ?? new Uint8Array()).toString('utf8');
const zigzag = (v: number) => (v % 2 === 0 ? v / 2 : -(v + 1) / 2);

function value(b: Uint8Array): number {
  return fields(b).find((f) => f.field === 1)?.double ?? 0;
}

function metric(b: Uint8Array): DecodedMetric {
  const m: DecodedMetric = { labels: {} };
  for (const f of fields(b)) {
    if (f.field === 1) {
      const pair = fields(f.bytes!);
      m.labels[text(pair.find((p) => p.field === 1)?.bytes)] = text(pair.find((p) => p.field === 2)?.bytes);
    } else if (f.field === 2) m.gauge = value(f.bytes!);
    else if (f.field === 3) m.counter = value(f.bytes!);
    else if (f.field === 5) m.untyped = value(f.bytes!);
    else if (f.field === 6) m.timestampMs = f.int!;
    else if (f.field === 4) {
      const s = { count: 0, sum: 0, quantiles: [] as [number, number][] };
      for (const g of fields(f.bytes!)) {
        if (g.field === 1) s.count = g.int!;
        else if (g.field === 2) s.sum = g.double!;
        else if (g.field === 3) {
          const q = fields(g.bytes!);
          s.quantiles.push([q.find((x) => x.field === 1)?.double ?? 0, q.find((x) => x.field === 2)?.double ?? 0]);
        }
      }
      m.summary = s;
    } else if (f.field === 7) {
      const h: NonNullable<DecodedMetric['histogram']> = { count: 0, sum: 0, buckets: [] };
      for (const g of fields(f.bytes!)) {
        if (g.field === 1) h.count = g.int!;
        else if (g.field === 2) h.sum = g.double!;
        else if (g.field === 3) {
          const q = fields(g.bytes!);
          h.buckets.push([q.find((x) => x.field === 2)?.double ?? 0, q.find((x) => x.field === 1)?.int ?? 0]);
        } else if (g.field === 5) h.schema = zigzag(g.int!);
      }
      m.histogram = h;
    }
  }
  return m;
}

/** Decodes a stream of varint-delimited `MetricFamily` messages. */
export function decodeDelimited(b: Uint8Array): DecodedFamily[] {
  const out: DecodedFamily[] = [];
  let i = 0;
  while (i < b.length) {
    let n = 0;
    let mul = 1;
    for (;;) {
      if (i >= b.length) throw new Error('truncated length');
      const c = b[i++]!;
      n += (c & 0x7f) * mul;
      mul *= 128;
      if (c < 0x80) break;
    }
    if (i + n > b.length) throw new Error('truncated message');
    const f: DecodedFamily = { name: '', help: '', type: 0, metrics: [] };
    for (const x of fields(b.subarray(i, i + n))) {
      if (x.field === 1) f.name = text(x.bytes);
      else if (x.field === 2) f.help = text(x.bytes);
      else if (x.field === 3) f.type = x.int!;
      else if (x.field === 4) f.metrics.push(metric(x.bytes!));
    }
    out.push(f);
    i += n;
  }
  return out;
}
