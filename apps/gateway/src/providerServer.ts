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
}

export interface ProviderServerOptions {
  host: string;
  /** Port to listen on; 0 picks a free one. @default 0 */
  port?: number;
  random: Random;
  /** Multiplies the profile's error rate. @default 1 */
  errorRateScale?: number;
  /** Multiplies the profile's latencies. @default 1 */
  latencyScale?: number;
}

const WORDS =
  'the gateway routes each prompt to a provider and measures latency errors cache hits database queries and billing calls so that dashboards and alerts can tell a slow model from a failing one'.split(
    ' ',
  );

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
 * delay, fails at the profile's error rate, and fails every request during an outage.
 */
export async function startProviderServer(
  profile: ProviderProfile,
  options: ProviderServerOptions,
): Promise<ProviderServer> {
  const { random } = options;
  const errorRate = profile.errorRate * (options.errorRateScale ?? 1);
  const latency = { ...profile.latency, medianMs: profile.latency.medianMs * (options.latencyScale ?? 1) };
  const models = new Set(profile.models.map((m) => m.id));
  let outage: number | undefined;
  const down = () => outage !== undefined && Date.now() < outage;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') return send(res, 404, { error: 'not found' });
    const body = await readJson(req);
    const modelId = body?.model;
    const messages = body?.messages as { content?: unknown }[] | undefined;
    const prompt = Array.isArray(messages) ? String(messages.at(-1)?.content ?? '') : '';
    if (typeof modelId !== 'string' || !models.has(modelId))
      return send(res, 404, { error: `unknown model ${String(modelId)}` });
    if (down()) {
      await sleep(2 + random() * 5);
      return send(res, 503, { error: `${profile.name} is unavailable (simulated outage)` });
    }
    await sleep(lognormalMs(random, latency));
    if (random() < errorRate) {
      const status = random() < 0.3 ? 429 : random() < 0.5 ? 500 : 503;
      return send(res, status, { error: `${profile.name} failed (simulated, ${status})` });
    }
    const n = 12 + Math.floor(random() * 60);
    const words = Array.from({ length: n }, () => WORDS[Math.floor(random() * WORDS.length)]);
    send(res, 200, {
      id: `${profile.name}-${Date.now().toString(36)}-${Math.floor(random() * 1e9).toString(36)}`,
      model: modelId,
      choices: [{ message: { role: 'assistant', content: `${words.join(' ')}.` } }],
      usage: { prompt_tokens: Math.ceil(prompt.length / 4), completion_tokens: n },
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
  };
}
