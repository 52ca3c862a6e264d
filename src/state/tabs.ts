/**
 * Several tabs of the studio on one origin share its IndexedDB and its checkpoint files. Web Locks
 * say which tab owns what (a lock is released by the browser when its tab closes or crashes), and
 * a BroadcastChannel keeps the other tabs' lists in step. Both behind one small interface, so the
 * actions are tested with two in-memory "tabs" (testing/memoryTabs.ts) and run with the browser's (browserTabs).
 */
import type { RunRecord } from './trainStore';

/** What one tab tells the others. */
export type TabMessage = { kind: 'run'; run: RunRecord } | { kind: 'run-deleted'; id: string } | { kind: 'dataset-saved' };

export interface Tabs {
  /** Takes lock `name` if no tab holds it; returns its release, or null when another tab holds it. */
  tryHold(name: string): Promise<(() => void) | null>;
  /** Calls `granted` once lock `name` is free (held only during the call: for noticing that its holder went away). */
  whenFree(name: string, granted: () => Promise<void>): void;
  /** The names of the locks held now, by any tab of this origin. */
  held(): Promise<Set<string>>;
  post(m: TabMessage): void;
  /** Messages from the other tabs (never this tab's own). */
  listen(fn: (m: TabMessage) => void): void;
}

/** Lock names. */
export const LOCKS = {
  /** Held by the tab driving the run, from its start to its end. */
  run: (id: string) => `neox-run:${id}`,
  /** Held by the tab that is training: one run at a time on this machine. */
  training: 'neox-training',
  /** Held by the first tab open: only it saves the Data tab's dataset. */
  dataset: 'neox-dataset-writer',
} as const;

const CHANNEL = 'neox-studio';

/** The browser's Web Locks and BroadcastChannel; where either is missing, a tab that sees no other. */
export function browserTabs(): Tabs {
  const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
  const channel = typeof BroadcastChannel !== 'undefined' ? new BroadcastChannel(CHANNEL) : null;
  if (!locks) return { ...soloTabs(), post: (m) => channel?.postMessage(m), listen: (fn) => channel?.addEventListener('message', (e) => fn(e.data as TabMessage)) };
  return {
    tryHold: (name) =>
      new Promise((resolve) => {
        void locks.request(name, { ifAvailable: true }, (lock) => {
          if (!lock) {
            resolve(null);
            return;
          }
          return new Promise<void>((release) => resolve(() => release()));
        });
      }),
    whenFree: (name, granted) => void locks.request(name, () => granted()).catch(() => {}),
    held: async () => new Set(((await locks.query()).held ?? []).map((l) => l.name ?? '')),
    post: (m) => channel?.postMessage(m),
    listen: (fn) => channel?.addEventListener('message', (e) => fn(e.data as TabMessage)),
  };
}

/** One tab alone: every lock is free. */
export function soloTabs(): Tabs {
  return { tryHold: async () => () => {}, whenFree: () => {}, held: async () => new Set(), post: () => {}, listen: () => {} };
}

let shared: Tabs | null = null;
/** The page's one Tabs (one BroadcastChannel), made on first use. */
export const appTabs = (): Tabs => (shared ??= browserTabs());
