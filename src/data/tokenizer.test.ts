import { describe, expect, it } from 'vitest';
import { bundledTokenizerJson } from '../testing/tinyModel';
import { checkTokenizerFitsModel, largestTokenId } from './tokenizer';

type TokJson = { model: { vocab: Record<string, number> }; added_tokens: { id: number; content: string }[] };
const pythia = () => bundledTokenizerJson() as TokJson;
const withAdded = (id: number): TokJson => ({ ...pythia(), added_tokens: [...pythia().added_tokens, { id, content: '<|extra|>' }] });

describe('largestTokenId', () => {
  it('counts model.vocab and added_tokens: Pythia reaches 50,276 (its added tokens), past its 50,254 BPE pieces', () => {
    expect(Math.max(...Object.values(pythia().model.vocab))).toBe(50253);
    expect(largestTokenId(pythia())).toBe(50276);
    expect(largestTokenId(withAdded(50300))).toBe(50300);
  });

  it("reads a Unigram vocab (a list whose ids are positions), and refuses ids that are not whole numbers, naming the field", () => {
    expect(largestTokenId({ model: { type: 'Unigram', vocab: [['<unk>', 0], ['a', -1.5], ['b', -2]] }, added_tokens: [] })).toBe(2);
    expect(largestTokenId({ model: { type: 'BPE', vocab: { a: 0, b: 1 } } })).toBe(1);
    expect(largestTokenId({})).toBe(-1);
    expect(() => largestTokenId({ model: { vocab: { a: 0, b: 'x' } } })).toThrow(`tokenizer.json's model.vocab gives "b" the id "x", not a whole number: use the tokenizer.json from the model repo`);
    expect(() => largestTokenId({ model: { vocab: { a: 0 } }, added_tokens: [{ content: 'x' }] })).toThrow("tokenizer.json's added_tokens holds an id that is missing");
    expect(() => largestTokenId({ model: { vocab: { a: 1.5 } } })).toThrow(`tokenizer.json's model.vocab gives "a" the id 1.5, not a whole number`);
    expect(() => largestTokenId({ model: { vocab: { a: [[[0]]] } } })).toThrow(`tokenizer.json's model.vocab gives "a" the id that is a list, not a whole number`);
  });
});

describe('checkTokenizerFitsModel', () => {
  it("passes ids below vocab_size and refuses one at or past it, saying which tokenizer and which rows", () => {
    expect(() => checkTokenizerFitsModel(pythia(), 50277, 'model')).not.toThrow();
    expect(() => checkTokenizerFitsModel(pythia(), 50304, 'bundled')).not.toThrow();
    expect(() => checkTokenizerFitsModel(pythia(), 50276, 'model')).toThrow(
      "tokenizer.json has ids up to 50,276 but the model's embedding has 50,276 rows (config.json's vocab_size): use the tokenizer that came with this model",
    );
    expect(() => checkTokenizerFitsModel(withAdded(50300), 50280, 'model')).toThrow(/^tokenizer\.json has ids up to 50,300 but the model's embedding has 50,280 rows/);
    expect(() => checkTokenizerFitsModel(pythia(), 1000, 'bundled')).toThrow(
      "the bundled Pythia tokenizer.json has ids up to 50,276 but the model's embedding has 1,000 rows (config.json's vocab_size), and the model came without a tokenizer.json: add the tokenizer.json that came with this model",
    );
  });
});
