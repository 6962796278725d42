import { RemoteWriteError } from '../remoteWriteError.js';

/**
 * What a malformed message throws. The writer reads only the exporter's own exposition, so this means a bug in
 * one of the two: the snapshot fails (`SNAPSHOT_FAILED`, counted and reported) with where the bytes went wrong.
 */
function malformed(what: string, at: number, end: number): RemoteWriteError {
  return new RemoteWriteError(
    'SNAPSHOT_FAILED',
    `could not decode the protobuf exposition: ${what} at byte ${at} of ${end}`,
  );
}

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
      if (this.pos >= this.end) throw malformed('truncated varint', this.pos, this.end);
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 0x80;
    }
    throw malformed('varint longer than 10 bytes', this.pos, this.end);
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
    if (this.pos + 8 > this.end) throw malformed('truncated double', this.pos, this.end);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** A length-delimited field as a sub-reader. */
  sub(): ProtoReader {
    const len = this.varint();
    const start = this.pos;
    if (start + len > this.end) throw malformed(`length-delimited field of ${len} bytes past the end`, start, this.end);
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
    else throw malformed(`unsupported wire type ${wire}`, this.pos, this.end);
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
