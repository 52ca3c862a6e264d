/// <reference lib="webworker" />
/**
 * The studio's service worker (built to /sw.js by serviceWorkerPlugin.ts, with the precache list
 * and a build id put in its source):
 * - isolation: every same-origin response it serves carries COOP/COEP (isolation.ts), so WASM
 *   runs threaded on hosts that cannot send the headers;
 * - offline: the app shell is precached at install; pages are network-first (a new deploy is seen
 *   at once) with the cached index.html when the network fails; built files cache-first;
 * - updates: a new build installs beside the running one and waits until the page asks it to take
 *   over ("skip-waiting", from the update notice), so a tab in the middle of a run is never
 *   switched under it. The first install takes over at once: there is nothing to replace.
 * Cross-origin requests (the Hub) are not touched: model files have their own cache.
 */
import { withIsolation } from './isolation';

declare const self: ServiceWorkerGlobalScope;
declare const __PRECACHE__: { build: string; files: string[] };

const CACHE = `studio-shell-${__PRECACHE__.build}`;
const scope = new URL(self.registration.scope);
const INDEX = new URL('index.html', scope).href;

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      // Past the HTTP cache: a stale file under a new build id would be kept until the next build.
      await cache.addAll(__PRECACHE__.files.map((f) => new Request(new URL(f, scope).href, { cache: 'reload' })));
      if (!self.registration.active) await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const key of await caches.keys()) if (key.startsWith('studio-shell-') && key !== CACHE) await caches.delete(key);
      await self.clients.claim();
    })(),
  );
});

self.addEventListener('message', (event) => {
  if ((event.data as { type?: string } | null)?.type === 'skip-waiting') void self.skipWaiting();
});

async function respond(request: Request): Promise<Response> {
  const cache = await caches.open(CACHE);
  if (request.mode === 'navigate') {
    try {
      return withIsolation(await fetch(request));
    } catch (e) {
      const shell = await cache.match(INDEX);
      if (shell) return withIsolation(shell);
      throw e;
    }
  }
  const cached = await cache.match(request);
  return withIsolation(cached ?? (await fetch(request)));
}

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET' || new URL(request.url).origin !== scope.origin) return;
  event.respondWith(respond(request));
});
