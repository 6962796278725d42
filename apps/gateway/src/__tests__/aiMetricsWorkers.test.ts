import { parseExposition, type Sample } from '@gatewayz/test-utils';
import { describe, expect, it } from 'vitest';
import { spawnCli } from './cli.js';

const sumOf = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((n, s) => n + s.value, 0);

interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
}

describe('the built CLI with --workers 2: AI metrics', () => {
  it('each worker records its completions, and the primary merges them: tokens equal the answers', async () => {
    const cli = spawnCli(['--framework', 'express', '--workers', '2', '--seed', '5'], {});
    try {
      const base = (await cli.waitFor(/2 cluster workers listening on (http:\/\/127\.0\.0\.1:\d+)/))[1]!;
      const metricsBase = (await cli.waitFor(/metrics +(http:\/\/127\.0\.0\.1:\d+)\/metrics /))[1]!;
      // Fresh connections (no keep-alive), so cluster's round-robin spreads them over both workers.
      // The simulated upstreams fail now and then: an answer without usage adds no tokens.
      const call = async (i: number): Promise<Usage | undefined> => {
        const stream = i % 2 === 1;
        const res = await fetch(`${base}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer sk-w-${i % 3}`, connection: 'close' },
          body: JSON.stringify({
            model: ['gpt-4o-mini', 'mistral-small'][i % 2],
            messages: [{ role: 'user', content: `q ${i} `.repeat(i + 1) }],
            ...(stream && { stream: true, stream_options: { include_usage: true } }),
          }),
        });
        if (!stream) return ((await res.json()) as { usage?: Usage }).usage;
        const events = (await res.text()).split('\n\n').filter((e) => e.startsWith('data: {'));
        return (
          events.map((e) => (JSON.parse(e.slice(6)) as { usage?: Usage | null }).usage).find((u) => u) ?? undefined
        );
      };
      const answers = await Promise.all(Array.from({ length: 16 }, (_, i) => call(i)));
      const answered = answers.filter((u) => u !== undefined);
      expect(answered.length).toBeGreaterThan(8);
      const prompt = answered.reduce((n, u) => n + u.prompt_tokens, 0);
      const completion = answered.reduce((n, u) => n + u.completion_tokens, 0);
      let s: Sample[] = [];
      for (let i = 0; i < 40; i++) {
        s = parseExposition(await (await fetch(`${metricsBase}/metrics`)).text());
        if (sumOf(s, 'model_request_duration_seconds_count') >= 16) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(sumOf(s, 'model_request_duration_seconds_count')).toBe(16);
      expect(sumOf(s, 'model_tokens_total', { type: 'input' })).toBe(prompt);
      expect(sumOf(s, 'model_tokens_total', { type: 'output' })).toBe(completion);
      expect(sumOf(s, 'model_cost_usd_total')).toBeGreaterThan(0);
      expect(sumOf(s, 'tenant_tokens_total', { type: 'output' })).toBe(completion);
      const tenants = new Set(s.filter((x) => x.name === 'tenant_cost_usd_total').map((x) => x.labels.tenant));
      expect(tenants.size).toBeGreaterThanOrEqual(2);
      for (const t of tenants) expect(t).toMatch(/^[0-9a-f]{16}$/);
      expect(sumOf(s, 'model_time_to_first_token_seconds_count')).toBeGreaterThan(0);
      expect(sumOf(s, 'model_time_to_first_token_seconds_count')).toBeLessThanOrEqual(8);
      // Both workers took part: each worker's own /metrics (on the shared port) holds only some of the calls.
      const own = await Promise.all(
        Array.from({ length: 6 }, async () => {
          const r = await fetch(`${base}/metrics`, { headers: { connection: 'close' } });
          return sumOf(parseExposition(await r.text()), 'model_request_duration_seconds_count');
        }),
      );
      for (const n of own) expect(n).toBeLessThan(16);
    } finally {
      cli.child.kill('SIGTERM');
    }
    expect(await cli.exited).toBe(0);
    expect(cli.stderr()).toBe('');
  });
});
