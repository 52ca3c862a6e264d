/** Tabs of the studio in one process, for tests of the cross-tab rules (state/tabs.ts). */
import type { TabMessage, Tabs } from '../state/tabs';

/**
 * Tabs in one process for tests: each call of `tab()` is one tab; locks and messages are shared
 * between them, and `close(tab)` releases its locks as a closed tab's are.
 */
export function memoryTabs() {
  const holders = new Map<string, object>();
  const waiting = new Map<string, (() => void)[]>();
  const listeners = new Map<object, (m: TabMessage) => void>();
  const free = (name: string) => {
    holders.delete(name);
    const next = waiting.get(name)?.shift();
    next?.();
  };
  const tab = (): Tabs & { id: object } => {
    const id = {};
    return {
      id,
      async tryHold(name) {
        if (holders.has(name)) return null;
        holders.set(name, id);
        return () => holders.get(name) === id && free(name);
      },
      whenFree(name, granted) {
        const run = () => {
          holders.set(name, id);
          void granted().finally(() => free(name));
        };
        if (!holders.has(name)) run();
        else waiting.set(name, [...(waiting.get(name) ?? []), run]);
      },
      held: async () => new Set(holders.keys()),
      post: (m) => {
        for (const [other, fn] of listeners) if (other !== id) queueMicrotask(() => fn(structuredClone(m)));
      },
      listen: (fn) => void listeners.set(id, fn),
    };
  };
  const close = (t: { id: object }) => {
    listeners.delete(t.id);
    for (const [name, holder] of [...holders]) if (holder === t.id) free(name);
  };
  return { tab, close };
}
