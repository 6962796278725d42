export type ExpositionFormat = 'text' | 'openmetrics';

export const TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

/**
 * Picks the exposition format from an `Accept` header. OpenMetrics is chosen only when the client
 * asks for `application/openmetrics-text` with a higher (or equal, earlier) quality than text/plain;
 * anything else, including no header, gets the 0.0.4 text format.
 */
export function negotiateFormat(accept: string | string[] | undefined | null): {
  format: ExpositionFormat;
  contentType: string;
} {
  const header = Array.isArray(accept) ? accept.join(',') : accept;
  let best: ExpositionFormat = 'text';
  let bestQ = -1;
  if (typeof header === 'string' && header.length > 0) {
    for (const part of header.slice(0, 4096).split(',')) {
      const [type = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase());
      let q = 1;
      for (const p of params) {
        if (p.startsWith('q=')) {
          const n = Number(p.slice(2));
          q = Number.isFinite(n) ? n : 0;
        }
      }
      if (q <= 0) continue;
      let format: ExpositionFormat | undefined;
      if (type === 'application/openmetrics-text') format = 'openmetrics';
      else if (type === 'text/plain' || type === '*/*' || type === 'text/*') format = 'text';
      if (format && q > bestQ) {
        best = format;
        bestQ = q;
      }
    }
  }
  return { format: best, contentType: best === 'openmetrics' ? OPENMETRICS_CONTENT_TYPE : TEXT_CONTENT_TYPE };
}
