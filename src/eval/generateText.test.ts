import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenizerFromJson, type Tokenizer } from '../data/tokenizer';
import { parseConfig, toHfConfig } from '../model/config';
import type { ForwardContext } from '../model/forward';
import { disposeParams, initRandomData, paramsFromData } from '../model/params';
import type { TextGeneration as GenerateParams } from './generateText';
import { startTestBackend } from '../testing/fixtures';
import { bundledTokenizerJson, TINY_SPEC } from '../testing/tinyModel';
import { tinyConfig } from '../model/tinyConfig';
import { DEFAULT_GENERATE, generateText } from './generateText';

const PROMPT = 'The quick brown fox';

let tokenizer: Tokenizer;
let model: ForwardContext;
/** The same model with room for only 16 positions. */
let short: ForwardContext;

beforeAll(async () => {
  await startTestBackend('cpu');
  tokenizer = tokenizerFromJson(bundledTokenizerJson());
  const config = tinyConfig(TINY_SPEC);
  model = { config, params: paramsFromData(config, initRandomData(config, TINY_SPEC.seed, 0.2)) };
  const shortConfig = parseConfig({ ...toHfConfig(config), max_position_embeddings: 16 });
  short = { config: shortConfig, params: model.params };
});

afterAll(() => disposeParams(model.params));

const params = (p: Partial<GenerateParams>): GenerateParams => ({ ...DEFAULT_GENERATE, prompt: PROMPT, maxNewTokens: 12, ...p });

async function collect(ctx: ForwardContext, p: GenerateParams) {
  const deltas: string[] = [];
  const counts: number[] = [];
  const result = await generateText(ctx, tokenizer, p, {
    onDelta: (d, n) => {
      deltas.push(d);
      counts.push(n);
    },
  });
  return { result, deltas, counts };
}

describe('generateText', () => {
  it('streams deltas that concatenate to the text, which is the decoded new ids', async () => {
    const { result, deltas, counts } = await collect(model, params({}));
    expect(result.reason).toBe('length');
    expect(result.tokenIds).toHaveLength(12);
    expect(result.promptTokens).toBe(tokenizer.encode(PROMPT).length);
    expect(result.text).toBe(tokenizer.decode(result.tokenIds));
    expect(result.text.length).toBeGreaterThan(0);
    expect(deltas.join('')).toBe(result.text);
    expect(deltas.every((d) => d.length > 0)).toBe(true);
    expect(counts).toEqual([...counts].sort((a, b) => a - b)); // token counts never go back
    expect(counts[counts.length - 1]).toBe(12);
  });

  it('greedy ignores the seed and repeats; sampling repeats with its seed only', async () => {
    const a = await collect(model, params({ seed: 1 }));
    const b = await collect(model, params({ seed: 2 }));
    expect(b.result.tokenIds).toEqual(a.result.tokenIds);
    const sample = (seed: number) => generateText(model, tokenizer, params({ temperature: 1, seed }));
    const [s1, s1again, s2] = [await sample(1), await sample(1), await sample(2)];
    expect(s1again.tokenIds).toEqual(s1.tokenIds);
    expect(s2.tokenIds).not.toEqual(s1.tokenIds);
  });

  it('with and without the KV cache, greedy gives the same tokens', async () => {
    const cached = await generateText(model, tokenizer, params({ useCache: true }));
    const full = await generateText(model, tokenizer, params({ useCache: false }));
    expect(full.tokenIds).toEqual(cached.tokenIds);
  });

  it('a stop string cuts the text, is not shown, and ends generation', async () => {
    const free = await generateText(model, tokenizer, params({ maxNewTokens: 24 }));
    const mid = Math.floor(free.text.length / 2);
    const stop = free.text.slice(mid, mid + 2);
    const expected = free.text.slice(0, free.text.indexOf(stop));
    const { result, deltas } = await collect(model, params({ maxNewTokens: 24, stopStrings: [stop] }));
    expect(result.reason).toBe('stop');
    expect(result.text).toBe(expected);
    expect(deltas.join('')).toBe(expected);
    expect(result.tokenIds.length).toBeLessThan(24);
    expect(result.tokenIds).toEqual(free.tokenIds.slice(0, result.tokenIds.length));
  });

  it('caps new tokens to the positions the model has left', async () => {
    const prompt = 'one two three four five six seven eight nine ten eleven twelve';
    const n = tokenizer.encode(prompt).length;
    expect(n).toBeGreaterThan(8);
    expect(n).toBeLessThan(16);
    const r = await generateText(short, tokenizer, params({ prompt, maxNewTokens: 16 }));
    expect(r.tokenIds).toHaveLength(16 - n);
    expect(r.reason).toBe('length');
  });

  it('refuses a prompt longer than the model allows, and an empty one', async () => {
    await expect(generateText(short, tokenizer, params({ prompt: 'word '.repeat(20), maxNewTokens: 1 }))).rejects.toThrow(/the model's limit is 16: shorten it/);
    await expect(generateText(model, tokenizer, params({ prompt: '' }))).rejects.toThrow(/the prompt is empty/);
  });

  it.each([
    [{ temperature: -1 }, /temperature must be ≥ 0/],
    [{ temperature: NaN }, /temperature/],
    [{ topP: 0 }, /top-p must be in \(0, 1\]/],
    [{ topP: 1.5 }, /top-p/],
    [{ topK: -1 }, /top-k must be a whole number/],
    [{ topK: 2.5 }, /top-k/],
    [{ maxNewTokens: 0 }, /max new tokens must be a whole number ≥ 1/],
    [{ maxNewTokens: 4096 }, /max new tokens \(4096\) exceeds the model's 2048 positions/],
    [{ repetitionPenalty: 0 }, /repetition penalty must be > 0/],
  ] as [Partial<GenerateParams>, RegExp][])('rejects %o naming the setting', async (bad, message) => {
    await expect(generateText(model, tokenizer, params(bad))).rejects.toThrow(message);
  });

  it('leaves no tensors behind', async () => {
    await generateText(model, tokenizer, params({ maxNewTokens: 3 }));
    const before = tf.memory().numTensors;
    await generateText(model, tokenizer, params({ maxNewTokens: 5, temperature: 0.7, topK: 20, repetitionPenalty: 1.3 }));
    await generateText(model, tokenizer, params({ maxNewTokens: 5, useCache: false }));
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('a tokenizer that puts a BOS first', () => {
  it('the prompt gets it, as training did; a prompt typed with the BOS\'s text gets no second one', async () => {
    const json = bundledTokenizerJson() as Record<string, unknown>;
    const withBos = tokenizerFromJson({
      ...json,
      post_processor: { type: 'TemplateProcessing', single: [{ SpecialToken: { id: '<|endoftext|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }], pair: [{ Sequence: { id: 'A', type_id: 0 } }], special_tokens: { '<|endoftext|>': { id: '<|endoftext|>', ids: [0], tokens: ['<|endoftext|>'] } } },
    });
    expect(withBos.bosTokenId).toBe(0);
    const greedy = params({ temperature: 0, maxNewTokens: 5 });
    const a = await generateText(model, withBos, greedy);
    const b = await generateText(model, tokenizer, greedy);
    expect(a.promptTokens).toBe(b.promptTokens + 1);
    // Typing the BOS's own text gives the same ids, and no second BOS.
    const typed = await generateText(model, withBos, { ...greedy, prompt: `<|endoftext|>${PROMPT}` });
    expect(typed.promptTokens).toBe(a.promptTokens);
    expect(typed.tokenIds).toEqual(a.tokenIds);
  });
});
