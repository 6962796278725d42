/**
 * Fixed-size slabs that the asynchronous renders write their chunks into, reused from one render to the next.
 *
 * A large render's chunks (19.4 MB for a 10k-series text exposition) are copied into the one Buffer it returns and
 * then dropped. Allocated anew each time, they are about half the memory a render allocates outside the JS heap, and
 * V8 counts such memory toward starting a major GC: with fresh chunks, a 10k-series text render set off about one
 * mark-compact per render, and with reused slabs about one every two (`node --trace-gc`, 20 renders each). A major
 * GC's pause is where most event-loop blocks over 10 ms came from.
 *
 * Bounded: at most `maxFreeBytes` of slabs are kept between renders, and none once no render has taken one for
 * `idleMs` (an unref'd timer, so it never keeps a process alive). A slab belongs to one render from `take()` until
 * that render gives it back with `give()`, after its chunks are copied out, so concurrent renders never share one.
 */
export class SlabPool {
  private readonly free: Buffer[] = [];
  private lastUse = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly slabBytes: number,
    readonly maxFreeBytes: number,
    readonly idleMs: number,
  ) {}

  /** A slab of `slabBytes` (contents unspecified): a kept one, or a new one. */
  take(): Buffer {
    this.lastUse = Date.now();
    // Not from Buffer's shared pool: a slab is a whole ArrayBuffer of its own.
    return this.free.pop() ?? Buffer.allocUnsafeSlow(this.slabBytes);
  }

  /** Returns slabs for reuse; nothing may read or write them afterwards. Slabs of another size are dropped. */
  give(slabs: readonly Buffer[]): void {
    const max = Math.floor(this.maxFreeBytes / this.slabBytes);
    for (const s of slabs) {
      if (this.free.length >= max) break;
      if (s.byteLength === this.slabBytes && s.byteOffset === 0 && s.buffer.byteLength === this.slabBytes) {
        this.free.push(s);
      }
    }
    this.lastUse = Date.now();
    if (this.free.length > 0) this.arm();
  }

  /** Bytes of slabs kept for reuse. */
  get freeBytes(): number {
    return this.free.length * this.slabBytes;
  }

  /** Drops every kept slab. */
  clear(): void {
    this.free.length = 0;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    if (this.timer !== undefined) return;
    const check = (): void => {
      const idle = Date.now() - this.lastUse;
      if (idle >= this.idleMs) {
        this.timer = undefined;
        this.free.length = 0;
        return;
      }
      this.timer = setTimeout(check, this.idleMs - idle);
      this.timer.unref?.();
    };
    this.timer = setTimeout(check, this.idleMs);
    this.timer.unref?.();
  }
}

/** Text and protobuf chunks: 256 KiB slabs, at most 64 MiB kept, none after a minute without a render. */
export const RENDER_SLABS = new SlabPool(256 * 1024, 64 * 1024 * 1024, 60_000);
