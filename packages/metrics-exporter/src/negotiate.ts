export type ExpositionFormat = 'text' | 'openmetrics';
/** Everything `/metrics` can answer with: the text formats, or delimited protobuf (for native histograms). */
export type ScrapeFormat = ExpositionFormat | 'protobuf';

export const TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';
export const PROTOBUF_CONTENT_TYPE =
  'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited';

const CONTENT_TYPES: Record<ScrapeFormat, string> = {
  text: TEXT_CONTENT_TYPE,
  openmetrics: OPENMETRICS_CONTENT_TYPE,
  protobuf: PROTOBUF_CONTENT_TYPE,
};

/**
 * Picks the exposition format from an `Accept` header. OpenMetrics is chosen only when the client
 * asks for `application/openmetrics-text` with a higher (or equal, earlier) quality than text/plain;
 * anything else, including no header, gets the 0.0.4 text format.
 */
export function negotiateFormat(accept: string | string[] | undefined | null): {
  format: ExpositionFormat;
  contentType: string;
} {
  return negotiate(accept, false) as { format: ExpositionFormat; contentType: string };
}

/**
 * Like {@link negotiateFormat}, but also offers delimited protobuf (`io.prometheus.client.MetricFamily`),
 * which Prometheus asks for when its native-histograms feature is on.
 */
export function negotiateScrapeFormat(
  accept: string | string[] | undefined | null,
  options: { protobuf?: boolean } = {},
): { format: ScrapeFormat; contentType: string } {
  return negotiate(accept, options.protobuf ?? true);
}

/**
 * The entries of a comma-separated header with `q` weights (`Accept`, `Accept-Encoding`; RFC 9110 §12.4.2), read from
 * its first 4 KiB: each value and its parameters trimmed and lower-cased, and its weight (1 when absent, 0 when
 * unreadable).
 */
function* weighted(
  header: string | string[] | undefined | null,
): Generator<{ value: string; params: string[]; q: number }> {
  const text = Array.isArray(header) ? header.join(',') : header;
  if (typeof text !== 'string' || text.length === 0) return;
  for (const part of text.slice(0, 4096).split(',')) {
    const [value = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    let q = 1;
    for (const p of params) {
      if (p.startsWith('q=')) {
        const n = Number(p.slice(2));
        q = Number.isFinite(n) ? n : 0;
      }
    }
    yield { value, params, q };
  }
}

/** True when `Accept-Encoding` takes gzip: `gzip` or `x-gzip` (the first one named decides), else `*`, with q above 0. */
export function acceptsGzip(acceptEncoding: string | string[] | undefined | null): boolean {
  let star = false;
  for (const { value, q } of weighted(acceptEncoding)) {
    if (value === 'gzip' || value === 'x-gzip') return q > 0;
    if (value === '*') star = q > 0;
  }
  return star;
}

function negotiate(
  accept: string | string[] | undefined | null,
  protobuf: boolean,
): { format: ScrapeFormat; contentType: string } {
  let best: ScrapeFormat = 'text';
  let bestQ = -1;
  for (const { value: type, params, q } of weighted(accept)) {
    if (q <= 0) continue;
    let format: ScrapeFormat | undefined;
    if (type === 'application/openmetrics-text') format = 'openmetrics';
    else if (
      protobuf &&
      type === 'application/vnd.google.protobuf' &&
      params.includes('proto=io.prometheus.client.metricfamily') &&
      params.includes('encoding=delimited')
    ) {
      format = 'protobuf';
    } else if (type === 'text/plain' || type === '*/*' || type === 'text/*') format = 'text';
    if (format && q > bestQ) {
      best = format;
      bestQ = q;
    }
  }
  return { format: best, contentType: CONTENT_TYPES[best] };
}
