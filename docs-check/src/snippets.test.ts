import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { METRIC_FAMILIES } from '@gatewayz/metrics-exporter';
import { describe, expect, it } from 'vitest';
import {
  collectSnippets,
  extractSnippets,
  isAdapterSnippet,
  markdownFiles,
  ROOT,
  runSnippet,
  typecheckSnippets,
} from './snippets.js';

// test-artifacts/ is ignored by git and biome, and sits inside docs-check/ so imports resolve to the workspace packages.
const TMP = join(ROOT, 'docs-check', 'test-artifacts');
const DOCS = ['PROMETHEUS_METRICS_IMPLEMENTATION.md', 'METRICS_INTEGRATION_GUIDE.md', 'METRICS_QUICK_REFERENCE.md'];
const read = (f: string) => readFileSync(join(ROOT, f), 'utf8');

describe('TypeScript snippets in the docs and READMEs', () => {
  const files = markdownFiles();
  const snippets = collectSnippets(files);

  it('finds the docs and their snippets', () => {
    for (const d of DOCS) expect(files).toContain(`docs/${d}`);
    for (const f of ['README.md', ...DOCS.map((d) => `docs/${d}`)]) {
      expect(snippets.filter((s) => s.file === f && !s.fragment).length, f).toBeGreaterThan(0);
    }
  });

  it('keeps fragments (```ts fragment) rare', () => {
    const fragments = snippets.filter((s) => s.fragment);
    expect(fragments.length).toBeLessThanOrEqual(Math.ceil(snippets.length / 10));
  });

  it('typechecks every snippet against the workspace packages', async () => {
    const r = await typecheckSnippets(snippets, join(TMP, 'all'));
    console.log(
      `[docs-check] ${r.checked} snippets typechecked, ${r.skipped} fragments skipped, ${files.length} files`,
    );
    expect(r.errors.map((e) => `${e.where}: ${e.message}`).join('\n')).toBe('');
    expect(r.output.trim()).toBe('');
  });

  it('reports a broken snippet at its Markdown line (the check can fail)', async () => {
    const md = [
      '# t',
      '',
      '```ts',
      "import { MetricsCollector } from '@gatewayz/metrics-core';",
      'new MetricsCollector().recordRequest({ endpoint: 1 });',
      '```',
      '',
      '```ts fragment',
      'this is not TypeScript',
      '```',
    ].join('\n');
    const s = extractSnippets(md, 'broken.md');
    expect(s.map((x) => x.fragment)).toEqual([false, true]);
    const r = await typecheckSnippets(s, join(TMP, 'broken'));
    expect(r.checked).toBe(1);
    expect(r.errors.length).toBeGreaterThan(0);
    expect(r.errors[0]!.where).toMatch(/^broken\.md:5:/);
  });
});

// Every adapter snippet (one that imports @gatewayz/metrics-express, -fastify or -koa) is a whole program: it is
// transpiled, started on a free 127.0.0.1 port (PORT), must answer GET /metrics with http_requests_total and must exit
// on SIGTERM.

describe('adapter snippets run as written', () => {
  const runnable = collectSnippets(markdownFiles()).filter(isAdapterSnippet);

  it('finds the adapter snippets of the README files and the guides', () => {
    expect(runnable.some((s) => s.file === 'README.md')).toBe(true);
    expect(runnable.filter((s) => s.file === 'docs/PROM-CLIENT.md').length).toBe(3);
    for (const a of ['express', 'fastify', 'koa']) {
      const file = `packages/metrics-${a}/README.md`;
      expect(
        runnable.some((s) => s.file === file && s.code.includes(`@gatewayz/metrics-${a}`)),
        file,
      ).toBe(true);
      expect(
        runnable.some((s) => s.file === 'docs/METRICS_INTEGRATION_GUIDE.md' && s.code.includes(`metrics-${a}'`)),
      ).toBe(true);
    }
  });

  it.each(runnable.map((s) => [`${s.file}:${s.line}`, s] as const))(
    '%s listens on PORT, serves /metrics and exits on SIGTERM',
    async (where, s) => {
      const r = await runSnippet(s, join(TMP, 'run'), where.replace(/[^\w]+/g, '_'));
      expect(`${r.reason}${r.ok ? '' : `\n${r.output}`}`, where).toBe('ok');
    },
    60_000,
  );

  const program = (code: string[]) => extractSnippets(['```ts', ...code, '```'].join('\n'), 'neg.md')[0]!;

  it('fails a snippet that never listens (the check can fail)', async () => {
    const s = program([
      "import express from 'express';",
      "import { expressMetrics } from '@gatewayz/metrics-express';",
      'const app = express();',
      'app.use(expressMetrics());',
    ]);
    const r = await runSnippet(s, join(TMP, 'neg'), 'no_listen');
    expect(r.ok).toBe(false);
    expect(r.reason).toMatch(/^exited \(code 0, .*before listening/);
  }, 30_000);

  it('fails a snippet that swallows SIGTERM', async () => {
    const s = program([
      "import express from 'express';",
      "import { expressMetrics } from '@gatewayz/metrics-express';",
      'const app = express();',
      'app.use(expressMetrics());',
      "app.listen(Number(process.env.PORT), '127.0.0.1');",
      "process.once('SIGTERM', () => {});",
    ]);
    const r = await runSnippet(s, join(TMP, 'neg'), 'sigterm', { exitMs: 1500 });
    expect(r.ok).toBe(false);
    expect(r.reason).toMatch(/still running 1500 ms after SIGTERM/);
  }, 30_000);
});

describe('the implementation reference', () => {
  it('documents every metric family the exporter writes, with its type', () => {
    const doc = read('docs/PROMETHEUS_METRICS_IMPLEMENTATION.md');
    for (const f of Object.values(METRIC_FAMILIES)) {
      expect(doc, f.name).toContain(`\`${f.name}\``);
      const row = doc.split('\n').find((l) => l.startsWith('|') && l.includes(`\`${f.name}\``));
      expect(row, `table row for ${f.name}`).toBeDefined();
      expect(row, f.name).toContain(f.type);
    }
  });

  it('lists every family in the quick reference', () => {
    const doc = read('docs/METRICS_QUICK_REFERENCE.md');
    for (const f of Object.values(METRIC_FAMILIES)) expect(doc, f.name).toContain(f.name);
  });
});
