/**
 * Start options from the page URL: `?backend=wasm` picks the compute backend and
 * `?hub=<url>` points Hub downloads at a mirror. Both make a session shareable and
 * let browser tests steer the app without clicking.
 */
import type { BackendChoice } from '../protocol/protocol';
import { DEFAULT_BACKEND, DEFAULT_HUB_ENDPOINT } from './defaults';

export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'webgpu', 'wasm', 'cpu'];

export const isBackendChoice = (s: string | null): s is BackendChoice => BACKEND_CHOICES.includes(s as BackendChoice);

export interface StartOptions {
  backend: BackendChoice;
  hubEndpoint: string;
}

export function parseStartOptions(search: string): StartOptions {
  const q = new URLSearchParams(search);
  const backend = q.get('backend');
  return {
    backend: isBackendChoice(backend) ? backend : DEFAULT_BACKEND,
    hubEndpoint: normaliseEndpoint(q.get('hub')),
  };
}

/** A trailing slash would give `//` in `/{repo}/resolve/{rev}/{file}` URLs. */
function normaliseEndpoint(raw: string | null): string {
  const text = raw?.trim() ?? '';
  return text === '' ? DEFAULT_HUB_ENDPOINT : text.replace(/\/+$/, '');
}

/** The query string with `backend` set, keeping everything else (e.g. `hub`), so a reload keeps the choice. */
export function withBackend(search: string, backend: BackendChoice): string {
  const q = new URLSearchParams(search);
  if (backend === DEFAULT_BACKEND) q.delete('backend');
  else q.set('backend', backend);
  const s = q.toString();
  return s === '' ? '' : `?${s}`;
}
