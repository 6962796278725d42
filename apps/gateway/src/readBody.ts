import type { IncomingMessage } from 'node:http';
import { GatewayError } from './reply.js';

/**
 * Reads a Node request body as UTF-8 text, refusing more than `limit` bytes with a 413 `GatewayError`
 * (checked against `content-length` first, then while streaming; the rest is drained, not stored).
 * Shared by the three framework servers, so each answers bad bodies the same way.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    if (Number(req.headers['content-length']) > limit) {
      req.resume();
      reject(tooLarge(limit));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      cleanup();
      req.resume();
      reject(tooLarge(limit));
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

export function tooLarge(limit: number): GatewayError {
  return new GatewayError(413, 'payload_too_large', `request body is larger than ${limit} bytes`);
}
