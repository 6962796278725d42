import { describe, expect, it } from 'vitest';
import { ProtoWriter } from '../internal/protoWriter.js';

const varint = (b: Uint8Array, at: number): [number, number] => {
  let v = 0;
  let mul = 1;
  let i = at;
  for (;;) {
    const x = b[i++]!;
    v += (x & 0x7f) * mul;
    if (x < 0x80) return [v, i];
    mul *= 0x80;
  }
};

describe('ProtoWriter.message (written in place)', () => {
  // Lengths around each varint boundary: the body is moved up when its length needs more than the reserved byte.
  for (const len of [0, 1, 127, 128, 129, 16_383, 16_384, 2_097_152]) {
    it(`frames a ${len}-byte sub-message between other fields`, () => {
      const w = new ProtoWriter(16);
      w.uint(1, 7);
      w.message(2, (m) => {
        for (let i = 0; i < len; i++) m.raw(Uint8Array.of(i % 251));
      });
      w.uint(3, 9);
      const b = w.finish();
      let [tag, at] = varint(b, 0);
      expect(tag).toBe(8);
      expect(varint(b, at)[0]).toBe(7);
      at = varint(b, at)[1];
      [tag, at] = varint(b, at);
      expect(tag).toBe(2 * 8 + 2);
      const [n, body] = varint(b, at);
      expect(n).toBe(len);
      for (let i = 0; i < len; i += 997) expect(b[body + i]).toBe(i % 251);
      if (len > 0) expect(b[body + len - 1]).toBe((len - 1) % 251);
      [tag, at] = varint(b, body + len);
      expect(tag).toBe(3 * 8);
      expect(varint(b, at)).toEqual([9, b.length]);
    });
  }

  it('nests sub-messages whose inner length moves the outer body', () => {
    const w = new ProtoWriter();
    w.message(1, (a) => {
      a.message(2, (c) => {
        for (let i = 0; i < 200; i++) c.raw(Uint8Array.of(1));
      });
    });
    const b = w.finish();
    expect(Array.from(b.subarray(0, 6))).toEqual([0x0a, 203, 1, 0x12, 200, 1]);
    expect(b.length).toBe(3 + 3 + 200);
  });
});

describe('ProtoWriter.take (views handed out without copying)', () => {
  it('keeps every view intact while the writer goes on, grows, and renews its buffer', () => {
    const w = new ProtoWriter(8);
    const views: [Uint8Array, number[]][] = [];
    for (let i = 0; i < 50; i++) {
      const bytes = Array.from({ length: (i * 7) % 23 }, (_, j) => (i + j) % 256);
      for (const b of bytes) w.raw(Uint8Array.of(b));
      expect(w.pending).toBe(bytes.length);
      views.push([w.take(), bytes]);
      expect(w.pending).toBe(0);
      if (i % 9 === 8) w.renew(8);
    }
    for (const [view, bytes] of views) expect(Array.from(view)).toEqual(bytes);
  });
});

describe('ProtoWriter.string (short ASCII written in place)', () => {
  // Each around a path of string(): empty, ASCII at the one-byte-length edge, past it, non-ASCII early and late
  // (the in-place attempt must leave nothing behind), and astral characters.
  const cases = [
    '',
    'GET',
    '/api/e1',
    'a'.repeat(127),
    'a'.repeat(128),
    'é/api',
    '/api/caf\u00e9',
    `${'x'.repeat(126)}é`,
    '/🚀/v1',
    'a\u0000b',
  ];
  for (const s of cases) {
    it(`encodes ${JSON.stringify(s.length > 20 ? `${s.slice(0, 8)}…(${s.length})` : s)} as UTF-8 bytes with a varint length`, () => {
      const w = new ProtoWriter(4); // small, so the in-place path has to grow the buffer first
      w.uint(1, 1);
      w.string(2, s);
      w.uint(3, 2);
      const utf8 = Buffer.from(s, 'utf8');
      const len: number[] = [];
      for (let v = utf8.length; ; v = Math.floor(v / 0x80)) {
        if (v < 0x80) {
          len.push(v);
          break;
        }
        len.push((v % 0x80) | 0x80);
      }
      expect(Buffer.from(w.finish())).toEqual(Buffer.from([8, 1, 2 * 8 + 2, ...len, ...utf8, 3 * 8, 2]));
    });
  }
});

describe('ProtoWriter.open/close', () => {
  it('writes the same bytes as message() for nested sub-messages of every length class', () => {
    for (const len of [0, 5, 127, 128, 300, 20_000]) {
      const a = new ProtoWriter(8);
      const b = new ProtoWriter(8);
      a.message(4, (m) => {
        m.uint(1, 3);
        m.message(7, (h) => {
          for (let i = 0; i < len; i++) h.raw(Uint8Array.of(i & 0x7f));
        });
        m.double(2, 1.5);
      });
      const outer = b.open(4);
      b.uint(1, 3);
      const inner = b.open(7);
      for (let i = 0; i < len; i++) b.raw(Uint8Array.of(i & 0x7f));
      b.close(inner);
      b.double(2, 1.5);
      b.close(outer);
      expect(Buffer.from(b.finish())).toEqual(Buffer.from(a.finish()));
    }
  });

  it('copy() returns the bytes in a buffer of their own', () => {
    const w = new ProtoWriter(16);
    w.string(1, 'endpoint');
    const c = w.copy();
    w.reset();
    w.string(1, 'zzzzzzzz');
    expect(Buffer.from(c).toString('latin1')).toBe('\u000a\u0008endpoint');
  });
});
