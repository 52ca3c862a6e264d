/**
 * The page's side of the service worker (serviceWorker.ts): registers it, reloads once when the
 * host sent no isolation headers (the worker supplies them from then on), tells who isolated the
 * page, and offers a new build as an update rather than switching a working tab under its user.
 *
 * Only in production builds: the dev server sends the headers itself, and a worker caching the
 * dev server's modules would only get in the way.
 */
import { create } from 'zustand';
import { SUPPLIED_BY } from './isolation';

export type IsolationSource = 'server' | 'service-worker' | 'none';

export interface AppShellState {
  /** Who made the page cross-origin isolated (WASM threads need it); null until known. */
  isolation: IsolationSource | null;
  /** A new build is installed and waits for the page to take it. */
  updateReady: boolean;
}

export const useAppShell = create<AppShellState>()(() => ({ isolation: null, updateReady: false }));

/** What the shell needs from the browser (a fake in tests). */
export interface ShellEnv {
  serviceWorker: ServiceWorkerContainer | null;
  isolated: () => boolean;
  reload: () => void;
  /** Once per tab: guards the isolation reload against a loop where the headers cannot help. */
  session: Pick<Storage, 'getItem' | 'setItem'>;
  fetch: typeof fetch;
  /** The app's root URL (where sw.js and index.html are). */
  base: URL;
}

const RELOADED = 'studio.isolation-reload';

let waiting: ServiceWorker | null = null;
let reloadOnChange = false;

/** Who isolated the page: the worker marks the responses it gave the headers to. */
async function isolationSource(env: ShellEnv): Promise<IsolationSource> {
  if (!env.isolated()) return 'none';
  if (!env.serviceWorker?.controller) return 'server';
  try {
    const res = await env.fetch(new URL('index.html', env.base), { cache: 'no-store' });
    return res.headers.get(SUPPLIED_BY) ? 'service-worker' : 'server';
  } catch {
    return 'service-worker'; // offline: only the worker can have served this page
  }
}

function offerUpdate(worker: ServiceWorker | null, env: ShellEnv): void {
  if (!worker || !env.serviceWorker?.controller) return; // the first install is no update
  const ready = () => {
    if (worker.state !== 'installed') return;
    waiting = worker;
    useAppShell.setState({ updateReady: true });
  };
  if (worker.state === 'installed') ready();
  else worker.addEventListener('statechange', ready);
}

export async function startAppShell(env: ShellEnv): Promise<void> {
  const sw = env.serviceWorker;
  if (!sw) {
    useAppShell.setState({ isolation: env.isolated() ? 'server' : 'none' });
    return;
  }
  sw.addEventListener('controllerchange', () => {
    if (reloadOnChange) env.reload();
  });
  // Not isolated: reload once the worker controls the page, so the page comes with its headers.
  if (!env.isolated() && env.session.getItem(RELOADED) === null) {
    env.session.setItem(RELOADED, '1');
    if (sw.controller) {
      env.reload();
      return;
    }
    reloadOnChange = true;
  }
  const registration = await sw.register(new URL('sw.js', env.base), { scope: env.base.pathname });
  offerUpdate(registration.waiting, env);
  registration.addEventListener('updatefound', () => offerUpdate(registration.installing, env));
  useAppShell.setState({ isolation: await isolationSource(env) });
}

/** Takes the waiting build: the worker takes over, and the page reloads into it. */
export function applyUpdate(): void {
  if (!waiting) return;
  reloadOnChange = true;
  waiting.postMessage({ type: 'skip-waiting' });
}

export function browserShellEnv(): ShellEnv {
  const ok = typeof navigator !== 'undefined' && 'serviceWorker' in navigator && import.meta.env.PROD;
  return {
    serviceWorker: ok ? navigator.serviceWorker : null,
    isolated: () => globalThis.crossOriginIsolated === true,
    reload: () => window.location.reload(),
    session: window.sessionStorage,
    fetch: (...a) => fetch(...a),
    base: new URL(import.meta.env.BASE_URL, window.location.href),
  };
}

export const selectUpdateReady = (s: AppShellState): boolean => s.updateReady;
export const selectIsolationSource = (s: AppShellState): IsolationSource | null => s.isolation;
