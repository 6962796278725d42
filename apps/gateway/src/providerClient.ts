/** A completion from an upstream provider. */
export interface Completion {
  content: string;
  promptTokens: number;
  completionTokens: number;
  /** Why the upstream stopped: `stop`, or `length` when `maxTokens` cut the answer. */
  finishReason: string;
}

/** One chat message as sent upstream. */
export interface ChatMessage {
  role: string;
  content: string;
}

/** What to ask an upstream for. */
export interface CompletionRequest {
  model: string;
  /** One user message, or the whole conversation. */
  messages: string | readonly ChatMessage[];
  /** Most output tokens. @default no limit */
  maxTokens?: number | undefined;
}

/** One `data:` event of an upstream stream (an OpenAI `chat.completion.chunk`), parsed. */
export interface StreamChunk {
  id?: string;
  choices?: { index?: number; delta?: { role?: string; content?: string }; finish_reason?: string | null }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number } | null;
}

/** An upstream stream whose first chunk has arrived. */
export interface UpstreamStream {
  /** The first chunk, already read. */
  first: StreamChunk;
  /** `performance.now()` when the first chunk arrived: the time to first token. */
  firstAt: number;
  /**
   * The other chunks as they arrive, up to `data: [DONE]`. Throws an {@link UpstreamError} when the upstream
   * fails or stays silent longer than the timeout, or when the request is aborted.
   */
  rest: AsyncIterable<StreamChunk>;
  /** Stops reading and aborts the upstream request (idempotent). */
  cancel(): void;
}

/** Parses a server-sent event body into its `data:` payloads, ending at `[DONE]`. Reads one chunk at a time. */
async function* sseChunks(body: ReadableStream<Uint8Array>): AsyncGenerator<StreamChunk> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) return;
      buffered += decoder.decode(value, { stream: true });
      for (let end = buffered.indexOf('\n\n'); end >= 0; end = buffered.indexOf('\n\n')) {
        const lines = buffered.slice(0, end).split('\n');
        buffered = buffered.slice(end + 2);
        const data = lines
          .filter((l) => l.startsWith('data:'))
          .map((l) => l.slice(5).trimStart())
          .join('\n');
        if (data === '') continue;
        if (data === '[DONE]') return;
        yield JSON.parse(data) as StreamChunk;
      }
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

/** An upstream call that failed after its retries. */
export class UpstreamError extends Error {
  override readonly name = 'UpstreamError';
  constructor(
    readonly provider: string,
    /** The upstream's last status, or `undefined` when it never answered. */
    readonly upstreamStatus: number | undefined,
    readonly timedOut: boolean,
    message: string,
  ) {
    super(message);
  }
}

export interface ProviderClientOptions {
  /** Per-attempt timeout; for a stream, the longest wait for its first chunk and between two chunks. @default 5000 */
  timeoutMs?: number;
  /** Extra attempts after a transient failure (429, 502, 503, 504, or no answer); a 500 is final. @default 1 */
  retries?: number;
}

const TRANSIENT = new Set([429, 502, 503, 504]);

/** Calls simulated providers over HTTP (OpenAI-style `POST /v1/chat/completions`), retrying transient failures. */
export class ProviderClient {
  private readonly timeoutMs: number;
  private readonly retries: number;

  constructor(options: ProviderClientOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.retries = options.retries ?? 1;
  }

  async complete(provider: string, baseUrl: string, request: CompletionRequest): Promise<Completion> {
    const url = new URL('/v1/chat/completions', baseUrl).href;
    const body = JSON.stringify(upstreamBody(request, false));
    let last: UpstreamError | undefined;
    for (let attempt = 0; attempt <= this.retries; attempt++) {
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        const json = (await res.json()) as {
          choices?: { message?: { content?: string }; finish_reason?: string }[];
          usage?: { prompt_tokens?: number; completion_tokens?: number };
          error?: string;
        };
        if (res.ok) {
          return {
            content: json.choices?.[0]?.message?.content ?? '',
            promptTokens: json.usage?.prompt_tokens ?? 0,
            completionTokens: json.usage?.completion_tokens ?? 0,
            finishReason: json.choices?.[0]?.finish_reason ?? 'stop',
          };
        }
        last = new UpstreamError(provider, res.status, false, json.error ?? `${provider} answered ${res.status}`);
        if (!TRANSIENT.has(res.status)) break;
      } catch (err) {
        last = unreachable(provider, err);
      }
    }
    throw last ?? new UpstreamError(provider, undefined, false, `${provider} failed`);
  }

  /**
   * Asks the upstream for a streamed completion (with usage) and waits for its first chunk, retrying transient
   * failures until then; after the first chunk nothing is retried. `signal` (the client going away) aborts the
   * upstream request at any point.
   */
  async stream(
    provider: string,
    baseUrl: string,
    request: CompletionRequest,
    signal: AbortSignal,
  ): Promise<UpstreamStream> {
    const url = new URL('/v1/chat/completions', baseUrl).href;
    const body = JSON.stringify(upstreamBody(request, true));
    let last: UpstreamError | undefined;
    for (let attempt = 0; attempt <= this.retries && !signal.aborted; attempt++) {
      const ac = new AbortController();
      const onAbort = () => ac.abort(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      let timer: NodeJS.Timeout | undefined;
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(() => ac.abort(new DOMException(`${provider} timed out`, 'TimeoutError')), this.timeoutMs);
      };
      const cancel = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        ac.abort();
      };
      arm();
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
          body,
          signal: ac.signal,
        });
        if (!res.ok || res.body === null) {
          const json = (await res.json().catch(() => ({}))) as { error?: string };
          cancel();
          last = new UpstreamError(provider, res.status, false, json.error ?? `${provider} answered ${res.status}`);
          if (!TRANSIENT.has(res.status)) break;
          continue;
        }
        const chunks = sseChunks(res.body);
        const first = await chunks.next();
        if (first.done) {
          cancel();
          last = new UpstreamError(provider, res.status, false, `${provider} ended its stream before the first chunk`);
          continue;
        }
        const firstAt = performance.now();
        arm();
        async function* rest(): AsyncGenerator<StreamChunk> {
          try {
            while (true) {
              let next: IteratorResult<StreamChunk>;
              try {
                next = await chunks.next();
              } catch (err) {
                throw unreachable(provider, ac.signal.reason ?? err, 'mid-stream');
              }
              if (next.done) return;
              arm();
              yield next.value;
            }
          } finally {
            cancel();
            await chunks.return(undefined).catch(() => {});
          }
        }
        return { first: first.value, firstAt, rest: rest(), cancel };
      } catch (err) {
        // Read the reason before cancel() aborts the controller: a timeout is a TimeoutError there.
        const reason = ac.signal.aborted ? ac.signal.reason : err;
        cancel();
        last = unreachable(provider, reason);
      }
    }
    throw last ?? new UpstreamError(provider, undefined, false, `${provider} failed`);
  }
}

function upstreamBody(r: CompletionRequest, stream: boolean) {
  const messages = typeof r.messages === 'string' ? [{ role: 'user', content: r.messages }] : r.messages;
  return {
    model: r.model,
    messages,
    ...(r.maxTokens !== undefined && { max_tokens: r.maxTokens }),
    ...(stream && { stream: true, stream_options: { include_usage: true } }),
  };
}

function unreachable(provider: string, err: unknown, when?: string): UpstreamError {
  const timedOut = err instanceof Error && err.name === 'TimeoutError';
  const what = timedOut ? `${provider} timed out` : `${provider} unreachable`;
  return new UpstreamError(provider, undefined, timedOut, when === undefined ? what : `${what} ${when}`);
}
