import type { LatencyProfile } from './internal/random.js';

/** A model the gateway serves, as stored in its database. */
export interface ModelInfo {
  id: string;
  provider: string;
  contextWindow: number;
  /** US dollars per 1,000 prompt tokens. */
  inputPricePer1k: number;
  /** US dollars per 1,000 completion tokens. */
  outputPricePer1k: number;
}

/** A simulated upstream AI provider: how fast it answers, how often it fails, and what it serves. */
export interface ProviderProfile {
  name: string;
  latency: LatencyProfile;
  /** Share of requests (0-1) answered with a 5xx or 429. */
  errorRate: number;
  /** How a streamed answer (`"stream": true`) arrives: the delay before its first chunk, then its pace. */
  stream: StreamProfile;
  models: readonly ModelInfo[];
}

/** The pace of a simulated provider's streamed answers. */
export interface StreamProfile {
  /** Delay before the first chunk (time to first token), lognormal. */
  firstToken: LatencyProfile;
  /** Output tokens per second after the first one: one token per chunk, evenly spaced. */
  tokensPerSecond: number;
}

const model = (id: string, provider: string, contextWindow: number, input: number, output: number): ModelInfo => ({
  id,
  provider,
  contextWindow,
  inputPricePer1k: input,
  outputPricePer1k: output,
});

/** The providers the demo starts, each as its own loopback HTTP server. */
export const PROVIDERS: readonly ProviderProfile[] = [
  {
    name: 'openai',
    latency: { medianMs: 60, sigma: 0.5, maxMs: 1500 },
    errorRate: 0.01,
    stream: { firstToken: { medianMs: 200, sigma: 0.3, maxMs: 450 }, tokensPerSecond: 180 },
    models: [
      model('gpt-4o', 'openai', 128_000, 0.0025, 0.01),
      model('gpt-4o-mini', 'openai', 128_000, 0.00015, 0.0006),
      model('o3-mini', 'openai', 200_000, 0.0011, 0.0044),
    ],
  },
  {
    name: 'anthropic',
    latency: { medianMs: 90, sigma: 0.45, maxMs: 2000 },
    errorRate: 0.02,
    stream: { firstToken: { medianMs: 280, sigma: 0.25, maxMs: 450 }, tokensPerSecond: 160 },
    models: [
      model('claude-3-5-sonnet', 'anthropic', 200_000, 0.003, 0.015),
      model('claude-3-5-haiku', 'anthropic', 200_000, 0.0008, 0.004),
    ],
  },
  {
    name: 'google',
    latency: { medianMs: 45, sigma: 0.6, maxMs: 1500 },
    errorRate: 0.03,
    stream: { firstToken: { medianMs: 150, sigma: 0.35, maxMs: 400 }, tokensPerSecond: 220 },
    models: [
      model('gemini-1.5-pro', 'google', 2_000_000, 0.00125, 0.005),
      model('gemini-1.5-flash', 'google', 1_000_000, 0.000075, 0.0003),
    ],
  },
  {
    name: 'mistral',
    latency: { medianMs: 35, sigma: 0.35, maxMs: 1000 },
    errorRate: 0.015,
    stream: { firstToken: { medianMs: 120, sigma: 0.3, maxMs: 350 }, tokensPerSecond: 250 },
    models: [
      model('mistral-large', 'mistral', 128_000, 0.002, 0.006),
      model('mistral-small', 'mistral', 32_000, 0.0002, 0.0006),
    ],
  },
];

/** The model used when a chat request names none. */
export const DEFAULT_MODEL = 'gpt-4o-mini';
