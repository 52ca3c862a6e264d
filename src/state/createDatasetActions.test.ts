import { readFileSync } from 'node:fs';
import { beforeEach, describe, expect, it } from 'vitest';
import { createStore, type StoreApi } from 'zustand/vanilla';
import { inProcessDataClient, repoFile } from '../testing/dataTesting';
import { SMOLLM2_CHAT_TEMPLATE } from '../testing/hubConfigs';
import { TOKENIZER_PATH } from '../testing/tinyModel';
import { createDatasetActions, SAMPLE_NAME, type DatasetActions } from './createDatasetActions';
import { deriveDataset, selectVisibleRows } from './datasetDerived';
import type { DatasetStorage } from './datasetStorage';
import { memoryTabs } from '../testing/memoryTabs';
import type { Tabs } from './tabs';
import { initialDatasetState, type Dataset, type DatasetState, type RowFilter } from './datasetStore';

const LAMINI = readFileSync(repoFile('fixtures/data/course/lamini_docs.jsonl'));
const SAMPLE = readFileSync(repoFile('public/datasets/studio-help.jsonl'), 'utf8');

function memoryStorage(initial: Dataset | null = null): DatasetStorage & { saved: Dataset | null; saves: number } {
  const s = {
    saved: initial,
    saves: 0,
    load: async () => s.saved,
    save: async (d: Dataset, rowsChanged: boolean) => {
      if (!rowsChanged && s.saved && d.rows !== s.saved.rows) throw new Error('rows changed but were not saved');
      s.saved = d;
      s.saves++;
    },
    clear: async () => {
      s.saved = null;
    },
  };
  return s;
}

async function until<T>(f: () => T | null | undefined | false, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}

let store: StoreApi<DatasetState>;
let storage: ReturnType<typeof memoryStorage>;
let downloads: { name: string; text: string }[];
let actions: DatasetActions;

function setup(saved: Dataset | null = null, opts: { storage?: ReturnType<typeof memoryStorage>; tabs?: Tabs } = {}) {
  store = createStore<DatasetState>()(initialDatasetState);
  storage = opts.storage ?? memoryStorage(saved);
  downloads = [];
  actions = createDatasetActions(store, {
    data: inProcessDataClient(),
    storage,
    tabs: opts.tabs,
    loadSample: async () => SAMPLE,
    download: (name, text) => downloads.push({ name, text }),
    saveDelayMs: 0,
  });
}

const view = () => {
  const s = store.getState();
  return deriveDataset(s.dataset!, s.measure);
};
const measured = () => until(() => view().stats);

describe('dataset actions', () => {
  beforeEach(() => setup());

  it('start with nothing saved loads the bundled sample, mapped as the course Q&A', async () => {
    await actions.start();
    const d = store.getState().dataset!;
    expect(d.name).toBe(SAMPLE_NAME);
    expect(d.source).toBe('sample');
    expect(d.rows.length).toBeGreaterThanOrEqual(150);
    expect(d.mapping?.kind).toBe('qa');
    expect(d.template.id).toBe('qa');
    const stats = await measured();
    expect(stats.examples).toBe(d.rows.length);
  });

  it('importing the course file gives 1,400 rows, the Q&A mapping and a 1,260 / 140 split', async () => {
    await actions.start();
    await actions.importFile(new File([LAMINI], 'lamini_docs.jsonl'));
    const d = store.getState().dataset!;
    expect(store.getState().import.status).toBe('idle');
    expect(d.rows).toHaveLength(1400);
    expect(d.mapping).toEqual({ kind: 'qa', fields: { question: 'question', answer: 'answer' } });
    const v = view();
    expect(v.usable).toHaveLength(1400);
    expect([v.split.train.length, v.split.test.length]).toEqual([1260, 140]);
    // The split is a function of the seed: the same seed again gives the same ids, another seed others.
    const test = v.split.test.slice();
    actions.setSplit({ seed: d.split.seed + 1 });
    expect(view().split.test).not.toEqual(test);
    actions.setSplit({ seed: d.split.seed });
    expect(view().split.test).toEqual(test);
  });

  it('a file with bad lines waits for review: skip keeps the good rows and the counts, cancel keeps the old data', async () => {
    await actions.start();
    const before = store.getState().dataset;
    const text = '{"question": "a", "answer": "b"}\nnot json\n[1, 2]\n{"question": "c", "answer": "d"}\n';
    await actions.importText(text);
    const s = store.getState().import;
    expect(s.status).toBe('review');
    if (s.status !== 'review') return;
    expect(s.result.rows).toHaveLength(2);
    expect(s.result.issues.map((i) => [i.line, i.kind])).toEqual([
      [2, 'invalid-json'],
      [3, 'not-object'],
    ]);
    actions.cancelImport();
    expect(store.getState().dataset).toBe(before);

    await actions.importText(text);
    actions.acceptImport();
    const d = store.getState().dataset!;
    expect(d.rows.map((r) => r.data.question)).toEqual(['a', 'c']);
    expect(d.rows.map((r) => r.line)).toEqual([1, 4]);
    expect(d.skippedCount).toBe(2);
    expect(d.skipped.map((i) => i.line)).toEqual([2, 3]);
  });

  it('an empty file is reported and nothing is replaced', async () => {
    await actions.start();
    const before = store.getState().dataset;
    await actions.importFile(new File([''], 'empty.jsonl'));
    const s = store.getState().import;
    expect(s.status === 'review' && s.result.issues[0].kind).toBe('empty-file');
    expect(store.getState().dataset).toBe(before);
  });

  it('edit, delete and add change the rows, and undo walks back through each, then the import', async () => {
    await actions.start();
    const sample = store.getState().dataset!;
    await actions.importText('{"question": "q1", "answer": "a1"}\n{"question": "q2", "answer": "a2"}\n');
    const [r1, r2] = store.getState().dataset!.rows;
    actions.editRow(r1.id, { question: 'q1', answer: 'edited' });
    actions.deleteRow(r2.id);
    const id = actions.addRow({ question: 'What is the weather?', answer: "Let's keep the discussion relevant." })!;
    expect(store.getState().dataset!.rows.map((r) => r.data.answer)).toEqual(['edited', "Let's keep the discussion relevant."]);
    expect(store.getState().selectedId).toBe(id);
    expect(store.getState().history.map((h) => h.label)).toEqual(['load pasted text', 'edit row 1', 'delete row 2', 'add a row']);

    actions.undo();
    expect(store.getState().dataset!.rows.map((r) => r.data.answer)).toEqual(['edited']);
    expect(store.getState().selectedId).toBeNull(); // the added row is gone
    actions.undo();
    actions.undo();
    expect(store.getState().dataset!.rows.map((r) => r.data.answer)).toEqual(['a1', 'a2']);
    actions.undo();
    expect(store.getState().dataset).toBe(sample);
    expect(store.getState().history).toEqual([]);
  });

  it('undoing a row change keeps the settings changed after it; undo right after a change leaves nothing unsaved', async () => {
    await actions.start();
    await actions.importText('{"question": "q1", "answer": "a1"}\n');
    const row = store.getState().dataset!.rows[0];
    actions.editRow(row.id, { question: 'q1', answer: 'edited' });
    actions.setTemplate({ id: 'plain' });
    actions.setTokenize({ maxLength: 64 });
    actions.undo();
    const d = store.getState().dataset!;
    expect(d.rows[0].data.answer).toBe('a1');
    expect([d.template.id, d.tokenize.maxLength]).toEqual(['plain', 64]);

    await actions.flush();
    expect(store.getState().saved).toBe(true);
    actions.editRow(row.id, { question: 'q1', answer: 'again' });
    expect(store.getState().saved).toBe(false);
    actions.undo(); // back to exactly what is stored, before the save timer fired
    await until(() => store.getState().saved);
    expect(storage.saved!.rows[0].data.answer).toBe('a1');
  });

  it("the model's chat template: chat and Q&A rows render through the loaded model's template, loss on the replies only, and a model without one says so", async () => {
    await actions.start();
    await actions.importText('{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."}]}\n');
    const pythia = JSON.parse(readFileSync(TOKENIZER_PATH, 'utf8'));
    await actions.useTokenizer({ tokenizerJson: pythia, tokenizerConfig: { chat_template: SMOLLM2_CHAT_TEMPLATE, eos_token: '<|im_end|>' } });
    actions.setTemplate({ id: 'model' });
    let view = deriveDataset(store.getState().dataset!, store.getState().measure);
    expect(view.rendered.segments[0]).toEqual([
      { text: '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n', train: false },
      { text: 'Hello.<|im_end|>\n', train: true },
    ]);
    expect(store.getState().dataset!.tokenize.appendEos).toBe(false); // the template ends the turn itself
    // A template that fails its trial rendering is not adopted, and says why.
    const refusing = "{% for m in messages %}{% if m.role == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{{ m.content }}{% endfor %}";
    await actions.useTokenizer({ tokenizerJson: pythia, tokenizerConfig: { chat_template: refusing } });
    expect(store.getState().modelChat).toBeNull();
    expect(store.getState().modelChatProblem).toMatch(/System role not supported/);
    // A model without a chat template: the template cannot render, and says what to do.
    await actions.useTokenizer({ tokenizerJson: pythia, tokenizerConfig: {} });
    view = deriveDataset(store.getState().dataset!, store.getState().measure);
    expect(view.rendered.templateError?.message).toMatch(/the loaded model has no chat template/);
    actions.setTemplate({ id: 'llama2' });
    expect(store.getState().dataset!.tokenize.appendEos).toBe(true);
    // Q&A rows become one user turn and the reply.
    await actions.useTokenizer({ tokenizerJson: pythia, tokenizerConfig: { chat_template: SMOLLM2_CHAT_TEMPLATE } });
    await actions.importText('{"question": "Why?", "answer": "Because."}\n');
    actions.setTemplate({ id: 'model' });
    view = deriveDataset(store.getState().dataset!, store.getState().measure);
    expect(view.rendered.segments[0]!.filter((x) => x.train)).toEqual([{ text: 'Because.<|im_end|>\n', train: true }]);
    expect(view.rendered.segments[0]![0].text).toContain('<|im_start|>user\nWhy?<|im_end|>');
    // With a chat template loaded, chat data starts on it (and without the appended end-of-text).
    actions.setTemplate({ id: 'qa' });
    await actions.importText('{"messages": [{"role": "user", "content": "Hey"}, {"role": "assistant", "content": "Yes?"}]}\n');
    expect(store.getState().dataset!.template).toMatchObject({ id: 'model', chat: { source: SMOLLM2_CHAT_TEMPLATE } });
    expect(store.getState().dataset!.tokenize.appendEos).toBe(false);
  });

  it('a custom placeholder missing from some rows makes just those rows unusable, with the reason', async () => {
    await actions.start();
    await actions.importText('{"question": "q1", "answer": "a1", "ctx": "c"}\n{"question": "q2", "answer": "a2"}\n');
    actions.setTemplate({ id: 'custom', custom: '{ctx}: {question}' });
    const v = view();
    expect(v.rendered.templateError).toBeNull();
    expect(v.usable).toEqual([0]);
    expect(v.rendered.rowErrors.get(1)).toMatch(/ctx/);
  });

  it('the duplicates filter finds every duplicated row, beyond the stats list', async () => {
    await actions.start();
    const lines = Array.from({ length: 150 }, (_, i) => `{"question": "q${i}", "answer": "a"}\n{"question": "q${i}", "answer": "a"}\n`).join('');
    await actions.importText(lines);
    const v = await until(() => (view().stats ? view() : null));
    expect(v.stats!.duplicates.rows).toBe(150);
    expect(v.stats!.duplicates.groups).toHaveLength(100); // the stats list is capped
    const d = store.getState().dataset!;
    expect(selectVisibleRows(d, v.mapped, v.rendered, v.lengths, v.split, '', 'duplicates')).toHaveLength(300);
  });

  it('undo keeps the last two replaced datasets, not every one', async () => {
    await actions.start();
    for (const n of [1, 2, 3]) await actions.importText(`{"question": "file ${n}", "answer": "a"}\n`);
    expect(store.getState().history.map((h) => h.label)).toEqual(['load pasted text', 'load pasted text']);
    actions.undo();
    actions.undo();
    expect(store.getState().dataset!.rows[0].data.question).toBe('file 1');
  });

  it('search finds the guardrail answers; filters narrow to not-usable rows', async () => {
    await actions.start();
    const d = store.getState().dataset!;
    const visible = (q: string, f: RowFilter) => {
      const v = view();
      return selectVisibleRows(store.getState().dataset!, v.mapped, v.rendered, v.lengths, v.split, q, f);
    };
    const guard = visible('keep the discussion relevant', 'all');
    expect(guard.length).toBeGreaterThanOrEqual(10);
    for (const i of guard) expect(String(d.rows[i].data.answer)).toMatch(/keep the discussion relevant/i);
    // A row whose answer is a number cannot be used, and the filter finds exactly it.
    actions.addRow({ question: 'q', answer: 42 });
    const d2 = store.getState().dataset!;
    expect(visible('', 'unusable')).toEqual([d2.rows.length - 1]);
    expect(view().mapped.issues[0].message).toMatch(/answer is a number/);
  });

  it('changing the mapping, template and max length re-derives text and truncation', async () => {
    await actions.start();
    await actions.importText('{"q": "Why?", "a": "Because it is so, and that is why."}\n');
    expect(store.getState().dataset!.mapping).toBeNull();
    expect(view().usable).toEqual([]);
    actions.setMappingKind('qa');
    actions.setMappingField('question', 'q');
    actions.setMappingField('answer', 'a');
    expect(view().usable).toEqual([0]);
    actions.setTemplate({ id: 'custom', custom: 'Q: {q}\nA: {nope}' });
    expect(view().rendered.templateError?.message).toMatch(/\{nope\} is not a field/);
    actions.setTemplate({ custom: 'Q: {q}\nA:' });
    expect(view().rendered.segments[0]).toEqual([
      { text: 'Q: Why?\nA:', train: false },
      { text: 'Because it is so, and that is why.', train: true },
    ]);
    const stats = await measured();
    const len = stats.tokens.max;
    actions.setTokenize({ maxLength: len - 1 });
    expect(view().stats!.truncated).toBe(1);
    actions.setTokenize({ maxLength: len });
    expect(view().stats!.truncated).toBe(0);
  });

  it('the token view marks prompt tokens masked, answer and end-of-text trained, and where truncation cuts', async () => {
    await actions.start();
    await actions.importText('{"question": "Hello", "answer": " world"}\n');
    const id = store.getState().dataset!.rows[0].id;
    actions.select(id);
    let tv = await until(() => (store.getState().tokenView.status === 'ready' ? store.getState().tokenView : null));
    if (tv.status !== 'ready') return;
    const t = tv.view.tokens;
    // "### Question:\nHello\n\n### Answer:" + " world" + <|endoftext|>
    expect(t[t.length - 1]).toMatchObject({ id: 0, special: true, loss: true, kept: true });
    expect(t[t.length - 2]).toMatchObject({ text: ' world', loss: true });
    expect(t.slice(0, -2).every((x) => !x.loss)).toBe(true);
    actions.setTokenize({ maxLength: 4, truncation: 'left' });
    tv = await until(() => {
      const s = store.getState().tokenView;
      return s.status === 'ready' && s.view.truncated > 0 ? s : null;
    });
    if (tv.status !== 'ready') return;
    expect(tv.view.tokens.filter((x) => x.kept)).toHaveLength(4);
    expect(tv.view.tokens.slice(-4).every((x) => x.kept)).toBe(true);
  });

  it('exports the processed set and each split as JSONL', async () => {
    await actions.start();
    await actions.importFile(new File([LAMINI], 'lamini_docs.jsonl'));
    actions.exportJsonl('train', 'prompt-completion');
    actions.exportJsonl('test', 'text');
    expect(downloads.map((d) => d.name)).toEqual(['lamini_docs.train.prompt-completion.jsonl', 'lamini_docs.test.text.jsonl']);
    const train = downloads[0].text.trimEnd().split('\n').map((l) => JSON.parse(l));
    const test = downloads[1].text.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(train).toHaveLength(1260);
    expect(test).toHaveLength(140);
    expect(train[0].prompt).toMatch(/^### Question:\n[\s\S]*\n\n### Answer:$/);
    // The test file holds exactly the test split's rows, in its order, as the template renders them.
    const v = view();
    const rows = store.getState().dataset!.rows;
    const byId = new Map(rows.map((r, i) => [r.id, i]));
    const want = v.split.test.map((id) => v.rendered.segments[byId.get(id)!]!.map((seg) => seg.text).join(''));
    expect(test.map((r) => r.text)).toEqual(want);
  });

  it('saves every change and restores it at the next start', async () => {
    await actions.start();
    await actions.importText('{"question": "q", "answer": "a"}\n');
    actions.setTokenize({ maxLength: 64 });
    await actions.flush();
    const saved = storage.saved!;
    expect(saved.rows.map((r) => r.data)).toEqual([{ question: 'q', answer: 'a' }]);
    expect(saved.tokenize.maxLength).toBe(64);

    setup(saved);
    await actions.start();
    expect(store.getState().dataset).toEqual(saved);
  });

  it('a failing save is reported, and the data stays', async () => {
    await actions.start();
    storage.save = async () => {
      throw Object.assign(new Error('quota'), { name: 'QuotaExceededError' });
    };
    await actions.importText('{"question": "q", "answer": "a"}\n');
    await actions.flush();
    expect(store.getState().storageError).toMatch(/storage quota is full.*export it/);
    expect(store.getState().dataset!.rows).toHaveLength(1);
  });

  it('a failed read at start overwrites nothing: the sample loads, and no change of this tab is saved', async () => {
    const stored = memoryStorage();
    stored.saved = { name: 'mine.jsonl' } as Dataset;
    stored.load = async () => {
      throw new DOMException('the database connection is closing', 'InvalidStateError');
    };
    setup(null, { storage: stored });
    await actions.start();
    expect(store.getState().storageError).toMatch(/could not be read \(the database connection is closing\)\. Nothing is saved from this tab/);
    expect(store.getState().dataset!.name).toBe(SAMPLE_NAME);
    await actions.importText('{"question": "q", "answer": "a"}\n');
    await actions.flush();
    expect(stored.saves).toBe(0);
    expect(stored.saved!.name).toBe('mine.jsonl');
  });

  it('a second tab reads the dataset but does not save over the first tab\'s', async () => {
    const hub = memoryTabs();
    const shared = memoryStorage();
    setup(null, { storage: shared, tabs: hub.tab() });
    await actions.start();
    await actions.importText('{"question": "first", "answer": "a"}\n');
    await actions.flush();
    const firstSaves = shared.saves;
    setup(null, { storage: shared, tabs: hub.tab() }); // the second tab
    await actions.start();
    expect(store.getState().dataset!.rows[0].data).toEqual({ question: 'first', answer: 'a' });
    expect(store.getState().storageError).toMatch(/open in another tab, and that tab saves the dataset/);
    await actions.importText('{"question": "second", "answer": "b"}\n');
    await actions.flush();
    expect(shared.saves).toBe(firstSaves);
    expect(shared.saved!.rows[0].data).toEqual({ question: 'first', answer: 'a' });
  });
});
