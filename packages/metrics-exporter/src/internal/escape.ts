import { formatValue } from '../formatValue.js';

const LABEL_SPECIAL = /[\\"\n]/;
const HELP_SPECIAL = /[\\\n]/;

/** Escapes a label value for both text formats: `\` → `\\`, `"` → `\"`, newline → `\n`. */
export function escapeLabelValue(v: string): string {
  if (!LABEL_SPECIAL.test(v)) return v;
  return v.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

/** Escapes HELP text for the 0.0.4 text format: `\` → `\\`, newline → `\n`. */
export function escapeHelp(v: string): string {
  if (!HELP_SPECIAL.test(v)) return v;
  return v.replace(/[\\\n]/g, (c) => (c === '\n' ? '\\n' : '\\\\'));
}

// Re-exported for the renderers that import it from here; it lives in the public formatValue.ts.
export { formatValue };

/** OpenMetrics canonical number for `le`/`quantile` label values: integers carry `.0`. */
export function formatCanonical(v: number): string {
  if (Number.isInteger(v) && Math.abs(v) < 1e21) return `${v}.0`;
  return formatValue(v);
}
