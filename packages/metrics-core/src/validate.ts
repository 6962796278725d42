import { CORE_PACKAGE_NAME, MetricsError } from './errors.js';

/** What an option's value may be. `object` is any non-null, non-array object. */
export type OptionKind = 'boolean' | 'number' | 'string' | 'function' | 'object' | 'array' | 'regexp' | 'null';

/** The keys of a nested options object, each with its rule. */
export interface OptionShape {
  readonly [key: string]: OptionRule;
}

/** An option's expected kind, a nested shape (an object with those keys), or a list of alternatives. */
export type OptionRule = OptionKind | OptionShape | readonly (OptionKind | OptionShape)[];

/**
 * A rule for every key of `T`, and no other key: the compiler then fails when an option is added to
 * `T` without its rule.
 */
export type OptionSchema<T> = { readonly [K in keyof T]-?: OptionRule };

const ARTICLE: Record<OptionKind, string> = {
  boolean: 'a boolean',
  number: 'a number',
  string: 'a string',
  function: 'a function',
  object: 'an object',
  array: 'an array',
  regexp: 'a RegExp',
  null: 'null',
};

/** Strings this long may be secrets (tokens must be at least 16 characters), so they are never echoed. */
const ECHO_MAX = 15;

/** What a value is, for an error message: `the string "no"`, `the number 5`, `an array`. */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof RegExp) return 'a RegExp';
  switch (typeof v) {
    case 'string':
      return v.length <= ECHO_MAX ? `the string ${JSON.stringify(v)}` : `a string of ${v.length} characters`;
    case 'number':
    case 'boolean':
      return `the ${typeof v} ${String(v)}`;
    case 'bigint':
      return `the bigint ${String(v)}n`;
    case 'object':
      return 'an object';
    case 'undefined':
      return 'undefined';
    default:
      return `a ${typeof v}`;
  }
}

function kindOf(v: unknown): OptionKind | undefined {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (v instanceof RegExp) return 'regexp';
  const t = typeof v;
  return t === 'boolean' || t === 'number' || t === 'string' || t === 'function' || t === 'object' ? t : undefined;
}

/** Optimal-string-alignment distance (a swap of neighbours costs 1), case-insensitive. */
function distance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  let prev2: number[] = [];
  let prev = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const row = [i];
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) d = Math.min(d, prev2[j - 2]! + 1);
      row.push(d);
    }
    prev2 = prev;
    prev = row;
  }
  return prev[t.length]!;
}

/** The valid key closest to `key`, if one is close enough to be a typo of it. */
export function closestKey(key: string, valid: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  for (const k of valid) {
    const d = distance(key, k);
    if (d < bestD) {
      best = k;
      bestD = d;
    }
  }
  if (best !== undefined && bestD <= Math.max(1, Math.floor(Math.max(key.length, best.length) / 3))) return best;
  // A cut-short name (`user` for `username`) when only one valid key starts with it.
  const lower = key.toLowerCase();
  const starts = key.length >= 3 ? valid.filter((k) => k.toLowerCase().startsWith(lower)) : [];
  return starts.length === 1 ? starts[0] : undefined;
}

function check(value: unknown, shape: OptionShape, path: string, packageName: string): void {
  const valid = Object.keys(shape);
  for (const key of Object.keys(value as object)) {
    const name = path + key;
    const rule = Object.hasOwn(shape, key) ? shape[key] : undefined;
    if (rule === undefined) {
      const near = closestKey(key, valid);
      throw new MetricsError(
        'INVALID_OPTION',
        near !== undefined
          ? `unknown option "${name}"; did you mean "${path}${near}"?`
          : `unknown option "${name}"; valid options${path ? ` of "${path.slice(0, -1)}"` : ''} are ${valid.map((k) => `"${k}"`).join(', ')}`,
        packageName,
      );
    }
    const v = (value as Record<string, unknown>)[key];
    if (v !== undefined) checkRule(v, rule, name, packageName);
  }
}

function checkRule(v: unknown, rule: OptionRule, name: string, packageName: string): void {
  const alternatives = (Array.isArray(rule) ? rule : [rule]) as readonly (OptionKind | OptionShape)[];
  const kind = kindOf(v);
  for (const alt of alternatives) {
    if (typeof alt === 'string') {
      if (alt === kind) return;
    } else if (kind === 'object') {
      check(v, alt, `${name}.`, packageName);
      return;
    }
  }
  const expected = alternatives.map((alt) => (typeof alt === 'string' ? ARTICLE[alt] : ARTICLE.object));
  const list = expected.length > 1 ? `${expected.slice(0, -1).join(', ')} or ${expected.at(-1)}` : expected[0];
  throw new MetricsError('INVALID_OPTION', `option "${name}" must be ${list}, got ${describeValue(v)}`, packageName);
}

/**
 * Checks an options object against its schema, at construction: an unknown key throws a
 * {@link MetricsError} naming the closest valid key, a value of the wrong kind one naming what was given.
 * `undefined` values mean "the default" and pass. Ranges and cross-field rules are the caller's to check.
 *
 * ```ts
 * validateOptions(options, { adminToken: ['string', 'null'], protobuf: 'boolean' }, '@acme/metrics');
 * ```
 */
export function validateOptions<T>(
  options: unknown,
  schema: OptionSchema<T>,
  packageName: string = CORE_PACKAGE_NAME,
): void {
  if (options === undefined) return;
  if (kindOf(options) !== 'object') {
    throw new MetricsError('INVALID_OPTION', `options must be an object, got ${describeValue(options)}`, packageName);
  }
  check(options, schema as OptionShape, '', packageName);
}
