/** A small protobuf writer: varints, zig-zag, doubles, strings and length-delimited sub-messages. */
export class ProtoWriter {
  private buf = new Uint8Array(4096);
  private pos = 0;
  private readonly view = new DataView(new ArrayBuffer(8));
  private readonly bytes8 = new Uint8Array(this.view.buffer);
  private static readonly encoder = new TextEncoder();

  private need(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  get length(): number {
    return this.pos;
  }

  /** Unsigned varint of a non-negative integer up to 2^53. */
  varint(v: number): void {
    this.need(10);
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.pos++] = v;
  }

  /** A negative int64 as protobuf writes it: ten bytes of two's complement (used for timestamps before 1970). */
  int64(field: number, v: number): void {
    this.tag(field, 0);
    if (v >= 0) {
      this.varint(v);
      return;
    }
    let big = BigInt.asUintN(64, BigInt(Math.trunc(v)));
    this.need(10);
    while (big >= 0x80n) {
      this.buf[this.pos++] = Number(big & 0x7fn) | 0x80;
      big >>= 7n;
    }
    this.buf[this.pos++] = Number(big);
  }

  tag(field: number, wire: 0 | 1 | 2): void {
    this.varint(field * 8 + wire);
  }

  uint(field: number, v: number): void {
    this.tag(field, 0);
    this.varint(v);
  }

  /** Zig-zag signed varint (sint32/sint64) for |v| < 2^52. */
  sint(field: number, v: number): void {
    this.tag(field, 0);
    this.varint(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  double(field: number, v: number): void {
    this.tag(field, 1);
    this.need(8);
    this.view.setFloat64(0, v, true);
    this.buf.set(this.bytes8, this.pos);
    this.pos += 8;
  }

  string(field: number, s: string): void {
    this.tag(field, 2);
    // At most 3 bytes per UTF-16 unit; encode in place, then write the real length before it.
    const max = s.length * 3;
    const lenBytes = max < 0x80 ? 1 : max < 0x4000 ? 2 : max < 0x200000 ? 3 : 5;
    this.need(lenBytes + max);
    const start = this.pos + lenBytes;
    const { written } = ProtoWriter.encoder.encodeInto(s, this.buf.subarray(start));
    this.pos = start + written;
    this.fixLength(start, lenBytes, written);
  }

  /** A length-delimited sub-message written by `body` directly into this buffer. */
  message(field: number, body: (w: ProtoWriter) => void): void {
    this.tag(field, 2);
    // Reserve 3 length bytes (enough for 2 MiB) and shift if the message turns out longer or shorter.
    const lenBytes = 3;
    this.need(lenBytes);
    const start = this.pos + lenBytes;
    this.pos = start;
    body(this);
    this.fixLength(start, lenBytes, this.pos - start);
  }

  /** Packed repeated sint64 (the remote-write Histogram's deltas). */
  packedSint(field: number, values: readonly number[]): void {
    if (values.length === 0) return;
    this.message(field, (w) => {
      for (const v of values) w.varint(v >= 0 ? v * 2 : -v * 2 - 1);
    });
  }

  private fixLength(start: number, reserved: number, len: number): void {
    let n = 1;
    for (let v = len; v >= 0x80; v = Math.floor(v / 0x80)) n++;
    if (n !== reserved) {
      this.need(n - reserved);
      this.buf.copyWithin(start + n - reserved, start, start + len);
    }
    let p = start - reserved;
    let v = len;
    while (v >= 0x80) {
      this.buf[p++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[p++] = v;
    this.pos = p + len;
  }

  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}
