import Papa from 'papaparse';
import { describe, expect, it } from 'vitest';
import type { EvalExample, EvalOutput } from '../../eval/batchEval';
import { reportCsv } from '../../eval/report';
import { emptyBatch, type BatchEval, type NamedModel, type TableFilter } from '../../state/evalStore';
import { exportInput, modelSummaries, ratingText, tableRows, visibleRows } from './evalView';

const out = (text: string, extra: Partial<EvalOutput> = {}): EvalOutput => ({ text, reason: 'eos', newTokens: 2, ms: 100, targetLoss: 1, targetTokens: 1, ...extra });

const EX: EvalExample[] = [
  { id: 'e0', prompt: 'Q: "capital", of France?\nA:', target: 'Paris' },
  { id: 'e1', prompt: 'Q: what sat?\nA:', target: 'The cat sat' },
  { id: 'e2', prompt: 'Q: colour of the sky?\nA:', target: 'Blue, mostly' },
];
// The best checkpoint's id has a colon in it, as modelChoices makes it.
const MODELS: NamedModel[] = [
  { id: 'base', label: 'Base' },
  { id: 'r1:best', label: 'Run 1 best' },
];

/** Base has not answered e2 yet; the run answered everything. */
const BATCH: BatchEval = {
  ...emptyBatch(),
  status: 'running',
  models: MODELS,
  examples: EX,
  outputs: [
    [out('Paris', { targetLoss: 1, targetTokens: 2, newTokens: 3, ms: 500 }), out('the cat', { targetLoss: 4, targetTokens: 1, newTokens: 1, ms: 1500 }), null],
    [out('London'), out('The cat sat'), out('', { reason: 'length' })],
  ],
  similarity: [null, null],
};

const noFilter: TableFilter = { query: '', tag: null, tagModel: null, sort: null };
const ids = (rows: { example: EvalExample }[]) => rows.map((r) => r.example.id);

describe('tableRows', () => {
  it('scores each answered cell against its target, and leaves unanswered cells null', () => {
    const rows = tableRows(BATCH);
    expect(rows.map((r) => r.index)).toEqual([0, 1, 2]);
    expect(rows[0].cells[0]!.scores).toEqual({ exact: 1, f1: 1, rougeL: 1, tags: [] });
    // "the cat" vs "The cat sat": SQuAD F1 drops "the": 1 of 1 predicted, 1 of 2 gold → 2/3;
    // ROUGE-L keeps it: LCS 2 of 2 and of 3 → 2·1·(2/3)/(1 + 2/3) = 0.8; not an exact match.
    const s = rows[1].cells[0]!.scores;
    expect(s.exact).toBe(0);
    expect(s.f1).toBeCloseTo(2 / 3, 12);
    expect(s.rougeL).toBeCloseTo(0.8, 12);
    expect(rows[0].cells[1]!.scores).toEqual({ exact: 0, f1: 0, rougeL: 0, tags: [] });
    expect(rows[2].cells[0]).toBeNull();
    expect(rows[2].cells[1]!.scores).toEqual({ exact: 0, f1: 0, rougeL: 0, tags: ['empty', 'no-stop'] });
    expect(rows[2].cells[1]!.output.reason).toBe('length');
  });

  it('tags a refusal of a real question with the batch’s guardrail answers', () => {
    const b: BatchEval = { ...BATCH, guardrails: ['I cannot answer that.'], outputs: [[null, null, out('I cannot answer that.')], [null, null, null]] };
    expect(tableRows(b)[2].cells[0]!.scores.tags).toEqual(['off-topic']);
    expect(tableRows({ ...b, guardrails: [] })[2].cells[0]!.scores.tags).toEqual([]);
  });
});

describe('modelSummaries', () => {
  it('averages each model over the examples it has answered only', () => {
    const [base, run] = modelSummaries(BATCH);
    expect(base!.n).toBe(2);
    expect(base!.exactMatch).toBe(0.5);
    expect(base!.tokenF1).toBeCloseTo((1 + 2 / 3) / 2, 12);
    expect(base!.rougeL).toBeCloseTo((1 + 0.8) / 2, 12);
    // Token-weighted: (1·2 + 4·1) / 3 = 2.
    expect(base!.evalLoss).toBeCloseTo(2, 12);
    expect(base!.perplexity).toBeCloseTo(Math.exp(2), 9);
    // 4 tokens in 2 s.
    expect(base!.tokensPerSecond).toBeCloseTo(2, 12);
    expect(run!.n).toBe(3);
    expect(run!.exactMatch).toBeCloseTo(1 / 3, 12);
    expect(run!.tagCounts).toMatchObject({ empty: 1, 'no-stop': 1, repetition: 0 });
  });

  it('is null for a model with no answer yet', () => {
    expect(modelSummaries({ ...BATCH, outputs: [BATCH.outputs[0], [null, null, null]] })[1]).toBeNull();
    expect(modelSummaries({ ...BATCH, outputs: [] })).toEqual([null, null]);
  });
});

describe('visibleRows', () => {
  const rows = tableRows(BATCH);
  const view = (f: Partial<TableFilter>) => ids(visibleRows(rows, MODELS, { ...noFilter, ...f }));

  it('shows every row in split order without a filter', () => {
    expect(view({})).toEqual(['e0', 'e1', 'e2']);
  });

  it('searches prompt, target and every output, ignoring case and surrounding spaces', () => {
    expect(view({ query: 'LONDON' })).toEqual(['e0']); // an output
    expect(view({ query: '  cat ' })).toEqual(['e1']); // target and outputs
    expect(view({ query: 'sky' })).toEqual(['e2']); // a prompt
    expect(view({ query: 'blue' })).toEqual(['e2']); // a target
    expect(view({ query: 'nowhere' })).toEqual([]);
  });

  it('filters by tag, on any model or on the one named', () => {
    expect(view({ tag: 'empty' })).toEqual(['e2']);
    expect(view({ tag: 'empty', tagModel: 'r1:best' })).toEqual(['e2']);
    expect(view({ tag: 'empty', tagModel: 'base' })).toEqual([]);
    expect(view({ tag: 'empty', query: 'paris' })).toEqual([]);
  });

  it('sorts by a model’s metric, unanswered rows lowest, ties in split order both ways', () => {
    // base f1: e0 1, e1 2/3, e2 unanswered.
    expect(view({ sort: { key: 'base:f1', desc: false } })).toEqual(['e2', 'e1', 'e0']);
    expect(view({ sort: { key: 'base:f1', desc: true } })).toEqual(['e0', 'e1', 'e2']);
    // r1:best exact: e0 0, e1 1, e2 0 (a tie between e0 and e2).
    expect(view({ sort: { key: 'r1:best:exact', desc: true } })).toEqual(['e1', 'e0', 'e2']);
    expect(view({ sort: { key: 'r1:best:exact', desc: false } })).toEqual(['e0', 'e2', 'e1']);
    // rougeL: base e1 0.8 vs e0 1.
    expect(view({ sort: { key: 'base:rougeL', desc: false }, query: 'a' })).toEqual(['e2', 'e1', 'e0']);
  });

  it('does not reorder the rows it was given', () => {
    const before = ids(rows);
    visibleRows(rows, MODELS, { ...noFilter, sort: { key: 'base:f1', desc: false } });
    expect(ids(rows)).toEqual(before);
  });
});

describe('ratingText', () => {
  it('names the models by label, the better one or a tie', () => {
    expect(ratingText(undefined, MODELS)).toBe('');
    expect(ratingText({ verdicts: { base: 'good', 'r1:best': 'bad' }, better: 'base' }, MODELS)).toBe('good: Base · bad: Run 1 best · better: Base');
    expect(ratingText({ verdicts: {}, better: 'tie' }, MODELS)).toBe('better: tie');
    expect(ratingText({ verdicts: { gone: 'good' }, better: null }, MODELS)).toBe('good: gone');
  });
});

describe('exportInput', () => {
  it('leaves out examples some model has not answered, keys outputs by label, and rates by text', () => {
    const x = exportInput(BATCH, { e1: { verdicts: { base: 'good' }, better: 'r1:best' }, e2: { verdicts: { 'r1:best': 'bad' }, better: null } });
    expect(ids(x.examples.map((example) => ({ example })))).toEqual(['e0', 'e1']);
    expect(x.outputsByModel).toEqual({ Base: BATCH.outputs[0].slice(0, 2), 'Run 1 best': BATCH.outputs[1].slice(0, 2) });
    expect(x.ratingTexts).toEqual({ e0: '', e1: 'good: Base · better: Run 1 best' });
  });

  it('feeds a CSV that papaparse reads back: texts with quotes, commas and newlines intact, scores per model', () => {
    const x = exportInput(BATCH, { e1: { verdicts: { base: 'good' }, better: 'tie' } });
    const csv = reportCsv(x.examples, x.outputsByModel, x.ratingTexts, BATCH.guardrails);
    const parsed = Papa.parse<Record<string, string>>(csv, { header: true, skipEmptyLines: true });
    expect(parsed.errors).toEqual([]);
    expect(parsed.meta.fields).toEqual([
      'id',
      'prompt',
      'target',
      ...['Base', 'Run 1 best'].flatMap((m) => ['output', 'exact', 'f1', 'rougeL', 'tags', 'stop'].map((c) => `${m} ${c}`)),
      'rating',
    ]);
    expect(parsed.data).toHaveLength(2);
    const [r0, r1] = parsed.data;
    expect(r0).toMatchObject({ id: 'e0', prompt: 'Q: "capital", of France?\nA:', target: 'Paris', 'Base output': 'Paris', 'Base exact': '1', 'Run 1 best output': 'London', 'Run 1 best f1': '0', rating: '' });
    expect(r1).toMatchObject({ id: 'e1', 'Base output': 'the cat', 'Base exact': '0', 'Base stop': 'eos', 'Run 1 best exact': '1', rating: 'good: Base · better: tie' });
    expect(Number(r1['Base f1'])).toBeCloseTo(2 / 3, 12);
    expect(Number(r1['Base rougeL'])).toBeCloseTo(0.8, 12);
  });
});
