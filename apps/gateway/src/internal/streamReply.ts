import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { Reply } from '../reply.js';

/**
 * The body of a {@link Reply} as the three frameworks send it: the text, or, for a streamed reply, a Readable
 * that writes each chunk as the iterable yields it. Each framework destroys the Readable when the client goes
 * away, which ends the iteration (its `return()`).
 */
export function replyBody(r: Reply): string | Readable {
  return typeof r.body === 'string' ? r.body : Readable.from(r.body, { objectMode: false });
}

/**
 * `RouteRequest.signal` for a Node response: an AbortSignal, made on the first call, that aborts when the
 * response closes before it finished (the client went away).
 */
export function clientGoneSignal(res: ServerResponse): () => AbortSignal {
  let signal: AbortSignal | undefined;
  return () => {
    if (signal !== undefined) return signal;
    const ac = new AbortController();
    signal = ac.signal;
    if (res.destroyed && !res.writableFinished) ac.abort();
    else
      res.once('close', () => {
        if (!res.writableFinished) ac.abort();
      });
    return signal;
  };
}
