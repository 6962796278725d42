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
    // The client hung up before the body ended: settle, so the handler does not wait forever.
    const onClose = () => {
      cleanup();
      reject(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
    };
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

export function tooLarge(limit: number): GatewayError {
  return new GatewayError(413, 'payload_too_large', `request body is larger than ${limit} bytes`);
}

const CLIENT_GONE_CODES = new Set(['ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ERR_STREAM_PREMATURE_CLOSE']);

/**
 * True when `err` only says that the client went away mid-request (a hang-up, a reset, a body cut short):
 * an ordinary event that the metrics adapter records as 499, not a failure of the server worth a stack trace.
 */
export function isClientGone(err: unknown, req: IncomingMessage | undefined): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && (CLIENT_GONE_CODES.has(code) || code.startsWith('HPE_'))) return true;
  return req !== undefined && !req.complete && req.socket?.destroyed !== false;
}
