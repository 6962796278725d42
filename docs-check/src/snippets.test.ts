import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { METRIC_FAMILIES } from '@gatewayz/metrics-exporter';
import { describe, expect, it } from 'vitest';
import { collectSnippets, extractSnippets, markdownFiles, ROOT, typecheckSnippets } from './snippets.js';

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
