/** A small protobuf reader over one message's bytes. Unknown fields are skipped by the caller with {@link skip}. */
export class ProtoReader {
  pos: number;
  private readonly view: DataView;
  private static readonly decoder = new TextDecoder();

  constructor(
    readonly buf: Uint8Array,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  varint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new Error('truncated varint');
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 0x80;
    }
    throw new Error('varint longer than 10 bytes');
  }

  /** A varint read as a signed int64 (two's complement), for int64 fields. */
  int64(): number {
    const v = this.varint();
    return v >= 2 ** 63 ? v - 2 ** 64 : v;
  }

  svarint(): number {
    const v = this.varint();
    return v % 2 === 0 ? v / 2 : -(v + 1) / 2;
  }

  double(): number {
    if (this.pos + 8 > this.end) throw new Error('truncated double');
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** A length-delimited field as a sub-reader. */
  sub(): ProtoReader {
    const len = this.varint();
    const start = this.pos;
    if (start + len > this.end) throw new Error('truncated length-delimited field');
    this.pos += len;
    return new ProtoReader(this.buf, start, start + len);
  }

  string(): string {
    const r = this.sub();
    return ProtoReader.decoder.decode(this.buf.subarray(r.pos, r.end));
  }

  /** The next field's number and wire type, from its tag. */
  tag(): [field: number, wire: number] {
    const t = this.varint();
    return [Math.floor(t / 8), t % 8];
  }

  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.sub();
    else if (wire === 5) this.pos += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }

  /** A repeated scalar that may come packed (wire 2) or one value per tag. */
  repeated(wire: number, read: (r: ProtoReader) => number, into: number[]): void {
    if (wire !== 2) {
      into.push(read(this));
      return;
    }
    const r = this.sub();
    while (!r.done) into.push(read(r));
  }
}
