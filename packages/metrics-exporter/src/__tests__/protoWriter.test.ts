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
