/**
 * The data panel's actions over the data worker and the browser storage. Built from a factory so
 * tests can drive it with an in-process data service and a memory storage.
 *
 * Every change to the rows goes through `change`, which keeps the previous dataset on the undo
 * stack; a new import is a change too, so replacing the data never loses the old set.
 */
import type { StoreApi } from 'zustand';
import type { DataEvent, DataRequests } from '../protocol/dataProtocol';
import type { TokenizerSource } from '../protocol/protocol';
import type { ChatTemplate } from '../data/chatTemplate';
import type { RpcHooks } from '../client/rpcClient';
import { DEFAULT_SPLIT, DEFAULT_TOKENIZE } from '../data/defaults';
import { toJsonl, type ExportFormat } from '../data/exportJsonl';
import { detectMapping, MAPPING_SLOTS } from '../data/mapping';
import type { FieldMapping, MappingKind, ParseResult, Row, SplitSettings, TemplateId, TemplateSpec, TokenizeSettings } from '../data/types';
import { deriveDataset, splitSegments } from './datasetDerived';
import type { DatasetStorage } from './datasetStorage';
import { storageMessage } from './datasetStorage';
import { LOCKS, soloTabs, type Tabs } from './tabs';
import { HISTORY_LIMIT, SKIPPED_KEPT, type DataRow, type Dataset, type DatasetState, type HistoryEntry, type RowFilter } from './datasetStore';

export interface DataApi {
  request<K extends keyof DataRequests & string>(kind: K, params: DataRequests[K]['params'], hooks?: RpcHooks<DataEvent>): Promise<DataRequests[K]['result']>;
}

export interface DatasetEnv {
  data: DataApi;
  storage: DatasetStorage;
  /** The other tabs of the studio (default: none): only the first tab open saves the dataset. */
  tabs?: Tabs;
  /** The bundled sample dataset's text. */
  loadSample: () => Promise<string>;
  /** Offers a file to the user (the app clicks a download link). */
  download: (name: string, text: string) => void;
  /** Milliseconds to wait after the last change before saving (saves are whole-dataset writes). */
  saveDelayMs?: number;
}

export const SAMPLE_NAME = 'NeoX Studio help (sample)';
const IMPORTS_KEPT = 2;

const TEMPLATE_FOR: Record<MappingKind, TemplateId> = {
  qa: 'qa',
  alpaca: 'alpaca',
  'prompt-completion': 'plain',
  'input-output': 'plain',
  text: 'plain',
  chat: 'llama2',
  preference: 'plain', // TRL's standard format: the prompt and the reply run on as they are
};

/** A starting point for the custom template that names the dataset's own prompt field. */
function customStarter(mapping: FieldMapping | null): string {
  const promptSlot = mapping ? MAPPING_SLOTS[mapping.kind][0] : null;
  const field = promptSlot && mapping!.kind !== 'text' && mapping!.kind !== 'chat' ? mapping!.fields[promptSlot.slot] : null;
  return field ? `Q: {${field}}\nA:` : 'Text: {text}\n';
}

/**
 * A dataset from a parsed file, its mapping detected. Chat data starts on the loaded model's own
 * chat template when it has one (`modelChat`), else on Llama 2's.
 */
export function datasetFromParse(name: string, source: Dataset['source'], result: ParseResult, prev: Dataset | null, modelChat: ChatTemplate | null = null): Dataset {
  const mapping = detectMapping(result.rows);
  const template: TemplateSpec =
    mapping?.kind === 'chat' && modelChat ? { id: 'model', custom: customStarter(mapping), chat: modelChat } : { id: mapping ? TEMPLATE_FOR[mapping.kind] : 'plain', custom: customStarter(mapping) };
  // Settings are the user's, not the file's: they carry over to a new dataset, but the end-of-text
  // token follows the template as setTemplate has it (off with the model's chat template).
  const tokenize = { ...(prev?.tokenize ?? DEFAULT_TOKENIZE) };
  if ((template.id === 'model') !== (prev?.template.id === 'model')) tokenize.appendEos = template.id !== 'model';
  return {
    name,
    source,
    format: result.format,
    rows: result.rows.map((data, i) => ({ id: i, line: result.rowLines[i] ?? null, data })),
    nextId: result.rows.length,
    skipped: result.issues.slice(0, SKIPPED_KEPT),
    skippedCount: result.issues.filter((i) => i.kind !== 'empty-file').length,
    mapping,
    template,
    tokenize,
    split: prev?.split ?? { ...DEFAULT_SPLIT },
  };
}

export function createDatasetActions(store: Pick<StoreApi<DatasetState>, 'getState' | 'setState' | 'subscribe'>, env: DatasetEnv) {
  const set = store.setState;
  const get = store.getState;
  let importAbort: AbortController | null = null;
  let measureAbort: AbortController | null = null;
  let viewAbort: AbortController | null = null;
  let measuredFor: unknown = null;
  let viewKey: unknown[] = [];
  let saveTimer: ReturnType<typeof setTimeout> | null = null;
  let savedDataset: Dataset | null = null;
  /**
   * Whether this tab may write the stored dataset: not when reading it failed (the write would
   * replace what could not be read), nor when another tab of the studio is the one saving it.
   */
  let writable = true;

  /**
   * At most two replaced datasets are kept (each can be 200 MB): a new import forgets the steps
   * before the import that came two loads ago.
   */
  function push(entry: HistoryEntry): void {
    let history = [...get().history, entry];
    const imports = history.flatMap((h, i) => (h.kind === 'dataset' ? [i] : []));
    if (imports.length > IMPORTS_KEPT) history = history.slice(imports[imports.length - IMPORTS_KEPT]);
    set({ history: history.slice(-HISTORY_LIMIT) });
  }

  /** Replaces the rows, keeping the old ones on the undo stack under `label`. */
  function changeRows(label: string, d: Dataset, rows: DataRow[], nextId = d.nextId): void {
    push({ label, kind: 'rows', rows: d.rows, nextId: d.nextId });
    set({ dataset: { ...d, rows, nextId } });
  }

  function update(fn: (d: Dataset) => Dataset): void {
    const d = get().dataset;
    if (d) set({ dataset: fn(d) });
  }

  function scheduleSave(): void {
    const d = get().dataset;
    if (!d) return;
    if (d === savedDataset) {
      // Back to what is stored (an undo right after a change): nothing to write.
      if (saveTimer) clearTimeout(saveTimer);
      saveTimer = null;
      if (!get().saved) set({ saved: true });
      return;
    }
    if (get().saved) set({ saved: false });
    if (!writable) return;
    if (saveTimer) clearTimeout(saveTimer);
    saveTimer = setTimeout(() => void save(), env.saveDelayMs ?? 300);
  }

  async function save(): Promise<void> {
    if (saveTimer) clearTimeout(saveTimer);
    saveTimer = null;
    const d = get().dataset;
    if (!d || d === savedDataset || !writable) return;
    const rowsChanged = d.rows !== savedDataset?.rows;
    savedDataset = d;
    try {
      await env.storage.save(d, rowsChanged);
      if (get().dataset === d) set({ saved: true, storageError: null });
    } catch (e) {
      savedDataset = null; // so the next change or flush tries again
      set({ storageError: storageMessage(e) });
    }
  }

  /** Token counts come from the worker; re-measured whenever the rendered text changes. */
  function remeasure(): void {
    const { dataset, measure } = get();
    if (!dataset) return;
    const { rendered } = deriveDataset(dataset, measure);
    if (rendered.segments === measuredFor) return;
    measuredFor = rendered.segments;
    measureAbort?.abort();
    const abort = (measureAbort = new AbortController());
    const items = rendered.segments.map((s) => s ?? []);
    set({ measure: { status: 'running', done: 0, total: items.length } });
    env.data
      .request('measure', { items }, { signal: abort.signal, onEvent: (e) => e.type === 'measureProgress' && abort === measureAbort && set({ measure: { status: 'running', done: e.done, total: e.total } }) })
      .then(
        ({ lengths }) => abort === measureAbort && set({ measure: { status: 'done', of: rendered.segments, lengths } }),
        (e) => abort === measureAbort && !abort.signal.aborted && set({ measure: { status: 'failed', message: messageOf(e) } }),
      );
  }

  /** The selected row's token view, re-requested when its text or the settings change. */
  function refreshTokenView(): void {
    const { dataset, selectedId, measure } = get();
    if (!dataset || selectedId === null) {
      viewKey = [];
      if (get().tokenView.status !== 'idle') set({ tokenView: { status: 'idle' } });
      return;
    }
    const i = dataset.rows.findIndex((r) => r.id === selectedId);
    const segments = i >= 0 ? deriveDataset(dataset, measure).rendered.segments[i] : null;
    const key = [selectedId, segments, dataset.tokenize];
    if (key.every((k, j) => k === viewKey[j])) return;
    viewKey = key;
    if (!segments) {
      set({ tokenView: { status: 'idle' } });
      return;
    }
    viewAbort?.abort();
    const abort = (viewAbort = new AbortController());
    set({ tokenView: { status: 'loading', rowId: selectedId } });
    env.data.request('tokenView', { segments, settings: dataset.tokenize }, { signal: abort.signal }).then(
      (view) => viewKey === key && set({ tokenView: { status: 'ready', rowId: selectedId, view } }),
      (e) => viewKey === key && !abort.signal.aborted && set({ tokenView: { status: 'failed', rowId: selectedId, message: messageOf(e) } }),
    );
  }

  store.subscribe((s, prev) => {
    if (s.dataset !== prev.dataset) {
      scheduleSave();
      remeasure();
    }
    if (s.dataset !== prev.dataset || s.selectedId !== prev.selectedId) refreshTokenView();
  });

  async function parse(name: string, source: Blob | string): Promise<ParseResult | null> {
    importAbort?.abort();
    const abort = (importAbort = new AbortController());
    set({ import: { status: 'parsing', name, progress: null } });
    try {
      const result = await env.data.request(
        'parse',
        { source, name },
        { signal: abort.signal, onEvent: (e) => e.type === 'parseProgress' && abort === importAbort && set({ import: { status: 'parsing', name, progress: e.progress } }) },
      );
      return abort === importAbort ? result : null;
    } catch (e) {
      if (abort === importAbort) set({ import: abort.signal.aborted ? { status: 'idle' } : { status: 'failed', name, message: messageOf(e) } });
      return null;
    }
  }

  /** Clean files load straight away; files with bad lines wait in review for skip-or-cancel. */
  async function importSource(name: string, source: Blob | string, kind: Dataset['source']): Promise<void> {
    const result = await parse(name, source);
    if (!result) return;
    if (result.rows.length > 0 && result.issues.length === 0) adopt(name, kind, result);
    else set({ import: { status: 'review', name, source: kind, result } });
  }

  function adopt(name: string, source: Dataset['source'], result: ParseResult): void {
    const prev = get().dataset;
    if (prev) push({ label: `load ${name}`, kind: 'dataset', dataset: prev });
    set({ dataset: datasetFromParse(name, source, result, prev, get().modelChat) });
    set({ import: { status: 'idle' }, selectedId: null, query: '', filter: 'all' });
  }

  async function loadSample(): Promise<void> {
    let text: string;
    try {
      text = await env.loadSample();
    } catch (e) {
      set({ import: { status: 'failed', name: SAMPLE_NAME, message: `the sample dataset did not load (${messageOf(e)}): drop a file instead` } });
      return;
    }
    await importSource(SAMPLE_NAME, text, 'sample');
  }

  function rowIndex(id: number): number {
    return get().dataset?.rows.findIndex((r) => r.id === id) ?? -1;
  }

  return {
    /**
     * Tokenize with the loaded model's tokenizer (null: the bundled one) from now on, so the Data
     * tab shows the tokens training will use: every count and the token view are made again.
     */
    async useTokenizer(source: TokenizerSource | null): Promise<void> {
      // The data worker adopts the chat template only once it rendered a trial conversation there.
      const { chat: modelChat, chatProblem: modelChatProblem } = await env.data.request('useTokenizer', { source });
      set({ tokenizer: source ? 'model' : 'bundled', modelChat, modelChatProblem });
      // A dataset on the model's template follows the model now loaded.
      if (get().dataset?.template.id === 'model') update((d) => ({ ...d, template: { ...d.template, chat: modelChat } }));
      measuredFor = null;
      viewKey = [];
      remeasure();
      refreshTokenView();
    },

    /** Restores the saved dataset, or loads the sample when there is none. */
    async start(): Promise<void> {
      set({ restoring: true });
      const first = await (env.tabs ?? soloTabs()).tryHold(LOCKS.dataset); // held until this tab closes
      if (!first) {
        writable = false;
        set({ storageError: 'The studio is open in another tab, and that tab saves the dataset: changes made here stay until this tab closes (export them to keep a copy). Close the other tab and reload this one to save from here.' });
      }
      let saved: Dataset | null = null;
      try {
        saved = await env.storage.load();
      } catch (e) {
        writable = false;
        set({ storageError: `The dataset saved in this browser could not be read (${messageOf(e)}). Nothing is saved from this tab, so it is not overwritten: reload the page to try again.` });
      }
      // A file dropped while the saved data was being read wins over both.
      if (get().dataset || get().import.status !== 'idle') {
        set({ restoring: false });
      } else if (saved) {
        savedDataset = saved;
        set({ dataset: saved, restoring: false, saved: true });
      } else {
        set({ restoring: false });
        await loadSample();
      }
    },

    importFile: (file: File) => importSource(file.name, file, 'file'),
    importText: (text: string) => importSource('pasted text', text, 'paste'),
    loadSample,

    /** Stops a running parse, or leaves the review without loading anything. */
    cancelImport(): void {
      importAbort?.abort();
      importAbort = null;
      set({ import: { status: 'idle' } });
    },

    /** From review: keep the good rows, skip the bad lines (they stay listed on the dataset). */
    acceptImport(): void {
      const s = get().import;
      if (s.status === 'review' && s.result.rows.length > 0) adopt(s.name, s.source, s.result);
    },

    setMappingKind(kind: MappingKind): void {
      update((d) => {
        const guess = detectMapping(d.rows.map((r) => r.data));
        const fields = guess?.kind === kind ? guess.fields : guessFields(kind, d.mapping);
        return { ...d, mapping: { kind, fields }, template: { ...d.template, id: d.template.id === 'custom' ? 'custom' : TEMPLATE_FOR[kind] } };
      });
    },

    setMappingField(slot: string, field: string): void {
      update((d) => {
        if (!d.mapping) return d;
        const fields = { ...d.mapping.fields };
        if (field) fields[slot] = field;
        else delete fields[slot];
        return { ...d, mapping: { ...d.mapping, fields } };
      });
    },

    /**
     * The model's chat template ends each turn with the model's own end token, so choosing it turns
     * the appended end-of-text token off (and leaving it turns it back on); the Tokens panel shows it.
     */
    setTemplate: (t: Partial<TemplateSpec>) =>
      update((d) => {
        const toModel = t.id === 'model' && d.template.id !== 'model';
        const fromModel = t.id !== undefined && t.id !== 'model' && d.template.id === 'model';
        return {
          ...d,
          template: { ...d.template, ...t, ...(t.id === 'model' ? { chat: get().modelChat } : {}) },
          tokenize: toModel || fromModel ? { ...d.tokenize, appendEos: fromModel } : d.tokenize,
        };
      }),
    setTokenize: (t: Partial<TokenizeSettings>) => update((d) => ({ ...d, tokenize: { ...d.tokenize, ...t } })),
    setSplit: (s: Partial<SplitSettings>) => update((d) => ({ ...d, split: { ...d.split, ...s } })),

    setQuery: (query: string) => set({ query }),
    setFilter: (filter: RowFilter) => set({ filter }),
    select: (selectedId: number | null) => set({ selectedId }),

    editRow(id: number, data: Row): void {
      const d = get().dataset;
      const i = rowIndex(id);
      if (!d || i < 0) return;
      const rows = d.rows.slice();
      rows[i] = { ...rows[i], data };
      changeRows(`edit row ${i + 1}`, d, rows);
    },

    deleteRow(id: number): void {
      const d = get().dataset;
      const i = rowIndex(id);
      if (!d || i < 0) return;
      changeRows(`delete row ${i + 1}`, d, d.rows.filter((r) => r.id !== id));
      if (get().selectedId === id) set({ selectedId: null });
    },

    /** Appends a row (ids never repeat, so undo and the split stay unambiguous); returns its id. */
    addRow(data: Row): number | null {
      const d = get().dataset;
      if (!d) return null;
      const id = d.nextId;
      changeRows('add a row', d, [...d.rows, { id, line: null, data }], id + 1);
      set({ selectedId: id });
      return id;
    },

    undo(): void {
      const history = get().history;
      const last = history[history.length - 1];
      const d = get().dataset;
      if (!last || !d) return;
      const dataset = last.kind === 'dataset' ? last.dataset : { ...d, rows: last.rows, nextId: last.nextId };
      set({ dataset, history: history.slice(0, -1) });
      const sel = get().selectedId;
      if (sel !== null && !dataset.rows.some((r) => r.id === sel)) set({ selectedId: null });
    },

    /** Downloads the rendered examples (all usable ones, or one split) as JSONL. */
    exportJsonl(which: 'all' | 'train' | 'test', format: ExportFormat): void {
      const d = get().dataset;
      if (!d) return;
      const derived = deriveDataset(d, get().measure);
      const base = d.name.replace(/\.[^.]+$/, '').replace(/[^\w.-]+/g, '_') || 'dataset';
      env.download(`${base}.${which}.${format}.jsonl`, toJsonl(splitSegments(d, derived, which), format));
    },

    /** Saves now (tests, and before the page hides). */
    flush: save,
  };
}

export type DatasetActions = ReturnType<typeof createDatasetActions>;

/** Keeps fields whose slot names carry over (e.g. "input" from Alpaca to input/output). */
function guessFields(kind: MappingKind, prev: FieldMapping | null): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const { slot } of MAPPING_SLOTS[kind]) if (prev?.fields[slot]) fields[slot] = prev.fields[slot];
  return fields;
}

function messageOf(e: unknown): string {
  return (e as Error)?.message ?? String(e);
}
