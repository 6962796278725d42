import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Listening, listenNode } from './internal/listen.js';
import { type LatencyProfile, lognormalMs, type Random, sleep } from './internal/random.js';

export interface BillingServerOptions {
  host: string;
  /** Port to listen on; 0 picks a free one. @default 0 */
  port?: number;
  random: Random;
  /** Share of calls (0-1) answered with a 503. @default 0.03 */
  errorRate?: number;
  /** @default lognormal, median 8 ms */
  latency?: LatencyProfile;
}

/** A running simulated billing API, with what it has accepted so far. */
export interface BillingServer extends Listening {
  /** Usage records accepted. */
  accepted(): number;
}

/** Starts a simulated external billing/usage API on loopback: `POST /v1/usage` answers 202, or 503 now and then. */
export async function startBillingServer(options: BillingServerOptions): Promise<BillingServer> {
  const { random } = options;
  const errorRate = options.errorRate ?? 0.03;
  const latency = options.latency ?? { medianMs: 8, sigma: 0.6, maxMs: 500 };
  let accepted = 0;
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    for await (const _ of req);
    await sleep(lognormalMs(random, latency));
    const fail = req.method !== 'POST' || req.url !== '/v1/usage' || random() < errorRate;
    if (!fail) accepted++;
    const body = JSON.stringify(fail ? { error: 'billing unavailable (simulated)' } : { status: 'accepted' });
    res.writeHead(fail ? 503 : 202, { 'content-type': 'application/json' }).end(body);
  };
  const listening = await listenNode(
    (req, res) => void handle(req, res).catch(() => res.destroy()),
    options.port ?? 0,
    options.host,
    { exclusive: true },
  );
  return { ...listening, accepted: () => accepted };
}
