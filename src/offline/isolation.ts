/**
 * Cross-origin isolation supplied by the studio's own service worker, where the host cannot send
 * the headers (GitHub Pages and most static hosts): the approach of coi-serviceworker. WASM threads
 * need SharedArrayBuffer, which browsers give only to cross-origin isolated pages; a page served
 * through a service worker takes the headers of the Response the worker hands it, so the worker
 * adds them to every same-origin response that lacks them.
 *
 * The values are vite.config.ts's (require-corp: the app's cross-origin requests are CORS fetches
 * to the Hub, which it allows).
 */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
} as const;

/** Set on responses the service worker gave the headers to, so the page can tell who isolated it. */
export const SUPPLIED_BY = 'X-Studio-Isolation';

/** `res` with the isolation headers; unchanged where the server sent them or where they cannot be added (opaque responses). */
export function withIsolation(res: Response): Response {
  if (res.type === 'opaque' || res.type === 'opaqueredirect' || res.status === 0) return res;
  const h = res.headers;
  if (h.get('Cross-Origin-Opener-Policy') === ISOLATION_HEADERS['Cross-Origin-Opener-Policy'] && h.get('Cross-Origin-Embedder-Policy') === ISOLATION_HEADERS['Cross-Origin-Embedder-Policy']) return res;
  const headers = new Headers(h);
  for (const [k, v] of Object.entries(ISOLATION_HEADERS)) headers.set(k, v);
  headers.set(SUPPLIED_BY, 'service-worker');
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
}
