/**
 * The dataset in the browser's IndexedDB (through idb-keyval), so a reload, a crash or a closed tab
 * loses nothing. Structured clone stores the rows as they are; no JSON round trip.
 */
import { createStore, del, get, set, type UseStore } from 'idb-keyval';
import type { Dataset } from './datasetStore';

const KEY = 'dataset';
/** Bump when Dataset changes shape; an older record is then ignored (the sample loads instead). */
const VERSION = 1;

export interface DatasetStorage {
  load(): Promise<Dataset | null>;
  save(d: Dataset): Promise<void>;
  clear(): Promise<void>;
}

export function indexedDbStorage(dbName = 'neox-studio'): DatasetStorage {
  let store: UseStore | null = null;
  const db = () => (store ??= createStore(dbName, 'datasets'));
  return {
    async load() {
      const rec = (await get(KEY, db())) as { version: number; dataset: Dataset } | undefined;
      return rec?.version === VERSION ? rec.dataset : null;
    },
    save: (dataset) => set(KEY, { version: VERSION, dataset }, db()),
    clear: () => del(KEY, db()),
  };
}

/** Why a save failed, in words the panel can show. */
export function storageMessage(e: unknown): string {
  const name = (e as Error)?.name;
  const why = name === 'QuotaExceededError' ? 'the browser storage quota is full' : ((e as Error)?.message ?? String(e));
  return `The dataset could not be saved in this browser (${why}). It stays until this tab closes: export it to keep a copy.`;
}
