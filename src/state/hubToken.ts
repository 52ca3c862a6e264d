/**
 * The Hugging Face write token: kept for this tab's session by default (sessionStorage), in the
 * browser only when the person asks (localStorage), and stored only once a push with it worked, so
 * a mistyped token is never kept.
 */
const KEY = 'neox-studio-hf-token';

export interface TokenStores {
  session: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;
  local: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;
}

const browserStores = (): TokenStores => ({ session: sessionStorage, local: localStorage });

/** The token to prefill, and whether it was kept in the browser (the box stays ticked). */
export function loadHubToken(stores: TokenStores = browserStores()): { token: string; remembered: boolean } {
  const local = stores.local.getItem(KEY);
  return { token: stores.session.getItem(KEY) ?? local ?? '', remembered: local !== null };
}

/** After a push that worked: keep the token for the session, or in the browser when `remember`. */
export function keepHubToken(token: string, remember: boolean, stores: TokenStores = browserStores()): void {
  stores.session.setItem(KEY, token);
  if (remember) stores.local.setItem(KEY, token);
  else stores.local.removeItem(KEY);
}
