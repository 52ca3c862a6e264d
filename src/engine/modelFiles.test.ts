import { describe, expect, it } from 'vitest';
import { PICKLE_REFUSAL } from '../model/checkpoint';
import { modelFilesFromList, type NamedFile } from './modelFiles';

const text = (name: string, s: string): NamedFile => {
  const b = new TextEncoder().encode(s);
  return { name, data: b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) };
};
const json = (name: string, v: unknown): NamedFile => text(name, JSON.stringify(v));
/** A stand-in file whose first byte tells which one it is. */
const tagged = (name: string, tag: number, size = 4): NamedFile => {
  const b = new Uint8Array(size);
  b[0] = tag;
  return { name, data: b.buffer };
};
const tagOf = (b: ArrayBuffer): number => new Uint8Array(b)[0];

const CONFIG = json('config.json', { model_type: 'gpt_neox', hidden_size: 8 });

describe('modelFilesFromList', () => {
  it('a single model.safetensors with config.json; tokenizer.json is optional', () => {
    const m = modelFilesFromList([CONFIG, tagged('model.safetensors', 7, 10)]);
    expect(m.config).toEqual({ model_type: 'gpt_neox', hidden_size: 8 });
    expect(m.shards.map(tagOf)).toEqual([7]);
    expect(m.tokenizerJson).toBeNull();
    expect(m.tokenizerConfig).toBeNull();
    expect(m.bytes).toBe(CONFIG.data.byteLength + 10);
  });

  it('reads tokenizer.json and tokenizer_config.json when present, and takes names with folder paths', () => {
    const m = modelFilesFromList([
      json('pythia-70m/tokenizer.json', { model: { type: 'BPE' } }),
      json('pythia-70m/tokenizer_config.json', { eos_token: '<|endoftext|>' }),
      json('pythia-70m/config.json', { model_type: 'gpt_neox' }),
      tagged('pythia-70m/model.safetensors', 1),
    ]);
    expect(m.tokenizerJson).toEqual({ model: { type: 'BPE' } });
    expect(m.tokenizerConfig).toEqual({ eos_token: '<|endoftext|>' });
    expect(m.config).toEqual({ model_type: 'gpt_neox' });
    expect(m.shards.map(tagOf)).toEqual([1]);
  });

  it('without config.json: says which files to select', () => {
    expect(() => modelFilesFromList([tagged('model.safetensors', 1), json('tokenizer.json', {})])).toThrow(
      /no config\.json among the 2 file\(s\).*config\.json, model\.safetensors and tokenizer\.json/,
    );
  });

  it('a pickle-only folder is refused, pointing to safetensors', () => {
    for (const weights of ['pytorch_model.bin', 'model.pt', 'checkpoint.pth']) {
      expect(() => modelFilesFromList([CONFIG, tagged(weights, 1)]), weights).toThrow(PICKLE_REFUSAL);
    }
    expect(PICKLE_REFUSAL).toMatch(/safetensors/);
  });

  it('no weights at all: asks for the weights file', () => {
    expect(() => modelFilesFromList([CONFIG, json('tokenizer.json', {})])).toThrow(/no model\.safetensors among the files/);
  });

  it('a safetensors file beside a pickle is used, not refused', () => {
    expect(modelFilesFromList([CONFIG, tagged('pytorch_model.bin', 1), tagged('model.safetensors', 2)]).shards.map(tagOf)).toEqual([2]);
  });

  it('with an index, takes exactly the shards its weight_map names, in weight_map order', () => {
    const index = json('model.safetensors.index.json', {
      metadata: { total_size: 8 },
      weight_map: {
        'embed_out.weight': 'model-00002-of-00002.safetensors',
        'gpt_neox.embed_in.weight': 'model-00001-of-00002.safetensors',
        'gpt_neox.final_layer_norm.weight': 'model-00002-of-00002.safetensors',
      },
    });
    const m = modelFilesFromList([
      tagged('model-00001-of-00002.safetensors', 1),
      CONFIG,
      tagged('adapter.safetensors', 9), // not part of the model
      index,
      tagged('model-00002-of-00002.safetensors', 2),
    ]);
    expect(m.shards.map(tagOf)).toEqual([2, 1]);
  });

  it('without an index, shards are taken in name order', () => {
    const m = modelFilesFromList([tagged('model-00002-of-00002.safetensors', 2), CONFIG, tagged('model-00001-of-00002.safetensors', 1)]);
    expect(m.shards.map(tagOf)).toEqual([1, 2]);
  });

  it('a shard the index lists but that is missing is named', () => {
    const index = json('model.safetensors.index.json', {
      weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00002-of-00002.safetensors' },
    });
    expect(() => modelFilesFromList([CONFIG, index, tagged('model-00001-of-00002.safetensors', 1)])).toThrow(
      /index\.json lists model-00002-of-00002\.safetensors, which is not among the files/,
    );
  });

  it('a config.json that is not JSON is named', () => {
    expect(() => modelFilesFromList([text('config.json', '{"model_type": '), tagged('model.safetensors', 1)])).toThrow(/config\.json is not valid JSON/);
  });

  it('a tokenizer.json that is not JSON is named', () => {
    expect(() => modelFilesFromList([CONFIG, tagged('model.safetensors', 1), text('tokenizer.json', 'nope')])).toThrow(/tokenizer\.json is not valid JSON/);
  });
});
