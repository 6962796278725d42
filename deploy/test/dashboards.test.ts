import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildDashboard, DASHBOARD_SPECS, renderDashboards } from '../scripts/generate-dashboards.js';
import {
  AI_FAMILIES,
  aiFamilyOf,
  DASHBOARDS_DIR,
  DEFAULT_VARIABLES,
  readDashboards,
  substituteVariables,
} from './expressions.js';

const FILES = [
  'ai-usage.json',
  'cache.json',
  'database.json',
  'errors.json',
  'latency.json',
  'models.json',
  'overview.json',
  'providers.json',
];
/** Each dashboard's variables, in order: the common three, then the labels its panels filter on. */
const COMMON_VARIABLES = ['datasource', 'job', 'instance'];
const VARIABLES: Record<string, string[]> = {
  'ai-usage.json': [...COMMON_VARIABLES, 'provider', 'model'],
  'cache.json': COMMON_VARIABLES,
  'database.json': [...COMMON_VARIABLES, 'service'],
  'errors.json': [...COMMON_VARIABLES, 'endpoint'],
  'latency.json': [...COMMON_VARIABLES, 'endpoint'],
  'models.json': [...COMMON_VARIABLES, 'model'],
  'overview.json': [...COMMON_VARIABLES, 'endpoint'],
  'providers.json': [...COMMON_VARIABLES, 'provider'],
};
/** The label each filter variable selects on, and the seed's metric families that carry it. */
const FILTER_METRICS: Record<string, RegExp> = {
  endpoint: /^http_/,
  provider: /^provider_/,
  model: /^model_/,
  service: /^external_api_/,
};
/** The filter labels a metric carries: an AI family's own labels (the contract), else the seed's prefix rule. */
const filterLabelsOf = (metric: string): string[] => {
  const ai = aiFamilyOf(metric);
  if (ai) return AI_FAMILIES[ai]!.labels.filter((label) => label in FILTER_METRICS);
  return Object.entries(FILTER_METRICS)
    .filter(([, family]) => family.test(metric))
    .map(([label]) => label);
};
/** Every histogram the dashboards read: classic `_bucket`/`_sum`/`_count` series, or the native histogram. */
const HISTOGRAMS = [
  'http_request_duration_seconds',
  ...Object.keys(AI_FAMILIES).filter((name) => AI_FAMILIES[name]!.type === 'histogram'),
];
/** Whether `text` uses Grafana variable `name` in any of its syntaxes. */
const uses = (text: string, name: string) =>
  new RegExp(`\\$${name}\\b|\\$\\{${name}(?::\\w+)?\\}|\\[\\[${name}(?::\\w+)?\\]\\]`).test(text);
const UNITS = new Set(['s', 'percentunit', 'reqps', 'ops', 'cps', 'short', 'currencyUSD']);
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana variable syntax
const DS_REF = { type: 'prometheus', uid: '${datasource}' };
const dashboards = readDashboards();

describe('dashboards', () => {
  it("are the seed's seven and the AI usage dashboard", () => {
    expect(dashboards.map((d) => d.file)).toEqual(FILES);
  });

  it('are exactly what scripts/generate-dashboards.ts produces', () => {
    const rendered = renderDashboards();
    expect([...rendered.keys()].sort()).toEqual(FILES);
    for (const [file, text] of rendered) expect(readFileSync(join(DASHBOARDS_DIR, file), 'utf8'), file).toBe(text);
  });

  it('cannot be generated with a variable the panels do not use, or without one they do', () => {
    const overview = DASHBOARD_SPECS.find((d) => d.file === 'overview.json')!;
    expect(() => buildDashboard({ ...overview, filters: ['endpoint', 'provider'] })).toThrow(
      'overview.json: the panels filter on [endpoint] but the dashboard declares [endpoint, provider]',
    );
    expect(() => buildDashboard({ ...overview, filters: [] })).toThrow(/filter on \[endpoint\] but .* declares \[\]/);
  });

  it('have unique uids and titles', () => {
    const uids = dashboards.map((d) => d.dashboard.uid);
    const titles = dashboards.map((d) => d.dashboard.title);
    expect(new Set(uids).size).toBe(FILES.length);
    expect(new Set(titles).size).toBe(FILES.length);
    for (const uid of uids) expect(uid).toMatch(/^[a-z0-9-]{1,40}$/);
  });

  describe.each(dashboards)('$file', ({ file, dashboard }) => {
    const vars: any[] = dashboard.templating.list;

    it('is a provisionable dashboard', () => {
      expect(dashboard.id).toBeNull();
      expect(dashboard.title).toMatch(/^Gatewayz \/ /);
      expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
      expect(dashboard.panels.length).toBeGreaterThan(0);
    });

    it('has the datasource, job and instance variables, and a variable for each label its panels filter on', () => {
      expect(vars.map((v) => v.name)).toEqual(VARIABLES[file]);
      expect(vars[0]).toMatchObject({ name: 'datasource', type: 'datasource', query: 'prometheus' });
      for (const v of vars.filter((x) => x.type === 'query')) {
        expect(v.datasource, v.name).toEqual(DS_REF);
        expect(v.query, v.name).toMatch(/^label_values\(.+, \w+\)$/);
        expect(v.includeAll && v.multi && v.allValue === '.*', v.name).toBe(true);
        // Variables may only use variables declared before them.
        const earlier = new Set(vars.slice(0, vars.indexOf(v)).map((x) => x.name));
        for (const [, used] of v.query.matchAll(/\$(\w+)/g))
          expect(earlier.has(used), `${v.name} uses $${used}`).toBe(true);
      }
    });

    it('uses every variable: each one filters at least one panel target expression', () => {
      const targets: any[] = dashboard.panels.flatMap((p: any) => p.targets);
      for (const v of vars) {
        if (v.type === 'datasource') {
          // The datasource variable is used by the panels' and targets' datasource, not in PromQL.
          expect(targets.length).toBeGreaterThan(0);
          for (const t of targets) expect(uses(t.datasource.uid, v.name), `${t.expr} datasource`).toBe(true);
          continue;
        }
        const users = targets.filter((t) => uses(t.expr, v.name));
        expect(users.length, `no panel target of ${file} uses $${v.name}`).toBeGreaterThan(0);
      }
      // And no target uses a variable the dashboard does not declare.
      const names = new Set([
        ...vars.map((v) => v.name),
        ...Object.keys(DEFAULT_VARIABLES).filter((n) => n.startsWith('__')),
      ]);
      for (const t of targets)
        for (const [, a, b, c] of t.expr.matchAll(/\$\{(\w+)(?::\w+)?\}|\[\[(\w+)(?::\w+)?\]\]|\$(\w+)/g))
          expect(names.has(a ?? b ?? c), `${t.expr} uses an undeclared variable`).toBe(true);
    });

    it("filters every selector on the dashboard's label variables when its metric carries the label", () => {
      for (const panel of dashboard.panels) {
        for (const { expr } of panel.targets) {
          for (const [selector, metric, matchers] of expr.matchAll(/\b([a-z_:][\w:]*)\{([^}]*)\}/g)) {
            const carried = filterLabelsOf(metric!);
            for (const label of carried) {
              expect(VARIABLES[file], `${selector} carries ${label}`).toContain(label);
              expect(matchers, selector).toContain(`${label}=~"$${label}"`);
            }
            // And no filter on a label the metric lacks: with one value picked, it would match nothing.
            for (const label of Object.keys(FILTER_METRICS).filter((l) => !carried.includes(l)))
              expect(matchers, `${selector} has no ${label} label`).not.toContain(`${label}=~`);
          }
        }
      }
    });

    it('has panels with unique ids and non-overlapping gridPos on a 24-column grid', () => {
      const ids = dashboard.panels.map((p: any) => p.id);
      expect(new Set(ids).size).toBe(ids.length);
      const cells = new Set<string>();
      for (const { gridPos: g, title } of dashboard.panels) {
        expect(g.w > 0 && g.h > 0 && g.x >= 0 && g.y >= 0 && g.x + g.w <= 24, title).toBe(true);
        for (let x = g.x; x < g.x + g.w; x++)
          for (let y = g.y; y < g.y + g.h; y++) {
            expect(cells.has(`${x},${y}`), `${title} overlaps at ${x},${y}`).toBe(false);
            cells.add(`${x},${y}`);
          }
      }
    });

    const panels: Array<[string, any]> = dashboard.panels.map((p: any) => [p.title, p]);
    it.each(panels)('panel "%s" is complete', (_title, panel) => {
      expect(panel.title).toMatch(/\S/);
      expect(panel.description).toMatch(/\S/);
      expect(['timeseries', 'stat', 'bargauge']).toContain(panel.type);
      expect(UNITS.has(panel.fieldConfig.defaults.unit), panel.fieldConfig.defaults.unit).toBe(true);
      expect(panel.datasource).toEqual(DS_REF);
      expect(panel.targets.length).toBeGreaterThan(0);
      const refIds = panel.targets.map((t: any) => t.refId);
      expect(new Set(refIds).size).toBe(refIds.length);
      for (const target of panel.targets) {
        expect(target.datasource).toEqual(DS_REF);
        expect(target.expr).toMatch(/\S/);
        expect(typeof target.legendFormat).toBe('string');
        // Every variable used is declared (or built in), and every selector honours $job and $instance.
        expect(() => substituteVariables(target.expr, { ...DEFAULT_VARIABLES, ...declared(vars) })).not.toThrow();
        for (const selector of target.expr.matchAll(/\b([a-z_:][\w:]*)\{([^}]*)\}/g)) {
          expect(selector[2], selector[0]).toContain('job=~"$job",instance=~"$instance"');
        }
        // Windows come from Grafana, never hard-coded.
        for (const [, window] of target.expr.matchAll(/\[([^\]]+)\]/g)) {
          expect(['$__rate_interval', '$__range'], target.expr).toContain(window);
        }
      }
    });

    it('aggregates latency only through histogram_quantile over summed bucket rates', () => {
      for (const panel of dashboard.panels) {
        for (const { expr } of panel.targets) {
          expect(expr, 'percentile/average gauges cannot be aggregated').not.toMatch(
            /\b(?:sum|avg|min|max|quantile)\b[^(]*\([^()]*http_request_latency_\w+_seconds/,
          );
          for (const q of expr.matchAll(/histogram_quantile\(([\d.]+), (.*)\)$/gm)) {
            expect(Number(q[1])).toBeGreaterThan(0);
            // Summed bucket rates: the classic buckets by (..., le), or the native histogram (its buckets inside).
            const h = `(?:${HISTOGRAMS.join('|')})`;
            expect(q[2]).toMatch(
              new RegExp(
                `^sum by \\((?:[\\w, ]+, )?le\\) \\(rate\\(${h}_bucket\\{|^sum(?: by \\([\\w, ]+\\))? \\(rate\\(${h}\\{`,
              ),
            );
          }
        }
      }
    });

    it.each(HISTOGRAMS)('reads the %s histogram in both modes: the classic series, or else the native one', (h) => {
      // With --enable-feature=native-histograms, Prometheus 2.42 keeps only the native histogram of the protobuf
      // exposition (no _bucket, _sum or _count): a panel reading only the classic series would show "No data".
      for (const panel of dashboard.panels) {
        for (const { expr } of panel.targets as Array<{ expr: string }>) {
          const classic = new RegExp(`\\b${h}_(?:bucket|sum|count)\\{`).test(expr);
          const native = new RegExp(`\\b${h}\\{`).test(expr);
          expect(classic, `${panel.title}: ${expr}`).toBe(native);
          if (!classic) continue;
          const [classicPart, nativePart, ...rest] = expr.split('\nor\n');
          expect(rest, expr).toEqual([]);
          expect(classicPart).not.toMatch(new RegExp(`\\b${h}\\{`));
          expect(nativePart).not.toMatch(new RegExp(`\\b${h}_\\w+\\{`));
          // The same quantile, over the same labels (the classic `by` less `le`), so `or` never mixes two series.
          const cq = /^histogram_quantile\(([\d.]+), sum by \(((?:[\w, ]+, )?)le\) \(rate\(\w+(\{[^}]*\})/.exec(
            classicPart!,
          );
          if (cq) {
            const by = cq[2]!.replace(/, $/, '');
            expect(nativePart).toBe(
              `histogram_quantile(${cq[1]}, sum${by ? ` by (${by})` : ''} (rate(${h}${cq[3]}[$__rate_interval])))`,
            );
          } else {
            const byClassic = [...classicPart!.matchAll(/sum(?: by \(([\w, ]+)\))? \(/g)].map((m) => m[1] ?? '');
            const byNative = [...nativePart!.matchAll(/sum(?: by \(([\w, ]+)\))? \(/g)].map((m) => m[1] ?? '');
            expect(new Set([...byClassic, ...byNative]).size, expr).toBe(1);
            expect(nativePart).toMatch(/^histogram_(?:sum|count|fraction)\(/);
          }
        }
      }
    });
  });

  it('show aggregated p50, p95 and p99 from the histogram on the latency dashboard', () => {
    const latency = dashboards.find((d) => d.file === 'latency.json')!.dashboard;
    const exprs: string[] = latency.panels.flatMap((p: any) => p.targets.map((t: any) => t.expr));
    for (const q of ['0.5', '0.95', '0.99']) {
      expect(exprs).toContainEqual(expect.stringMatching(new RegExp(`^histogram_quantile\\(${q}, sum by \\(le\\)`)));
    }
  });
});

describe('the AI usage dashboard', () => {
  const ai = dashboards.find((d) => d.file === 'ai-usage.json')!.dashboard;
  const exprs: string[] = ai.panels.flatMap((p: any) => p.targets.map((t: any) => t.expr));
  const has = (pattern: RegExp) => expect(exprs, String(pattern)).toContainEqual(expect.stringMatching(pattern));

  it('shows tokens per second by provider, model and type, and the cost per hour', () => {
    has(/^sum by \(provider, model, type\) \(rate\(model_tokens_total\{/);
    has(/^sum by \(provider, model\) \(rate\(model_cost_usd_total\{[^}]*\}\[\$__rate_interval\]\)\) \* 3600$/);
  });

  it('shows time to first token p50, p95 and p99 and time per output token from the histograms', () => {
    for (const h of ['model_time_to_first_token_seconds', 'model_time_per_output_token_seconds'])
      for (const q of ['0.5', '0.95', '0.99'])
        has(new RegExp(`^histogram_quantile\\(${q}, sum by \\(le\\) \\(rate\\(${h}_bucket`));
    has(/^histogram_quantile\(0\.95, sum by \(provider, model, le\) \(rate\(model_time_to_first_token_seconds_bucket/);
  });

  it('shows requests in flight by provider, stream aborts, and the top ten tenants by cost', () => {
    has(
      /^sum by \(provider\) \(model_requests_in_flight\{job=~"\$job",instance=~"\$instance",provider=~"\$provider"\}\)$/,
    );
    has(/^sum by \(provider, model\) \(rate\(model_stream_aborts_total\{/);
    has(
      /^topk\(10, sum by \(tenant\) \(rate\(tenant_cost_usd_total\{job=~"\$job",instance=~"\$instance"\}\[\$__rate_interval\]\)\) \* 3600\)$/,
    );
  });

  it('reads every AI family', () => {
    const read = new Set(exprs.flatMap((e) => [...e.matchAll(/\b([a-z_]+)\{/g)].map((m) => aiFamilyOf(m[1]!))));
    expect([...read].filter(Boolean).sort()).toEqual(Object.keys(AI_FAMILIES).sort());
  });
});

function declared(vars: any[]): Record<string, string> {
  return Object.fromEntries(vars.map((v) => [v.name, '.*']));
}
