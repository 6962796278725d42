import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (docs-check/ is one level below it). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** One fenced TypeScript block of a Markdown file. */
export interface Snippet {
  /** Markdown file, relative to the repository root. */
  file: string;
  /** 1-based line of the first code line (the line after the opening fence). */
  line: number;
  code: string;
  /** Opened with ```ts fragment: not checked. */
  fragment: boolean;
}

const FENCE_OPEN = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)(.*)$/;

/**
 * The ```ts (or ```typescript) blocks of a Markdown text. An info string with the word `fragment`
 * (```ts fragment) marks a block that is not a whole program; it is extracted but not typechecked.
 */
export function extractSnippets(markdown: string, file: string): Snippet[] {
  const lines = markdown.split('\n');
  const out: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE_OPEN.exec(lines[i]!);
    if (!open) continue;
    const [, indent = '', fence = '', lang = '', rest = ''] = open;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const l = lines[j]!;
      if (l.trim().startsWith(fence[0]!.repeat(fence.length)) && l.trim().replace(/[`~]/g, '') === '') break;
      body.push(l.startsWith(indent) ? l.slice(indent.length) : l);
    }
    if (lang === 'ts' || lang === 'typescript') {
      out.push({ file, line: i + 2, code: body.join('\n'), fragment: /\bfragment\b/.test(rest) });
    }
    i = j;
  }
  return out;
}

/** docs/*.md, README.md and packages/*\/README.md, relative to the repository root. */
export function markdownFiles(root = ROOT): string[] {
  const files = ['README.md'];
  for (const f of readdirSync(join(root, 'docs')).sort()) if (f.endsWith('.md')) files.push(`docs/${f}`);
  for (const p of readdirSync(join(root, 'packages')).sort()) {
    try {
      readFileSync(join(root, 'packages', p, 'README.md'));
      files.push(`packages/${p}/README.md`);
    } catch {
      // a package without a README has no snippets
    }
  }
  return files;
}

export function collectSnippets(files: readonly string[], root = ROOT): Snippet[] {
  return files.flatMap((f) => extractSnippets(readFileSync(join(root, f), 'utf8'), f));
}

/** A compiler diagnostic, mapped back to the Markdown line it comes from. */
export interface SnippetError {
  /** `docs/X.md:123:5`, or the raw tsc location when it is not inside a snippet. */
  where: string;
  message: string;
}

export interface CheckResult {
  checked: number;
  skipped: number;
  errors: SnippetError[];
  /** tsc's raw output. */
  output: string;
}

const require = createRequire(import.meta.url);

/**
 * Writes each checked snippet to `<dir>/NNN.mts` and runs `tsc --noEmit` once over all of them with
 * the repository's compiler options (strict, NodeNext). `dir` must sit inside docs-check/ so that the
 * snippets' imports resolve to the workspace packages in docs-check/node_modules.
 */
export async function typecheckSnippets(snippets: readonly Snippet[], dir: string): Promise<CheckResult> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const checked = snippets.filter((s) => !s.fragment);
  const names = checked.map((s, i) => {
    const name = `${String(i).padStart(3, '0')}.mts`;
    // Every .mts file is a module, so snippets never share top-level names.
    writeFileSync(join(dir, name), `${s.code}\n`);
    return name;
  });
  const base = relative(dir, join(ROOT, 'tsconfig.base.json')).replaceAll('\\', '/');
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({ extends: base, compilerOptions: { noEmit: true, declaration: false }, files: names }, null, 2),
  );
  const tsc = require.resolve('typescript/bin/tsc');
  const output = await new Promise<string>((done) => {
    execFile(
      process.execPath,
      [tsc, '-p', join(dir, 'tsconfig.json'), '--pretty', 'false'],
      { cwd: dir, maxBuffer: 64 * 1024 * 1024 },
      (_err, stdout, stderr) => done(`${stdout}${stderr}`),
    );
  });
  const errors: SnippetError[] = [];
  for (const line of output.split('\n')) {
    const m = /^(.*?)\((\d+),(\d+)\): error (.*)$/.exec(line);
    if (m) {
      const idx = names.indexOf(m[1]!.replace(/^.*[\\/]/, ''));
      const s = checked[idx];
      errors.push({
        where: s ? `${s.file}:${s.line + Number(m[2]) - 1}:${m[3]}` : `${m[1]}(${m[2]},${m[3]})`,
        message: m[4]!,
      });
    } else if (/error TS\d+/.test(line)) {
      errors.push({ where: 'tsc', message: line });
    }
  }
  return { checked: checked.length, skipped: snippets.length - checked.length, errors, output };
}
