import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeSegments } from '../data/encode';
import { detectMapping, mapRows } from '../data/mapping';
import { renderSegments } from '../data/templates';
import type { Tokenizer } from '../data/tokenizer';
import type { Row, TokenizeSettings } from '../data/types';
import { tinyConfig } from '../model/tinyConfig';
import { generateText } from './generateText';
import type { ForwardContext } from '../model/forward';
import { disposeParams, initRandomData, paramsFromData } from '../model/params';
import { startTestBackend } from '../testing/fixtures';
import { pythiaTokenizer, repoFile } from '../testing/dataTesting';
import { DEFAULT_TRAIN } from '../train/presets';
import { Trainer } from '../train/trainer';
import { DEFAULT_EVAL_SAMPLING, evaluateExamples, type EvalExample, type EvalOutput } from './batchEval';
import { evalExampleOf, meanTargetLoss } from './report';

// Right truncation at 48 tokens cuts some answers (and their EOS), so the mask's edge cases count too.
const TOKENIZE: TokenizeSettings = { maxLength: 48, truncation: 'right', padding: 'longest', appendEos: true, lossOn: 'completion' };
const SAMPLING = { ...DEFAULT_EVAL_SAMPLING, maxNewTokens: 6 };

let tokenizer: Tokenizer;
let ctx: ForwardContext;
let examples: EvalExample[];

/** The course's first rows, through the Q&A template, as batch evaluation gets them. */
function courseExamples(n: number): EvalExample[] {
  const rows = readFileSync(repoFile('fixtures/data/course/lamini_docs.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .slice(0, n)
    .map((l) => JSON.parse(l) as Row);
  const mapping = detectMapping(rows)!;
  return mapRows(rows, mapping).examples.map((e, i) => evalExampleOf(String(i), renderSegments(e!, { id: 'qa', custom: '' }, mapping.kind))!);
}

beforeAll(async () => {
  await startTestBackend('wasm');
  tokenizer = pythiaTokenizer();
  // std 0.2 keeps the top logits apart, so greedy choices do not hinge on round-off.
  const config = tinyConfig({ hiddenSize: 32, numLayers: 2, numHeads: 4, seed: 7 });
  ctx = { config, params: paramsFromData(config, initRandomData(config, 7, 0.2)) };
  examples = courseExamples(10);
});

afterAll(() => disposeParams(ctx.params));

const run = (xs: EvalExample[], patch: Partial<Parameters<typeof evaluateExamples>[3]> = {}) =>
  evaluateExamples(ctx, tokenizer, xs, { sampling: SAMPLING, tokenize: TOKENIZE, ...patch });

describe('evaluateExamples', () => {
  it('the token-weighted target loss equals the trainer’s eval loss on the same examples', async () => {
    const outputs = await run(examples);
    const encoded = examples.map((e) =>
      encodeSegments(
        [
          { text: e.prompt, train: false },
          { text: e.target, train: true },
        ],
        tokenizer,
        TOKENIZE,
      ),
    );
    // Some targets lost their EOS to truncation, none lost everything: every row has a loss.
    expect(encoded.some((e) => e.truncated > 0)).toBe(true);
    expect(outputs.every((o) => o.targetLoss !== null && o.targetTokens > 0)).toBe(true);
    expect(outputs.map((o) => o.targetTokens)).toEqual(encoded.map((e) => e.loss.reduce((n, x) => n + x, 0)));
    const trainer = new Trainer(ctx, { train: encoded.slice(0, 1), test: encoded, maxLength: TOKENIZE.maxLength, padId: tokenizer.eosTokenId }, { ...DEFAULT_TRAIN, batchSize: 4 });
    const reference = (await trainer.evaluate())!.loss;
    trainer.dispose();
    const mean = meanTargetLoss(outputs)!;
    expect(Math.abs(mean - reference)).toBeLessThan(1e-4);
    expect(mean).toBeGreaterThan(5); // a random model: near ln(50304) ≈ 10.8, far from 0
  });

  it('a target truncated away has no loss', async () => {
    const [o] = await run([{ id: 'x', prompt: 'one two three four five six', target: ' seven' }], { tokenize: { ...TOKENIZE, maxLength: 4 } });
    expect(o).toMatchObject({ targetLoss: null, targetTokens: 0 });
  });

  it('greedy outputs are generateText’s for the same prompt', async () => {
    const xs = examples.slice(0, 3);
    const outputs = await run(xs, { sampling: { ...SAMPLING, maxNewTokens: 12 } });
    for (let i = 0; i < xs.length; i++) {
      const ref = await generateText(ctx, tokenizer, { ...SAMPLING, maxNewTokens: 12, prompt: xs[i].prompt, useCache: true });
      expect(outputs[i]).toMatchObject({ text: ref.text, reason: ref.reason, newTokens: ref.tokenIds.length });
    }
    expect(outputs.some((o) => o.text.length > 0)).toBe(true);
  });

  it('calls onRow once per example, in order, with the returned outputs', async () => {
    const seen: [number, EvalOutput][] = [];
    const outputs = await run(examples.slice(0, 4), { onRow: (i, o) => seen.push([i, o]) });
    expect(seen.map(([i]) => i)).toEqual([0, 1, 2, 3]);
    expect(seen.map(([, o]) => o)).toEqual(outputs);
  });

  it('an aborted signal stops it: before the start, between examples, and mid-generation', async () => {
    const before = new AbortController();
    before.abort();
    const rows: number[] = [];
    await expect(run(examples, { signal: before.signal, onRow: (i) => rows.push(i) })).rejects.toMatchObject({ name: 'AbortError' });
    expect(rows).toEqual([]);

    const between = new AbortController();
    await expect(run(examples, { signal: between.signal, onRow: (i) => (rows.push(i), between.abort()) })).rejects.toMatchObject({ name: 'AbortError' });
    expect(rows).toEqual([0]);

    // The text stream decodes after every token: abort from there, at the second example's first token.
    const mid = new AbortController();
    let armed = false;
    const aborting = Object.create(tokenizer) as Tokenizer;
    aborting.decode = (ids: number[]) => {
      if (armed) mid.abort();
      return tokenizer.decode(ids);
    };
    const midRows: number[] = [];
    const onRow = (i: number) => {
      midRows.push(i);
      armed = true;
    };
    await expect(evaluateExamples(ctx, aborting, examples, { sampling: SAMPLING, tokenize: TOKENIZE, signal: mid.signal, onRow })).rejects.toMatchObject({ name: 'AbortError' });
    expect(midRows).toEqual([0]);
  });

  it('names the example whose prompt cannot be generated from', async () => {
    await expect(run([{ id: 'row 7', prompt: '', target: 'x' }])).rejects.toThrow(/^example row 7: the prompt is empty/);
  });

  it('leaks no tensors, finished or cancelled', async () => {
    await run(examples.slice(0, 1)); // the backend's first-use allocations happen here, not below
    const before = tf.memory().numTensors;
    await run(examples.slice(0, 3));
    const c = new AbortController();
    await run(examples, { signal: c.signal, onRow: () => c.abort() }).catch(() => undefined);
    expect(tf.memory().numTensors).toBe(before);
  });
});
