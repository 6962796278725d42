import * as snappyjs from 'snappyjs';

/** Snappy block-format compression (what remote write's `Content-Encoding: snappy` means; not the framed format). */
export function snappyCompress(bytes: Uint8Array): Uint8Array {
  return snappyjs.compress(bytes);
}

export function snappyUncompress(bytes: Uint8Array): Uint8Array {
  return snappyjs.uncompress(bytes);
}
