/** The value every label takes once its cap of distinct values is reached. */
export const OVERFLOW_LABEL = '__overflow__';

/** The value of every request method outside {@link STANDARD_METHODS} (OpenTelemetry's `http.request.method` convention). */
export const OTHER_METHOD = '_OTHER';

/** The methods that are always their own label value (RFC 9110 plus PATCH, as OpenTelemetry lists them). */
export const STANDARD_METHODS: ReadonlySet<string> = new Set([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'CONNECT',
  'OPTIONS',
  'TRACE',
  'PATCH',
]);

/**
 * The method label of a request: a standard method in upper case, `_OTHER` for any other method, so
 * that no client can spend the method cap. A missing or empty method stays empty (the interner names it).
 */
export function methodLabel(raw: unknown): string {
  if (typeof raw !== 'string') return raw === undefined || raw === null ? '' : OTHER_METHOD;
  if (STANDARD_METHODS.has(raw) || raw === '') return raw;
  const upper = raw.toUpperCase();
  return STANDARD_METHODS.has(upper) ? upper : OTHER_METHOD;
}

const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/g;

/**
 * Makes an arbitrary value a safe label value: a string, well-formed UTF-16 (lone surrogates
 * become U+FFFD), no control characters but `\n` and `\t`, at most `maxLength` code units
 * (never splitting a surrogate pair).
 */
export function sanitizeLabel(raw: unknown, maxLength: number): string {
  let s = typeof raw === 'string' ? raw : raw == null ? '' : toStringOrEmpty(raw);
  if (s.length > maxLength) {
    let end = maxLength;
    const c = s.charCodeAt(end - 1);
    if (c >= 0xd800 && c <= 0xdbff) end--;
    s = s.slice(0, end);
  }
  s = s.toWellFormed();
  if (CONTROL.test(s)) {
    CONTROL.lastIndex = 0;
    s = s.replace(CONTROL, '\ufffd');
  }
  return s;
}

/** `String(v)`, or '' when that throws (a null-prototype object, a throwing `toString`, a revoked proxy). */
function toStringOrEmpty(v: unknown): string {
  try {
    return String(v);
  } catch {
    return '';
  }
}

/**
 * Maps raw label values to interned per-value state, with a cap on distinct values.
 * Values past the cap share one overflow entry. The raw-value cache is bounded too, so
 * a stream of distinct values costs no memory once the cap is reached.
 */
export class LabelInterner<T> {
  private readonly byRaw = new Map<string, T>();
  private readonly bySanitized = new Map<string, T>();
  private overflowEntry: T | undefined;
  overflowed = 0;

  constructor(
    private readonly cap: number,
    private readonly maxLength: number,
    private readonly create: (label: string) => T,
    private readonly emptyLabel: string,
    private readonly normalize?: (label: string) => string,
  ) {}

  get(raw: string): T {
    const hit = this.byRaw.get(raw);
    if (hit !== undefined) return hit;
    return this.slow(raw);
  }

  private slow(raw: unknown): T {
    let label = sanitizeLabel(raw, this.maxLength);
    // Normalising (upper-casing) can lengthen a string ('ß' -> 'SS'), so cut again.
    if (this.normalize) label = sanitizeLabel(this.normalize(label), this.maxLength);
    if (label === '') label = this.emptyLabel;
    // A value that is literally the overflow label shares the overflow series rather than duplicating it.
    let entry = label === OVERFLOW_LABEL ? this.overflow() : this.bySanitized.get(label);
    if (entry === undefined) {
      if (this.bySanitized.size >= this.cap) {
        this.overflowed++;
        return this.overflow();
      }
      entry = this.create(label);
      this.bySanitized.set(label, entry);
    }
    if (typeof raw === 'string' && this.byRaw.size < this.cap * 2) this.byRaw.set(raw, entry);
    return entry;
  }

  private overflow(): T {
    if (this.overflowEntry === undefined) this.overflowEntry = this.create(OVERFLOW_LABEL);
    return this.overflowEntry;
  }

  /** Looks up any value, including non-strings. */
  getAny(raw: unknown): T {
    return typeof raw === 'string' ? this.get(raw) : this.slow(raw);
  }

  get size(): number {
    return this.bySanitized.size + (this.overflowEntry ? 1 : 0);
  }

  *values(): IterableIterator<T> {
    yield* this.bySanitized.values();
    if (this.overflowEntry) yield this.overflowEntry;
  }

  clear(): void {
    this.byRaw.clear();
    this.bySanitized.clear();
    this.overflowEntry = undefined;
    this.overflowed = 0;
  }
}
