export interface ResponseCacheOptions {
  /** Entries kept; the least recently used goes first. @default 1000 */
  maxEntries?: number;
  /** How long an answer stays fresh, in milliseconds. @default 60000 */
  ttlMs?: number;
  /** Clock, injectable for tests. @default Date.now */
  now?: () => number;
}

interface Entry<V> {
  value: Promise<V>;
  expires: number;
}

/**
 * An LRU cache of answers keyed by prompt. It holds promises, so identical prompts that arrive while the
 * first is still upstream share its answer (they count as hits). A failed load is never kept.
 */
export class ResponseCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private readonly maxEntries: number;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(options: ResponseCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? 1000;
    this.ttlMs = options.ttlMs ?? 60_000;
    this.now = options.now ?? Date.now;
    if (!(this.maxEntries >= 1) || !(this.ttlMs > 0))
      throw new TypeError('@gatewayz/gateway: cache needs maxEntries >= 1 and ttlMs > 0');
  }

  /** The fresh or in-flight answer for `key` (`hit: true`), else starts `load` and caches it (`hit: false`). */
  getOrLoad(key: string, load: () => Promise<V>): { hit: boolean; value: Promise<V> } {
    const now = this.now();
    const entry = this.entries.get(key);
    if (entry !== undefined) {
      this.entries.delete(key);
      if (entry.expires > now) {
        this.entries.set(key, entry);
        return { hit: true, value: entry.value };
      }
    }
    const value = load();
    const fresh: Entry<V> = { value, expires: now + this.ttlMs };
    this.entries.set(key, fresh);
    value.catch(() => {
      if (this.entries.get(key) === fresh) this.entries.delete(key);
    });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    return { hit: false, value };
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }
}
