import { parseExposition, type Sample } from './exposition.js';

/** The sum of the samples named `name` whose labels include `labels`. */
export const sumOf = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((n, s) => n + s.value, 0);

/** The samples of `GET {url}/metrics` (text 0.0.4). */
export async function scrape(url: string): Promise<Sample[]> {
  return parseExposition(await (await fetch(`${url}/metrics`)).text());
}

/** Polls the exposition until `done(samples)` holds, for at most `ms`; returns the last scrape. */
export async function until(url: string, done: (s: Sample[]) => boolean, ms = 5000): Promise<Sample[]> {
  const deadline = Date.now() + ms;
  let s = await scrape(url);
  while (!done(s) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 25));
    s = await scrape(url);
  }
  return s;
}
