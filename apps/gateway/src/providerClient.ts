/** A completion from an upstream provider. */
export interface Completion {
  content: string;
  promptTokens: number;
  completionTokens: number;
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
  /** Per-attempt timeout. @default 5000 */
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

  async complete(provider: string, baseUrl: string, model: string, message: string): Promise<Completion> {
    const url = new URL('/v1/chat/completions', baseUrl).href;
    const body = JSON.stringify({ model, messages: [{ role: 'user', content: message }] });
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
          choices?: { message?: { content?: string } }[];
          usage?: { prompt_tokens?: number; completion_tokens?: number };
          error?: string;
        };
        if (res.ok) {
          return {
            content: json.choices?.[0]?.message?.content ?? '',
            promptTokens: json.usage?.prompt_tokens ?? 0,
            completionTokens: json.usage?.completion_tokens ?? 0,
          };
        }
        last = new UpstreamError(provider, res.status, false, json.error ?? `${provider} answered ${res.status}`);
        if (!TRANSIENT.has(res.status)) break;
      } catch (err) {
        const timedOut = err instanceof Error && err.name === 'TimeoutError';
        last = new UpstreamError(
          provider,
          undefined,
          timedOut,
          timedOut ? `${provider} timed out` : `${provider} unreachable`,
        );
      }
    }
    throw last ?? new UpstreamError(provider, undefined, false, `${provider} failed`);
  }
}
