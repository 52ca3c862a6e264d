import { describe, expect, it } from 'vitest';
import { keepHubToken, loadHubToken, type TokenStores } from './hubToken';

const memory = () => {
  const m = new Map<string, string>();
  return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v), removeItem: (k: string) => void m.delete(k), m };
};

describe('the Hub token', () => {
  it('is kept for the session after a push that worked, in the browser only when asked, and forgotten there when unticked', () => {
    const stores: TokenStores & { session: ReturnType<typeof memory>; local: ReturnType<typeof memory> } = { session: memory(), local: memory() };
    expect(loadHubToken(stores)).toEqual({ token: '', remembered: false });
    keepHubToken('hf_a', false, stores);
    expect(stores.local.m.size).toBe(0); // never in localStorage unless asked
    expect(loadHubToken(stores)).toEqual({ token: 'hf_a', remembered: false });
    keepHubToken('hf_b', true, stores);
    expect(loadHubToken({ session: memory(), local: stores.local })).toEqual({ token: 'hf_b', remembered: true }); // a new tab
    keepHubToken('hf_b', false, stores);
    expect(stores.local.m.size).toBe(0);
  });
});
