import type { MetricsCollector } from '@gatewayz/metrics-core';
import { seedView } from '@gatewayz/metrics-core';
import { expect, it } from 'vitest';
import { OPENMETRICS_ACCEPT } from './append.js';
import { strictOpenMetrics } from './openmetrics.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

/** Exemplars, the same on every adapter: the `traceparent` of a request comes back in the OpenMetrics exposition. */
export function exemplarCases(ctx: { url: () => string; collector: MetricsCollector }): void {
  it('puts the trace id of a traceparent header in the OpenMetrics exposition, and nothing a client forged', async () => {
    ctx.collector.reset();
    const url = ctx.url();
    const forged = `00-${'1'.repeat(31)}"-${SPAN}-01`;
    expect((await fetch(`${url}/api/v1/items/7`, { headers: { traceparent: forged } })).status).toBe(200);
    const res = await fetch(`${url}/api/users/42`, { headers: { traceparent: `00-${TRACE}-${SPAN}-01` } });
    expect(res.status).toBe(200);
    await res.text();
    // Recording happens when the response finishes; give the adapter a moment.
    for (let i = 0; i < 50 && seedView(ctx.collector.state()).totals.requests < 2; i++)
      await new Promise((r) => setTimeout(r, 10));

    const om = await (await fetch(`${url}/metrics`, { headers: { accept: OPENMETRICS_ACCEPT } })).text();
    const exemplar = ` # {trace_id="${TRACE}",span_id="${SPAN}"} `;
    const lines = om.split('\n').filter((l) => l.includes(exemplar));
    expect(
      lines.some((l) => l.startsWith('http_request_duration_seconds_bucket{endpoint="/api/users/:id",method="GET"')),
    ).toBe(true);
    expect(lines.some((l) => l.startsWith('http_requests_total{endpoint="/api/users/:id",method="GET"} 1 # '))).toBe(
      true,
    );
    expect(om).not.toContain('1111111111');
    strictOpenMetrics(om); // throws on anything the strict parser rejects

    const text = await (await fetch(`${url}/metrics`)).text();
    expect(text).not.toContain('trace_id');
  });
}
