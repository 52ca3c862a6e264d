/**
 * The dataset in the browser's IndexedDB (through idb-keyval), so a reload, a crash or a closed tab
 * loses nothing. Structured clone stores the rows as they are; no JSON round trip. The rows and
 * the rest (name, mapping, settings) are two records, so changing a setting on a 200 MB dataset
 * writes a few hundred bytes, not the rows again.
 */
import { createStore, delMany, getMany, set, setMany, type UseStore } from 'idb-keyval';
import type { DataRow, Dataset } from './datasetStore';

const META = 'dataset-meta';
const ROWS = 'dataset-rows';
/** Bump when Dataset changes shape; an older record is then ignored (the sample loads instead). */
const VERSION = 2;

type Meta = Omit<Dataset, 'rows'>;

export interface DatasetStorage {
  load(): Promise<Dataset | null>;
  /** `rowsChanged: false` writes only the settings record. */
  save(d: Dataset, rowsChanged: boolean): Promise<void>;
  clear(): Promise<void>;
}

export function indexedDbStorage(dbName = 'neox-studio'): DatasetStorage {
  let store: UseStore | null = null;
  const db = () => (store ??= createStore(dbName, 'datasets'));
  return {
    async load() {
      const [meta, rows] = (await getMany([META, ROWS], db())) as [{ version: number; meta: Meta } | undefined, { version: number; rows: DataRow[] } | undefined];
      if (meta?.version !== VERSION || rows?.version !== VERSION) return null;
      return { ...meta.meta, rows: rows.rows };
    },
    save({ rows, ...meta }, rowsChanged) {
      const m = { version: VERSION, meta };
      // One transaction for both, so a reload never pairs new rows with old settings.
      return rowsChanged ? setMany([[META, m], [ROWS, { version: VERSION, rows }]], db()) : set(META, m, db());
    },
    clear: () => delMany([META, ROWS], db()),
  };
}

/** Why a save failed, in words the panel can show. */
export function storageMessage(e: unknown): string {
  const name = (e as Error)?.name;
  const why = name === 'QuotaExceededError' ? 'the browser storage quota is full' : ((e as Error)?.message ?? String(e));
  return `The dataset could not be saved in this browser (${why}). It stays until this tab closes: export it to keep a copy.`;
}
