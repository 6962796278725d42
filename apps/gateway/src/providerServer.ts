import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Listening, listenNode } from './internal/listen.js';
import { lognormalMs, type Random, sleep } from './internal/random.js';
import type { ProviderProfile } from './providers.js';

/** A running simulated provider. */
export interface ProviderServer extends Listening {
  readonly profile: ProviderProfile;
  /** Starts an outage (every request gets a 503) for `seconds`, or until {@link endOutage}. */
  startOutage(seconds?: number): void;
  endOutage(): void;
  /** Epoch ms when the outage ends, `Infinity` for an open-ended one, or `undefined` when up. */
  outageUntil(): number | undefined;
  /** Streamed answers so far: begun, sent to the end, and cut short because the caller went away. */
  streams(): { started: number; completed: number; aborted: number };
}

export interface ProviderServerOptions {
  host: string;
  /** Port to listen on; 0 picks a free one. @default 0 */
  port?: number;
  random: Random;
  /** Multiplies the profile's error rate. @default 1 */
  errorRateScale?: number;
  /** Multiplies the profile's latencies (time to first token and the gap between streamed tokens included). @default 1 */
  latencyScale?: number;
  /**
   * Multiplies the spread (sigma) of every latency draw: 0 makes each answer take exactly the profile's median,
   * and each stream's first chunk come exactly `stream.firstToken.medianMs × latencyScale` after the request. @default 1
   */
  latencyJitter?: number;
}

const WORDS =
  'the gateway routes each prompt to a provider and measures latency errors cache hits database queries and billing calls so that dashboards and alerts can tell a slow model from a failing one'.split(
    ' ',
  );

const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
};

const event = (data: unknown) => `data: ${JSON.stringify(data)}\n\n`;

/** The text of a message's `content`: a string, or OpenAI's array of `{type: 'text', text}` parts. */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((p) => (typeof (p as { text?: unknown })?.text === 'string' ? (p as { text: string }).text : ''))
    .join('');
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  let text = '';
  for await (const chunk of req) text += chunk;
  try {
    const v = JSON.parse(text) as unknown;
    return v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Starts one simulated AI provider on loopback: `POST /v1/chat/completions` answers after a lognormal
 * delay, fails at the profile's error rate, and fails every request during an outage. With `"stream": true`
 * it answers OpenAI-style server-sent events: the first chunk after the profile's time to first token, then one
 * token per chunk at its tokens per second, a `finish_reason` chunk, a `usage` chunk when
 * `stream_options.include_usage` is set, and `data: [DONE]`. It stops as soon as the caller goes away.
 */
export async function startProviderServer(
  profile: ProviderProfile,
  options: ProviderServerOptions,
): Promise<ProviderServer> {
  const { random } = options;
  const errorRate = profile.errorRate * (options.errorRateScale ?? 1);
  const scale = options.latencyScale ?? 1;
  const jitter = options.latencyJitter ?? 1;
  const latency = {
    ...profile.latency,
    medianMs: profile.latency.medianMs * scale,
    sigma: profile.latency.sigma * jitter,
  };
  const ft = profile.stream.firstToken;
  const firstToken = { medianMs: ft.medianMs * scale, sigma: ft.sigma * jitter, maxMs: ft.maxMs * scale };
  const tokenGapMs = (1000 / profile.stream.tokensPerSecond) * scale;
  const models = new Set(profile.models.map((m) => m.id));
  const streams = { started: 0, completed: 0, aborted: 0 };
  let outage: number | undefined;
  const down = () => outage !== undefined && Date.now() < outage;

  const stream = async (
    res: ServerResponse,
    modelId: string,
    promptTokens: number,
    n: number,
    finish: 'stop' | 'length',
    includeUsage: boolean,
  ) => {
    const id = `${profile.name}-${Date.now().toString(36)}-${Math.floor(random() * 1e9).toString(36)}`;
    const created = Math.floor(Date.now() / 1000);
    const chunk = (delta: Record<string, unknown>, finishReason: string | null = null) =>
      event({
        id,
        object: 'chat.completion.chunk',
        created,
        model: modelId,
        choices: [{ index: 0, delta, finish_reason: finishReason }],
      });
    const words = Array.from({ length: n }, () => WORDS[Math.floor(random() * WORDS.length)]!);
    const delay = lognormalMs(random, firstToken);
    streams.started++;
    let gone = false;
    res.on('close', () => {
      gone = !res.writableFinished;
    });
    res.writeHead(200, SSE_HEADERS);
    res.flushHeaders();
    await sleep(delay);
    for (let i = 0; i < n; i++) {
      if (gone || res.destroyed) {
        streams.aborted++;
        return;
      }
      const token = `${i === 0 ? '' : ' '}${words[i]}${i === n - 1 ? '.' : ''}`;
      res.write(
        i === 0 ? chunk({ role: 'assistant', content: '' }) + chunk({ content: token }) : chunk({ content: token }),
      );
      if (i < n - 1) await sleep(tokenGapMs);
    }
    let tail = chunk({}, finish);
    if (includeUsage) {
      const usage = { prompt_tokens: promptTokens, completion_tokens: n, total_tokens: promptTokens + n };
      tail += event({ id, object: 'chat.completion.chunk', created, model: modelId, choices: [], usage });
    }
    res.end(`${tail}data: [DONE]\n\n`);
    streams.completed++;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') return send(res, 404, { error: 'not found' });
    const body = await readJson(req);
    const modelId = body?.model;
    const messages = body?.messages as { content?: unknown }[] | undefined;
    const prompt = Array.isArray(messages) ? messages.map((m) => textOf(m?.content)).join('\n') : '';
    const streamed = body?.stream === true;
    const maxTokens = typeof body?.max_tokens === 'number' && body.max_tokens >= 1 ? body.max_tokens : Infinity;
    if (typeof modelId !== 'string' || !models.has(modelId))
      return send(res, 404, { error: `unknown model ${String(modelId)}` });
    if (down()) {
      // A provider in trouble: a plain call fails at once, a streamed one holds the connection for twice its
      // time to first token before it fails.
      await sleep(streamed ? 2 * lognormalMs(random, firstToken) : 2 + random() * 5);
      return send(res, 503, { error: `${profile.name} is unavailable (simulated outage)` });
    }
    await (streamed ? undefined : sleep(lognormalMs(random, latency)));
    if (random() < errorRate) {
      const status = random() < 0.3 ? 429 : random() < 0.5 ? 500 : 503;
      if (streamed) await sleep(lognormalMs(random, firstToken));
      return send(res, status, { error: `${profile.name} failed (simulated, ${status})` });
    }
    const wanted = 12 + Math.floor(random() * 60);
    const n = Math.min(wanted, maxTokens);
    const promptTokens = Math.ceil(prompt.length / 4);
    const finish = n < wanted ? 'length' : 'stop';
    if (streamed) {
      const options = body?.stream_options as { include_usage?: unknown } | undefined;
      return stream(res, modelId, promptTokens, n, finish, options?.include_usage === true);
    }
    const words = Array.from({ length: n }, () => WORDS[Math.floor(random() * WORDS.length)]);
    send(res, 200, {
      id: `${profile.name}-${Date.now().toString(36)}-${Math.floor(random() * 1e9).toString(36)}`,
      object: 'chat.completion',
      model: modelId,
      choices: [{ index: 0, message: { role: 'assistant', content: `${words.join(' ')}.` }, finish_reason: finish }],
      usage: { prompt_tokens: promptTokens, completion_tokens: n, total_tokens: promptTokens + n },
    });
  };
  const listening = await listenNode(
    (req, res) => void handle(req, res).catch(() => res.destroy()),
    options.port ?? 0,
    options.host,
    { exclusive: true },
  );

  return {
    ...listening,
    profile,
    startOutage(seconds) {
      outage = seconds === undefined ? Number.POSITIVE_INFINITY : Date.now() + seconds * 1000;
    },
    endOutage() {
      outage = undefined;
    },
    outageUntil: () => (down() ? outage : undefined),
    streams: () => ({ ...streams }),
  };
}
