import { describe, expect, it } from 'vitest';
import { create } from 'zustand';
import type { ArcDoc } from '../eval/arcDocs';
import type { EvalExample, EvalOutput, EvalSampling } from '../eval/batchEval';
import type { Similarity } from '../eval/similarity';
import {
  CancelledError,
  type EngineApi,
  type EngineEvent,
  type GenerateResult,
  type ParamsOf,
  type RequestHooks,
  type RequestKind,
  type ResultOf,
} from '../protocol/protocol';
import { DEFAULT_TRAIN } from '../train/presets';
import { compareBlocker, createEvalActions, modelRows, type EvalData, type EvalEnv } from './createEvalActions';
import { emptyBatch, initialEvalState, type EvalState, type SavedEval } from './evalStore';
import type { ModelChoice } from './modelChoices';

interface Call {
  kind: RequestKind;
  params: unknown;
  hooks: RequestHooks;
  resolve: (r: unknown) => void;
  reject: (e: Error) => void;
}

/** An EngineApi whose replies the test sends by hand; an aborted request rejects with CancelledError. */
class FakeEngine implements EngineApi {
  calls: Call[] = [];

  request<K extends RequestKind>(kind: K, params: ParamsOf<K>, hooks: RequestHooks = {}): Promise<ResultOf<K>> {
    return new Promise((resolve, reject) => {
      if (hooks.signal?.aborted) return reject(new CancelledError());
      this.calls.push({ kind, params, hooks, resolve: resolve as (r: unknown) => void, reject });
      hooks.signal?.addEventListener('abort', () => reject(new CancelledError()));
    });
  }
  onEvent(_l: (e: EngineEvent) => void) {
    return () => {};
  }
  terminate() {}
  of(kind: RequestKind): Call[] {
    return this.calls.filter((c) => c.kind === kind);
  }
}

const flush = () => new Promise((r) => setTimeout(r, 0));

const BASE: ModelChoice = { id: 'base', label: 'Base (tiny)', ref: { kind: 'base' } };
const RUN: ModelChoice = { id: 'r1', label: 'Run 1 (full, step 4)', ref: { kind: 'run', runId: 'r1', checkpoint: 'last', config: DEFAULT_TRAIN } };
const BEST: ModelChoice = { id: 'r1:best', label: 'Run 1 best (step 2, eval loss 1.500)', ref: { kind: 'run', runId: 'r1', checkpoint: 'best', config: DEFAULT_TRAIN } };

const EXAMPLES: EvalExample[] = [
  { id: '10', prompt: '### Question:\nWhat is one?\n\n### Answer:', target: ' One is a number.' },
  { id: '11', prompt: '### Question:\nWhat is two?\n\n### Answer:', target: ' Two is a number.' },
  { id: '12', prompt: '### Question:\nWhat is three?\n\n### Answer:', target: ' Three is a number.' },
];
const TOKENIZE = { maxLength: 64, truncation: 'right', padding: 'longest', appendEos: true, lossOn: 'completion' } as const;
const DATA: EvalData = { examples: EXAMPLES, tokenize: TOKENIZE, guardrails: ['I cannot answer that.'] };
const SAMPLING: EvalSampling = { maxNewTokens: 20, temperature: 0.7, topK: 40, topP: 0.9, repetitionPenalty: 1.1, seed: 7, stopStrings: ['###'] };
const QA = (t: string) => `### Question:\n${t}\n\n### Answer:`;

const out = (text: string, extra: Partial<EvalOutput> = {}): EvalOutput => ({ text, reason: 'eos', newTokens: 3, ms: 30, targetLoss: 1, targetTokens: 4, ...extra });
const gen = (text: string, tokens: number, tokensPerSecond = 10): GenerateResult => ({
  text,
  tokenIds: Array.from({ length: tokens }, (_, i) => i),
  reason: 'eos',
  promptTokens: 5,
  ms: 100,
  tokensPerSecond,
});

/** A promise the test settles by hand. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function setup(opts: { choices?: ModelChoice[]; data?: EvalData | { problem: string }; sampling?: EvalSampling | { problem: string }; random?: number[]; engine?: boolean; saved?: SavedEval | null } = {}) {
  const store = create<EvalState>()(initialEvalState);
  const engine = new FakeEngine();
  const saves: SavedEval[] = [];
  const templatedCalls: [string, string][] = [];
  const similarityCalls: { outputs: string[]; targets: string[]; result: ReturnType<typeof deferred<Similarity>> }[] = [];
  const batchSamplingCalls: number[] = [];
  const randoms = [...(opts.random ?? [])];
  const downloads: { name: string; text: string }[] = [];
  const trained: { name: string; jsonl: string }[] = [];
  const env: EvalEnv = {
    engine: () => (opts.engine === false ? null : engine),
    choices: () => opts.choices ?? [BASE, RUN],
    data: () => opts.data ?? DATA,
    templated: (t, m) => {
      templatedCalls.push([t, m.id]);
      return m.id === 'r2' ? `<|user|>${t}<|assistant|>` : QA(t); // r2 trained on another template
    },
    exampleFor: (x, m) => (m.id === 'r2' ? { ...x, prompt: `<|user|>${x.prompt}<|assistant|>`, target: `${x.target}<|end|>` } : x),
    sampling: () => opts.sampling ?? SAMPLING,
    batchSampling: (maxNewTokens) => {
      batchSamplingCalls.push(maxNewTokens);
      return { ...SAMPLING, temperature: 0, maxNewTokens };
    },
    similarity: (outputs, targets) => {
      const result = deferred<Similarity>();
      similarityCalls.push({ outputs, targets, result });
      return result.promise;
    },
    storage: {
      load: async () => (opts.saved === undefined ? null : structuredClone(opts.saved)),
      save: async (s) => {
        saves.push(structuredClone(s));
      },
    },
    random: () => {
      const r = randoms.shift();
      if (r === undefined) throw new Error('the test gave no more random numbers');
      return r;
    },
    download: (name, text) => downloads.push({ name, text }),
    trainOnPairs: async (name, jsonl) => {
      trained.push({ name, jsonl });
    },
  };
  const actions = createEvalActions(store, env);
  return { store, engine, env, actions, saves, templatedCalls, similarityCalls, batchSamplingCalls, downloads, trained };
}

describe('compareBlocker', () => {
  const env = (engine: EngineApi | null, choices: ModelChoice[]) => ({ engine: () => engine, choices: () => choices });
  const e = new FakeEngine();

  it('says what is missing, in order: engine, model, a choice', () => {
    expect(compareBlocker({ selected: ['base'] }, env(null, [BASE]))).toBe('The compute engine is starting.');
    expect(compareBlocker({ selected: ['base'] }, env(e, []))).toBe('Load a model first (Model & playground tab).');
    expect(compareBlocker({ selected: [] }, env(e, [BASE, RUN]))).toBe('Choose at least one model to compare.');
    expect(compareBlocker({ selected: ['base'] }, env(e, [BASE, RUN]))).toBeNull();
  });

  it('does not count a selected model that is no longer on offer (deleted run)', () => {
    expect(compareBlocker({ selected: ['gone-run'] }, env(e, [BASE]))).toBe('Choose at least one model to compare.');
    expect(compareBlocker({ selected: ['base', 'gone-run'] }, env(e, [BASE, RUN]), 2)).toBe('Choose at least 2 models.');
    expect(compareBlocker({ selected: ['base', 'r1'] }, env(e, [BASE, RUN]), 2)).toBeNull();
  });
});

describe('side by side', () => {
  it('each run is prompted in the template it trained with', async () => {
    const r2: ModelChoice = { id: 'r2', label: 'Run 2 (chat)', ref: { ...RUN.ref, runId: 'r2' } as ModelChoice['ref'] };
    const { store, engine, actions } = setup({ choices: [BASE, RUN, r2] });
    actions.setSelected(['r1', 'r2']);
    actions.setPrompt('Hi');
    void actions.runSideBySide();
    expect((engine.of('generate')[0].params as { prompt: string }).prompt).toBe('### Question:\nHi\n\n### Answer:');
    engine.of('generate')[0].resolve(gen(' Hello.', 2, 10));
    await flush();
    expect((engine.of('generate')[1].params as { prompt: string }).prompt).toBe('<|user|>Hi<|assistant|>');
    expect(store.getState().sideBySide.sent).toContain('<|user|>Hi<|assistant|>');
  });

  it('streams each model into its own column, one after another, with the same sampling and the templated prompt', async () => {
    const { store, engine, actions, templatedCalls } = setup();
    actions.setSelected(['base', 'r1']);
    actions.setPrompt('What is 2+2?');
    const p = actions.runSideBySide();

    expect(templatedCalls).toEqual([
      ['What is 2+2?', 'base'],
      ['What is 2+2?', 'r1'],
    ]);
    expect(store.getState().sideBySide.sent).toBe('### Question:\nWhat is 2+2?\n\n### Answer:');
    // Only the first model is asked until it is done: the engine runs one request at a time.
    expect(engine.of('generate')).toHaveLength(1);
    const first = engine.of('generate')[0];
    expect(first.params).toEqual({ ...SAMPLING, prompt: '### Question:\nWhat is 2+2?\n\n### Answer:', useCache: true, model: { kind: 'base' } });
    expect(store.getState().sideBySide.columns.map((c) => [c.id, c.label, c.status])).toEqual([
      ['base', 'Base (tiny)', 'running'],
      ['r1', 'Run 1 (full, step 4)', 'waiting'],
    ]);

    first.hooks.onToken!({ type: 'token', requestId: 1, delta: ' Fo', tokenCount: 1 });
    first.hooks.onToken!({ type: 'token', requestId: 1, delta: 'ur.', tokenCount: 2 });
    expect(store.getState().sideBySide.columns[0]).toMatchObject({ text: ' Four.', tokens: 2, status: 'running' });
    expect(store.getState().sideBySide.columns[1]).toMatchObject({ text: '', tokens: 0, status: 'waiting' });

    first.resolve(gen(' Four.', 3, 25));
    await flush();
    expect(store.getState().sideBySide.columns[0]).toMatchObject({ status: 'done', text: ' Four.', tokens: 3, tokensPerSecond: 25, error: null });
    expect(engine.of('generate')).toHaveLength(2);
    const second = engine.of('generate')[1];
    expect(second.params).toEqual({ ...SAMPLING, prompt: '### Question:\nWhat is 2+2?\n\n### Answer:', useCache: true, model: RUN.ref });
    expect(store.getState().sideBySide.columns[1].status).toBe('running');

    second.hooks.onToken!({ type: 'token', requestId: 2, delta: ' 4', tokenCount: 1 });
    expect(store.getState().sideBySide.columns.map((c) => c.text)).toEqual([' Four.', ' 4']);
    second.resolve(gen(' 4', 1, 50));
    await p;
    expect(store.getState().sideBySide.columns.map((c) => [c.status, c.text, c.tokens, c.tokensPerSecond])).toEqual([
      ['done', ' Four.', 3, 25],
      ['done', ' 4', 1, 50],
    ]);
  });

  it('sends the text as typed when raw is ticked', async () => {
    const { store, engine, actions, templatedCalls } = setup();
    actions.setSelected(['r1']);
    actions.setPrompt('Once upon a time');
    actions.setRaw(true);
    const p = actions.runSideBySide();
    expect(templatedCalls).toEqual([]);
    expect(store.getState().sideBySide.sent).toBe('Once upon a time');
    expect((engine.of('generate')[0].params as ParamsOf<'generate'>).prompt).toBe('Once upon a time');
    engine.of('generate')[0].resolve(gen(' there was', 2));
    await p;
  });

  it('a failing model marks only its own column failed; the next model still answers', async () => {
    const { store, engine, actions } = setup();
    actions.setSelected(['base', 'r1']);
    actions.setPrompt('Hi');
    const p = actions.runSideBySide();
    engine.of('generate')[0].reject(new Error('checkpoint of Run 1 not found'));
    await flush();
    engine.of('generate')[1].resolve(gen(' Hello', 1));
    await p;
    expect(store.getState().sideBySide.columns.map((c) => [c.status, c.error, c.text])).toEqual([
      ['failed', 'checkpoint of Run 1 not found', ''],
      ['done', null, ' Hello'],
    ]);
  });

  it('cancel stops the running model and marks the remaining ones cancelled without asking them', async () => {
    const { store, engine, actions } = setup({ choices: [BASE, RUN, BEST] });
    actions.setSelected(['base', 'r1', 'r1:best']);
    actions.setPrompt('Hi');
    const p = actions.runSideBySide();
    engine.of('generate')[0].hooks.onToken!({ type: 'token', requestId: 1, delta: ' Hel', tokenCount: 1 });
    actions.cancel();
    await p;
    expect(engine.of('generate')).toHaveLength(1);
    expect(store.getState().sideBySide.columns.map((c) => [c.status, c.text])).toEqual([
      ['cancelled', ' Hel'],
      ['cancelled', ''],
      ['cancelled', ''],
    ]);
    expect(store.getState().sideBySide.columns[0].error).toBe('Cancelled.');
  });

  it('does nothing while the playground sampling is invalid', async () => {
    const { store, engine, actions } = setup({ sampling: { problem: 'Fix the sampling' } });
    actions.setSelected(['base']);
    actions.setPrompt('Hi');
    await actions.runSideBySide();
    expect(engine.calls).toHaveLength(0);
    expect(store.getState().sideBySide.columns).toEqual([]);
  });

  it('asks only the selected models still on offer, in the order selected', async () => {
    const { store, engine, actions } = setup({ choices: [BASE, RUN, BEST] });
    actions.setSelected(['r1:best', 'deleted-run', 'base']);
    actions.setPrompt('Hi');
    const p = actions.runSideBySide();
    engine.of('generate')[0].resolve(gen('a', 1));
    await flush();
    engine.of('generate')[1].resolve(gen('b', 1));
    await p;
    expect(engine.of('generate').map((c) => (c.params as ParamsOf<'generate'>).model)).toEqual([BEST.ref, BASE.ref]);
    expect(store.getState().sideBySide.columns.map((c) => c.id)).toEqual(['r1:best', 'base']);
  });

  it('pickFromTest fills the prompt with a test example, as raw text, and shows its answer', () => {
    const { store, actions } = setup({ random: [0.5] });
    // floor(0.5 × 3) = 1: the second example.
    expect(actions.pickFromTest()).toBeNull();
    expect(store.getState().sideBySide).toMatchObject({ prompt: EXAMPLES[1].prompt, raw: true, picked: EXAMPLES[1] });
    actions.clearPicked();
    expect(store.getState().sideBySide.picked).toBeNull();
  });

  it('pickFromTest says why there is nothing to pick', () => {
    const problem = setup({ data: { problem: 'Load a dataset in the Data tab first.' } });
    expect(problem.actions.pickFromTest()).toBe('Load a dataset in the Data tab first.');
    expect(problem.store.getState().sideBySide.prompt).toBe('');
    const empty = setup({ data: { ...DATA, examples: [] } });
    expect(empty.actions.pickFromTest()).toBe('The test split is empty: raise the test share in the Data tab.');
  });
});

describe('batch evaluation', () => {
  it('fills outputs[model][index] from evalRow events, ends done, then stores each model’s similarity', async () => {
    const { store, engine, actions, saves, similarityCalls, batchSamplingCalls } = setup();
    store.setState({ ratings: { old: { verdicts: { base: 'good' }, better: null } } });
    actions.setSelected(['base', 'r1']);
    const p = actions.runBatch(2, 48);

    expect(batchSamplingCalls).toEqual([48]);
    const call = engine.of('evaluate')[0];
    expect(call.params).toEqual({
      examples: EXAMPLES.slice(0, 2),
      models: [BASE.ref, RUN.ref],
      sampling: { ...SAMPLING, temperature: 0, maxNewTokens: 48 },
      tokenize: TOKENIZE,
    });
    expect(store.getState().batch).toMatchObject({
      status: 'running',
      models: [
        { id: 'base', label: 'Base (tiny)' },
        { id: 'r1', label: 'Run 1 (full, step 4)' },
      ],
      examples: EXAMPLES.slice(0, 2),
      outputs: [
        [null, null],
        [null, null],
      ],
      similarity: [null, null],
      guardrails: ['I cannot answer that.'],
      finishedAt: null,
    });
    // A new batch starts without the ratings of the last one.
    expect(store.getState().ratings).toEqual({});

    const onEval = call.hooks.onEval!;
    onEval({ type: 'evalRow', requestId: 1, model: 1, index: 1, output: out(' Two.') });
    onEval({ type: 'arcProgress', requestId: 1, model: 0, done: 1, total: 2 });
    expect(store.getState().batch.outputs).toEqual([
      [null, null],
      [null, out(' Two.')],
    ]);
    onEval({ type: 'evalRow', requestId: 1, model: 0, index: 0, output: out(' One.') });
    onEval({ type: 'evalRow', requestId: 1, model: 0, index: 1, output: out(' Twos.') });
    onEval({ type: 'evalRow', requestId: 1, model: 1, index: 0, output: out('') });
    expect(store.getState().batch.outputs).toEqual([
      [out(' One.'), out(' Twos.')],
      [out(''), out(' Two.')],
    ]);

    call.resolve({ outputs: store.getState().batch.outputs });
    await flush();
    expect(store.getState().batch.status).toBe('done');
    expect(store.getState().batch.finishedAt).toEqual(expect.any(Number));
    // Saved as soon as the generations are in, before the similarity model is fetched.
    expect(saves.at(-1)!.batch.status).toBe('done');

    expect(similarityCalls).toHaveLength(1);
    expect(similarityCalls[0].outputs).toEqual([' One.', ' Twos.']);
    expect(similarityCalls[0].targets).toEqual([' One is a number.', ' Two is a number.']);
    similarityCalls[0].result.resolve({ available: true, model: 'mini', scores: [0.9, 0.4] });
    await flush();
    expect(store.getState().batch.similarity).toEqual([{ available: true, model: 'mini', scores: [0.9, 0.4] }, null]);

    expect(similarityCalls[1].outputs).toEqual(['', ' Two.']);
    similarityCalls[1].result.resolve({ available: false, model: 'mini', reason: 'offline: the embedding model could not be downloaded' });
    await p;
    const sim = store.getState().batch.similarity;
    expect(sim[1]).toEqual({ available: false, model: 'mini', reason: 'offline: the embedding model could not be downloaded' });
    expect(sim[1]).not.toHaveProperty('scores');
    expect(store.getState().batch.status).toBe('done');
    expect(saves.at(-1)!.batch.similarity).toEqual(sim);
  });

  it('asks each run in the template it trained with: runs sharing a template share a request, outputs land in their own column', async () => {
    const r2: ModelChoice = { id: 'r2', label: 'Run 2 (chat)', ref: { ...RUN.ref, runId: 'r2' } as ModelChoice['ref'] };
    const { store, engine, actions, similarityCalls } = setup({ choices: [BASE, r2, RUN] });
    actions.setSelected(['base', 'r2', 'r1']);
    const p = actions.runBatch(1, 16);
    const first = engine.of('evaluate')[0];
    expect((first.params as ParamsOf<'evaluate'>).models).toEqual([BASE.ref, RUN.ref]);
    expect((first.params as ParamsOf<'evaluate'>).examples).toEqual(EXAMPLES.slice(0, 1));
    first.hooks.onEval!({ type: 'evalRow', requestId: 1, model: 1, index: 0, output: out(' One (r1).') });
    first.hooks.onEval!({ type: 'evalRow', requestId: 1, model: 0, index: 0, output: out(' One (base).') });
    first.resolve({ outputs: [] });
    await flush();
    const second = engine.of('evaluate')[1];
    expect((second.params as ParamsOf<'evaluate'>).models).toEqual([r2.ref]);
    expect((second.params as ParamsOf<'evaluate'>).examples).toEqual([{ ...EXAMPLES[0], prompt: `<|user|>${EXAMPLES[0].prompt}<|assistant|>`, target: ' One is a number.<|end|>' }]);
    second.hooks.onEval!({ type: 'evalRow', requestId: 2, model: 0, index: 0, output: out(' One (r2).') });
    second.resolve({ outputs: [] });
    await flush();
    // Columns stay in the order chosen; the table shows the Data tab's prompt.
    expect(store.getState().batch.outputs).toEqual([[out(' One (base).')], [out(' One (r2).')], [out(' One (r1).')]]);
    expect(store.getState().batch.examples).toEqual(EXAMPLES.slice(0, 1));
    expect(store.getState().batch.status).toBe('done');
    // Similarity compares each model with the target as it trained on it.
    similarityCalls[0].result.resolve({ available: true, model: 'mini', scores: [1] });
    await flush();
    expect(similarityCalls[1].targets).toEqual([' One is a number.<|end|>']);
    similarityCalls[1].result.resolve({ available: true, model: 'mini', scores: [1] });
    await flush();
    expect(similarityCalls[2].targets).toEqual([' One is a number.']);
    similarityCalls[2].result.resolve({ available: true, model: 'mini', scores: [1] });
    await p;
  });

  it('a limit of null evaluates the whole test split', async () => {
    const { engine, actions, similarityCalls } = setup();
    actions.setSelected(['base']);
    const p = actions.runBatch(null, 16);
    const call = engine.of('evaluate')[0];
    expect((call.params as ParamsOf<'evaluate'>).examples).toEqual(EXAMPLES);
    EXAMPLES.forEach((_, i) => call.hooks.onEval!({ type: 'evalRow', requestId: 1, model: 0, index: i, output: out(`a${i}`) }));
    call.resolve({ outputs: [] });
    await flush();
    similarityCalls[0].result.resolve({ available: true, model: 'mini', scores: [1, 1, 1] });
    await p;
  });

  it('fails with the reason when there is no test example or no usable data, without asking the engine', async () => {
    const empty = setup({ data: { ...DATA, examples: [] } });
    empty.actions.setSelected(['base']);
    await empty.actions.runBatch(10, 32);
    expect(empty.store.getState().batch).toEqual({ ...emptyBatch(), status: 'failed', message: 'The test split is empty: raise the test share in the Data tab.' });

    const zero = setup();
    zero.actions.setSelected(['base']);
    await zero.actions.runBatch(0, 32);
    expect(zero.store.getState().batch.status).toBe('failed');

    const bad = setup({ data: { problem: 'The split has an error: set a test share.' } });
    bad.actions.setSelected(['base']);
    await bad.actions.runBatch(10, 32);
    expect(bad.store.getState().batch).toEqual({ ...emptyBatch(), status: 'failed', message: 'The split has an error: set a test share.' });

    expect([empty, zero, bad].flatMap((s) => s.engine.calls)).toHaveLength(0);
  });

  it('cancel keeps the outputs generated so far and measures no similarity', async () => {
    const { store, engine, actions, similarityCalls, saves } = setup();
    actions.setSelected(['base', 'r1']);
    const p = actions.runBatch(3, 32);
    engine.of('evaluate')[0].hooks.onEval!({ type: 'evalRow', requestId: 1, model: 0, index: 0, output: out(' One.') });
    actions.cancel();
    await p;
    const b = store.getState().batch;
    expect(b.status).toBe('cancelled');
    expect(b.message).toBe('Cancelled.');
    expect(b.outputs).toEqual([
      [out(' One.'), null, null],
      [null, null, null],
    ]);
    expect(similarityCalls).toHaveLength(0);
    expect(saves.at(-1)!.batch.status).toBe('cancelled');
    expect(modelRows(b, 0)).toEqual([{ example: EXAMPLES[0], output: out(' One.') }]);
    expect(modelRows(b, 1)).toEqual([]);
  });

  it('an engine error fails the batch with its message', async () => {
    const { store, engine, actions } = setup();
    actions.setSelected(['base']);
    const p = actions.runBatch(3, 32);
    engine.of('evaluate')[0].reject(new Error('example 11: the prompt is empty'));
    await p;
    expect(store.getState().batch).toMatchObject({ status: 'failed', message: 'example 11: the prompt is empty' });
  });

  it('a new batch started while the last one measures similarity keeps running', async () => {
    const { store, engine, actions, similarityCalls } = setup();
    actions.setSelected(['base']);
    const first = actions.runBatch(1, 32);
    engine.of('evaluate')[0].hooks.onEval!({ type: 'evalRow', requestId: 1, model: 0, index: 0, output: out('x') });
    engine.of('evaluate')[0].resolve({ outputs: [[out('x')]] });
    await flush();
    expect(similarityCalls).toHaveLength(1);

    const second = actions.runBatch(2, 32);
    // The first batch's similarity is abandoned (as the data worker does when its signal aborts).
    similarityCalls[0].result.reject(new CancelledError());
    await first;
    expect(store.getState().batch).toMatchObject({ status: 'running', message: null, examples: EXAMPLES.slice(0, 2), similarity: [null] });

    engine.of('evaluate')[1].resolve({ outputs: [] });
    await flush();
    expect(store.getState().batch.status).toBe('done');
    similarityCalls[1].result.resolve({ available: false, model: 'mini', reason: 'offline' });
    await second;
  });

  it('rate and rateBetter keep one verdict per model and the better one, and are saved', () => {
    const { store, actions, saves } = setup();
    actions.rate('11', 'base', 'good');
    actions.rate('11', 'r1', 'bad');
    expect(store.getState().ratings['11']).toEqual({ verdicts: { base: 'good', r1: 'bad' }, better: null });
    actions.rate('11', 'base', 'bad');
    actions.rateBetter('11', 'tie');
    expect(store.getState().ratings['11']).toEqual({ verdicts: { base: 'bad', r1: 'bad' }, better: 'tie' });
    actions.rate('11', 'base', null);
    actions.rateBetter('11', 'r1');
    expect(store.getState().ratings['11']).toEqual({ verdicts: { r1: 'bad' }, better: 'r1' });
    actions.rateBetter('12', 'base');
    expect(store.getState().ratings['12']).toEqual({ verdicts: {}, better: 'base' });
    expect(saves.at(-1)!.ratings).toEqual({ '11': { verdicts: { r1: 'bad' }, better: 'r1' }, '12': { verdicts: {}, better: 'base' } });
  });
});

describe('arena', () => {
  it('asks each model in the template it trained with', async () => {
    const r2: ModelChoice = { id: 'r2', label: 'Run 2 (chat)', ref: { ...RUN.ref, runId: 'r2' } as ModelChoice['ref'] };
    // pickPair: i = floor(0.6 × 2) = 1 (r2), j = floor(0.1 × 1) = 0 (base); example 0.
    const { engine, actions } = setup({ choices: [BASE, r2], random: [0.6, 0.1, 0] });
    const p = actions.nextMatch();
    expect((engine.of('generate')[0].params as ParamsOf<'generate'>).prompt).toBe(`<|user|>${EXAMPLES[0].prompt}<|assistant|>`);
    engine.of('generate')[0].resolve(gen(' One.', 1));
    await flush();
    expect((engine.of('generate')[1].params as ParamsOf<'generate'>).prompt).toBe(EXAMPLES[0].prompt);
    engine.of('generate')[1].resolve(gen(' One.', 1));
    await p;
  });

  it('nextMatch asks two random models the same random test prompt; vote records it with labels and clears the match', async () => {
    // pickPair: i = floor(0.9 × 3) = 2 (r1:best), j = floor(0.1 × 2) = 0 (base); example floor(0.5 × 3) = 1.
    const { store, engine, actions, saves } = setup({ choices: [BASE, RUN, BEST], random: [0.9, 0.1, 0.5] });
    const p = actions.nextMatch();
    expect(store.getState().arena.match).toMatchObject({
      example: EXAMPLES[1],
      a: { id: 'r1:best', label: BEST.label },
      b: { id: 'base', label: BASE.label },
      status: 'generating',
      outA: null,
      outB: null,
    });
    const a = engine.of('generate')[0];
    expect(a.params).toEqual({ ...SAMPLING, prompt: EXAMPLES[1].prompt, useCache: true, model: BEST.ref });
    // The vote waits for both answers.
    actions.vote('a');
    expect(store.getState().arena.votes).toEqual([]);
    a.resolve(gen(' Two is two.', 4));
    await flush();
    const b = engine.of('generate')[1];
    expect(b.params).toEqual({ ...SAMPLING, prompt: EXAMPLES[1].prompt, useCache: true, model: BASE.ref });
    b.resolve(gen(' Two.', 2));
    await p;
    expect(store.getState().arena.match).toMatchObject({ status: 'ready', outA: ' Two is two.', outB: ' Two.' });

    actions.vote('b');
    // B won: its answer is the chosen one of a preference pair, A's the rejected one.
    const pairs = [{ prompt: EXAMPLES[1].prompt, chosen: ' Two.', rejected: ' Two is two.', chosenModel: BASE.label, rejectedModel: BEST.label }];
    expect(store.getState().arena).toEqual({
      votes: [{ a: 'r1:best', b: 'base', winner: 'b' }],
      labels: { 'r1:best': BEST.label, base: BASE.label },
      match: null,
      pairs,
    });
    expect(saves.at(-1)!.arena).toEqual({ votes: [{ a: 'r1:best', b: 'base', winner: 'b' }], labels: { 'r1:best': BEST.label, base: BASE.label }, match: null, pairs });
    // No match on screen: a second vote is ignored.
    actions.vote('a');
    expect(store.getState().arena.votes).toHaveLength(1);
  });

  it('a second match appends its vote to the first', async () => {
    const { store, engine, actions } = setup({ random: [0.1, 0.1, 0, 0.9, 0.1, 0.99] });
    const play = async (winner: 'a' | 'b' | 'tie') => {
      const p = actions.nextMatch();
      engine.calls.at(-1)!.resolve(gen('x', 1));
      await flush();
      engine.calls.at(-1)!.resolve(gen('y', 1));
      await p;
      actions.vote(winner);
    };
    await play('tie');
    await play('a');
    // Second match: i = floor(0.9 × 2) = 1 (r1), j = 0 (base).
    expect(store.getState().arena.votes).toEqual([
      { a: 'base', b: 'r1', winner: 'tie' },
      { a: 'r1', b: 'base', winner: 'a' },
    ]);
    // The tie makes no preference pair; the decided vote does.
    expect(store.getState().arena.pairs).toEqual([{ prompt: EXAMPLES[2].prompt, chosen: 'x', rejected: 'y', chosenModel: RUN.label, rejectedModel: BASE.label }]);
  });

  it('the decided votes export as prompt / chosen / rejected JSONL, and train on my votes hands the same file on for DPO', async () => {
    const { store, engine, actions, downloads, trained } = setup({ random: [0.1, 0.1, 0, 0.9, 0.1, 0.5] });
    const play = async (winner: 'a' | 'b') => {
      const p = actions.nextMatch();
      engine.calls.at(-1)!.resolve(gen(' first', 1));
      await flush();
      engine.calls.at(-1)!.resolve(gen(' second', 1));
      await p;
      actions.vote(winner);
    };
    await play('a');
    await actions.trainOnVotes();
    expect(trained).toEqual([]); // one pair cannot be split into train and test
    await play('b');
    actions.exportPreferences();
    expect(downloads).toHaveLength(1);
    expect(downloads[0].name).toBe('arena-votes.preference.jsonl');
    const rows = downloads[0].text.trim().split('\n').map((l) => JSON.parse(l));
    expect(rows).toEqual([
      { prompt: EXAMPLES[0].prompt, chosen: ' first', rejected: ' second', chosen_model: BASE.label, rejected_model: RUN.label },
      { prompt: EXAMPLES[1].prompt, chosen: ' second', rejected: ' first', chosen_model: BASE.label, rejected_model: RUN.label },
    ]);
    await actions.trainOnVotes();
    expect(trained).toEqual([{ name: 'arena-votes.jsonl', jsonl: downloads[0].text }]);
    expect(store.getState().arena.pairs).toHaveLength(2);
  });

  it('skipping to another match while one generates leaves the new one generating', async () => {
    const { store, engine, actions } = setup({ random: [0.1, 0.1, 0, 0.9, 0.1, 0.5] });
    const first = actions.nextMatch();
    const second = actions.nextMatch();
    await first;
    expect(store.getState().arena.match).toMatchObject({ example: EXAMPLES[1], status: 'generating', error: null });
    engine.calls.at(-1)!.resolve(gen('x', 1));
    await flush();
    engine.calls.at(-1)!.resolve(gen('y', 1));
    await second;
    expect(store.getState().arena.match).toMatchObject({ example: EXAMPLES[1], status: 'ready', outA: 'x', outB: 'y', error: null });
  });

  it('resetting the arena while a match generates leaves no match behind', async () => {
    const { store, engine, actions } = setup({ random: [0.1, 0.1, 0] });
    const p = actions.nextMatch();
    actions.resetArena();
    engine.calls.at(-1)!.resolve(gen('x', 1));
    await flush();
    engine.calls.at(-1)!.resolve(gen('y', 1));
    await p;
    expect(store.getState().arena).toEqual({ votes: [], labels: {}, match: null, pairs: [] });
  });

  it('nextMatch needs two models', async () => {
    const { store, engine, actions } = setup({ choices: [BASE], random: [0.1, 0.1, 0] });
    await actions.nextMatch();
    expect(engine.calls).toHaveLength(0);
    expect(store.getState().arena.match).toBeNull();
  });
});

describe('ARC', () => {
  const doc = (id: string, answerKey = 'A'): ArcDoc => ({ id, question: `Question ${id}?`, choices: { text: ['yes', 'no'], label: ['A', 'B'] }, answerKey });
  const line = (d: ArcDoc) => JSON.stringify(d);

  it('loadArcText refuses a file with a bad line, naming the line', () => {
    const { store, actions } = setup();
    actions.loadArcText('arc.jsonl', [line(doc('q1')), '{not json', line(doc('q3', 'C'))].join('\n'));
    const arc = store.getState().arc;
    expect(arc.status).toBe('failed');
    expect(arc.source).toBeNull();
    expect(arc.message).toMatch(/^2 bad line\(s\) in arc\.jsonl, the first line 2: not valid JSON/);
    expect(arc.message).toMatch(/: fix or remove them$/);
  });

  it('loadArcText takes a good file, and says when a file has no questions', () => {
    const { store, actions } = setup();
    actions.loadArcText('arc.jsonl', `${line(doc('q1'))}\n\n${line(doc('q2', 'B'))}\n`);
    expect(store.getState().arc).toMatchObject({ status: 'idle', message: null, source: { name: 'arc.jsonl', docs: [doc('q1'), doc('q2', 'B')], problems: [] } });
    actions.loadArcText('empty.jsonl', '\n\n');
    expect(store.getState().arc).toMatchObject({ status: 'failed', message: 'empty.jsonl has no ARC questions', source: null });
  });

  it('runArc sends the first docs to every chosen model, records progress and names the results', async () => {
    const { store, engine, actions, saves } = setup();
    actions.setSelected(['r1', 'base']);
    actions.loadArcDocs('ARC-Easy test', [doc('q1'), doc('q2'), doc('q3')]);
    const p = actions.runArc(2);
    const call = engine.of('arc')[0];
    expect(call.params).toEqual({ docs: [doc('q1'), doc('q2')], models: [RUN.ref, BASE.ref] });
    expect(store.getState().arc).toMatchObject({ status: 'running', progress: { model: 0, done: 0, total: 2 }, results: [] });
    call.hooks.onEval!({ type: 'arcProgress', requestId: 1, model: 1, done: 1, total: 2 });
    expect(store.getState().arc.progress).toEqual({ model: 1, done: 1, total: 2 });
    call.resolve({
      results: [
        { acc: 0.5, acc_norm: 1, n: 2 },
        { acc: 0, acc_norm: 0.5, n: 2 },
      ],
    });
    await p;
    expect(store.getState().arc).toMatchObject({
      status: 'done',
      progress: null,
      results: [
        { id: 'r1', label: RUN.label, acc: 0.5, acc_norm: 1, n: 2 },
        { id: 'base', label: BASE.label, acc: 0, acc_norm: 0.5, n: 2 },
      ],
    });
    expect(saves.at(-1)!.arc.results).toHaveLength(2);
  });

  it('runArc without loaded questions does nothing; cancel ends it cancelled', async () => {
    const { store, engine, actions } = setup();
    actions.setSelected(['base']);
    await actions.runArc(null);
    expect(engine.calls).toHaveLength(0);
    actions.loadArcDocs('arc', [doc('q1')]);
    const p = actions.runArc(null);
    actions.cancel();
    await p;
    expect(store.getState().arc).toMatchObject({ status: 'cancelled', progress: null, message: 'Cancelled.', results: [] });
  });
});

describe('restore', () => {
  it('a batch or ARC run saved while running comes back cancelled with what it had; the arena has no match', async () => {
    const running: SavedEval = {
      batch: { ...emptyBatch(), status: 'running', models: [{ id: 'base', label: 'Base' }], examples: EXAMPLES.slice(0, 2), outputs: [[out('a'), null]], similarity: [null] },
      ratings: { '10': { verdicts: { base: 'good' }, better: null } },
      arena: {
        votes: [{ a: 'base', b: 'r1', winner: 'a' }],
        labels: { base: 'Base', r1: 'Run 1' },
        match: { example: EXAMPLES[0], a: { id: 'base', label: 'Base' }, b: { id: 'r1', label: 'Run 1' }, outA: null, outB: null, status: 'generating', error: null },
        pairs: [],
      },
      arc: { status: 'running', message: null, source: null, progress: { model: 0, done: 3, total: 9 }, results: [] },
    };
    const { store, actions } = setup({ saved: running });
    await actions.restore();
    const s = store.getState();
    expect(s.batch).toEqual({ ...running.batch, status: 'cancelled' });
    expect(s.ratings).toEqual(running.ratings);
    expect(s.arena).toEqual({ ...running.arena, match: null });
    expect(s.arc).toMatchObject({ status: 'cancelled', progress: null });
  });

  it('a finished batch stays finished; nothing saved leaves the state as it was', async () => {
    const done: SavedEval = {
      batch: { ...emptyBatch(), status: 'done', finishedAt: 5 },
      ratings: {},
      arena: { votes: [], labels: {}, match: null, pairs: [] },
      arc: { status: 'failed', message: 'bad file', source: null, progress: null, results: [] },
    };
    const a = setup({ saved: done });
    await a.actions.restore();
    expect(a.store.getState().batch.status).toBe('done');
    expect(a.store.getState().arc).toMatchObject({ status: 'failed', message: 'bad file' });

    const b = setup({ saved: null });
    await b.actions.restore();
    expect(b.store.getState()).toEqual(initialEvalState());
  });
});
