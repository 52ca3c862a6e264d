/**
 * Byte caches for downloaded Hub files, keyed by the file's `resolve` URL (never the CDN
 * URL it redirects to: those are signed and change between requests).
 *
 * Contract shared by every implementation:
 * - `put` copies `data` before its first await, because callers may transfer the same
 *   ArrayBuffer to another thread right after, which detaches it.
 * - `get` returns a buffer the caller owns (a fresh copy), for the same reason.
 * - Either may reject (quota, private browsing, …). downloadModel treats a failed `get` as a
 *   miss and a failed `put` as "not cached", reports both through its `onWarning` option, and
 *   still completes the download.
 */
export interface FileCache {
  get(url: string): Promise<ArrayBuffer | null>;
  put(url: string, data: ArrayBuffer): Promise<void>;
}

/** A FileCache that can list and delete what it holds: the "Models in this browser" list. */
export interface ListableCache extends FileCache {
  /** Every key with the size of its bytes. */
  entries(): Promise<{ url: string; bytes: number }[]>;
  delete(url: string): Promise<void>;
}

/** A ListableCache that can also list its keys at once; used by tests and the CLI. */
export interface MemoryCache extends ListableCache {
  keys(): string[];
}

export const DEFAULT_CACHE_NAME = 'neox-studio-hub-v1';

/**
 * A FileCache backed by the Cache Storage API, available in windows and workers on secure
 * origins. Returns null where `caches` does not exist (Node, insecure http:// origins).
 * A put that exceeds the storage quota rejects with the browser's QuotaExceededError;
 * downloadModel turns that into a warning instead of failing the download.
 */
export function cacheStorageCache(name: string = DEFAULT_CACHE_NAME): ListableCache | null {
  const storage = (globalThis as { caches?: CacheStorage }).caches;
  if (!storage) return null;

  let opened: Promise<Cache> | null = null;
  const open = (): Promise<Cache> => {
    // Forget a failed open so a later call can retry (e.g. after the user frees storage).
    opened ??= storage.open(name).catch((err: unknown) => {
      opened = null;
      throw err;
    });
    return opened;
  };

  return {
    async get(url) {
      const response = await (await open()).match(url);
      return response ? response.arrayBuffer() : null;
    },
    async put(url, data) {
      // Constructing the Response copies the bytes synchronously (see the contract above).
      const response = new Response(data, {
        headers: {
          'Content-Length': String(data.byteLength),
          'Content-Type': 'application/octet-stream',
        },
      });
      await (await open()).put(url, response);
    },
    async entries() {
      const cache = await open();
      const out: { url: string; bytes: number }[] = [];
      for (const req of await cache.keys()) {
        // put() wrote Content-Length; reading it is cheaper than reading the body.
        const length = Number((await cache.match(req))?.headers.get('Content-Length') ?? 0);
        out.push({ url: req.url, bytes: Number.isFinite(length) ? length : 0 });
      }
      return out;
    },
    async delete(url) {
      await (await open()).delete(url);
    },
  };
}

/** An in-memory FileCache for tests and Node, where Cache Storage does not exist. */
export function memoryCache(): MemoryCache {
  const entries = new Map<string, ArrayBuffer>();
  return {
    async get(url) {
      const data = entries.get(url);
      return data ? data.slice(0) : null;
    },
    async put(url, data) {
      entries.set(url, data.slice(0));
    },
    keys() {
      return [...entries.keys()];
    },
    async entries() {
      return [...entries].map(([url, data]) => ({ url, bytes: data.byteLength }));
    },
    async delete(url) {
      entries.delete(url);
    },
  };
}

/** True for the DOMException browsers throw when site storage is full. */
export function isQuotaError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { name?: unknown }).name === 'QuotaExceededError';
}
