/** Scratch for `double()`, shared by every writer. */
const F64 = new DataView(new ArrayBuffer(8));

/** A minimal protobuf writer: just what `io.prometheus.client.MetricFamily` needs. */
export class ProtoWriter {
  private buf: Uint8Array;
  private pos = 0;

  /** `initial`: the buffer's size, or a buffer to write into; it is replaced by one twice as large as needed. */
  constructor(initial: number | Uint8Array = 256) {
    this.buf = typeof initial === 'number' ? new Uint8Array(initial) : initial;
  }

  /** Empties the writer for reuse (the buffer is kept; earlier `finish()` views must have been copied). */
  reset(): void {
    this.pos = 0;
    this.mark = 0;
  }

  /** Where the bytes not yet handed out by `take()` begin. */
  private mark = 0;

  /** Room left in the current buffer before it has to grow. */
  get room(): number {
    return this.buf.length - this.pos;
  }

  /** Bytes written since the last `reset()`. */
  get length(): number {
    return this.pos;
  }

  /** Bytes written since the last `take()` (or `reset()`/`renew()`). */
  get pending(): number {
    return this.pos - this.mark;
  }

  /**
   * A view of the bytes written since the last `take()`, without copying them. Those bytes are never written
   * again: writing goes on after them, and a buffer that has to grow is copied to a new one (views keep the old).
   * Call `renew()` rather than `reset()` to start over while views are in use.
   */
  take(): Uint8Array {
    const view = this.buf.subarray(this.mark, this.pos);
    this.mark = this.pos;
    return view;
  }

  /** Continues in a new buffer (of `next` bytes, or `next` itself), leaving the old one and its views as they are. */
  renew(next: number | Uint8Array): void {
    this.buf = typeof next === 'number' ? new Uint8Array(next) : next;
    this.pos = 0;
    this.mark = 0;
  }

  private need(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
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

  /** Zig-zag signed varint (sint32/sint64) for |v| < 2^52. */
  svarint(v: number): void {
    this.varint(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  tag(field: number, wire: 0 | 1 | 2): void {
    this.varint(field * 8 + wire);
  }

  double(field: number, v: number): void {
    this.tag(field, 1);
    this.need(8);
    F64.setFloat64(0, v, true);
    for (let i = 0; i < 8; i++) this.buf[this.pos++] = F64.getUint8(i);
  }

  uint(field: number, v: number): void {
    this.tag(field, 0);
    this.varint(v);
  }

  sint(field: number, v: number): void {
    this.tag(field, 0);
    this.svarint(v);
  }

  string(field: number, s: string): void {
    this.tag(field, 2);
    const n = s.length;
    if (n < 0x80) {
      // Short ASCII (every label name and nearly every value) is written in place: one byte per character, a
      // one-byte length, and no Buffer per string. Anything else goes through Buffer.from below.
      this.need(n + 1);
      const buf = this.buf;
      let p = this.pos + 1;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[p++] = c;
      }
      if (i === n) {
        buf[this.pos] = n;
        this.pos = p;
        return;
      }
    }
    const bytes = Buffer.from(s, 'utf8');
    this.varint(bytes.length);
    this.need(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** A length-delimited sub-message written by `body`: {@link open}, `body`, {@link close}. */
  message(field: number, body: (w: ProtoWriter) => void): void {
    const start = this.open(field);
    body(this);
    this.close(start);
  }

  /**
   * Begins a length-delimited sub-message of `field` and returns where its body starts; write the body, then call
   * {@link close} with that position. The hot render paths use this pair rather than {@link message}, so that
   * no closure is allocated per sub-message. Pairs nest: close the inner one first.
   */
  open(field: number): number {
    // Written in place: one byte is reserved for the length (most sub-messages are shorter than 128 bytes), and
    // the body is moved up when its length needs more. No writer or buffer is allocated per sub-message.
    this.tag(field, 2);
    this.need(1);
    return ++this.pos;
  }

  /** Ends the sub-message whose body began at `start` (from {@link open}): writes its length before it. */
  close(start: number): void {
    const len = this.pos - start;
    if (len < 0x80) {
      this.buf[start - 1] = len;
      return;
    }
    let n = 1;
    for (let v = len; v >= 0x80; v = Math.floor(v / 0x80)) n++;
    this.need(n - 1);
    this.buf.copyWithin(start + n - 1, start, start + len);
    this.pos = start - 1;
    this.varint(len);
    this.pos = start - 1 + n + len;
  }

  bytes(field: number, b: Uint8Array): void {
    this.tag(field, 2);
    this.varint(b.length);
    this.need(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** Appends already-encoded fields. */
  raw(b: Uint8Array): void {
    this.need(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** Appends a varint length prefix and the message (the "delimited" encoding). */
  delimited(b: Uint8Array): void {
    this.varint(b.length);
    this.need(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** A copy of the bytes written since the last `reset()`, in a buffer of their own. */
  copy(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }

  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}

/**
 * One `io.prometheus.client.LabelPair` (name = 1, value = 2) in field 1 of the message `w` is writing: where a
 * `Metric` and an `Exemplar` both keep their labels.
 */
export function labelPair(w: ProtoWriter, name: string, value: string): void {
  const at = w.open(1);
  w.string(1, name);
  w.string(2, value);
  w.close(at);
}
