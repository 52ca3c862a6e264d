import { describe, expect, it } from 'vitest';
import { fixtureNames, loadFixture } from '../testing/fixtures';
import { CONFIG_LIMITS, ConfigError, eosTokenIds, headSize, parseConfig, rotaryDims, toHfConfig } from './config';
import { countParams } from './params';

/** EleutherAI/pythia-70m config.json, as published on the Hub. */
const PYTHIA_70M = {
  _name_or_path: 'EleutherAI/pythia-70m',
  architectures: ['GPTNeoXForCausalLM'],
  attention_dropout: 0.0,
  bos_token_id: 0,
  classifier_dropout: 0.1,
  eos_token_id: 0,
  hidden_act: 'gelu',
  hidden_dropout: 0.0,
  hidden_size: 512,
  initializer_range: 0.02,
  intermediate_size: 2048,
  layer_norm_eps: 1e-5,
  max_position_embeddings: 2048,
  model_type: 'gpt_neox',
  num_attention_heads: 8,
  num_hidden_layers: 6,
  rope_scaling: null,
  rotary_emb_base: 10000,
  rotary_pct: 0.25,
  tie_word_embeddings: false,
  torch_dtype: 'float32',
  transformers_version: '4.32.0',
  use_cache: true,
  use_parallel_residual: true,
  vocab_size: 50304,
};

/** The fixture table of fixtures/README.md. */
const FIXTURE_TABLE: Record<string, { parallel: boolean; rotaryPct: number; rotaryDims: number }> = {
  'parallel-rot025-f32': { parallel: true, rotaryPct: 0.25, rotaryDims: 4 },
  'sequential-rot100-f32': { parallel: false, rotaryPct: 1, rotaryDims: 16 },
  'parallel-rot025-f16': { parallel: true, rotaryPct: 0.25, rotaryDims: 4 },
  'hub-style-f16': { parallel: true, rotaryPct: 0.25, rotaryDims: 4 },
  'sequential-rot050-bf16': { parallel: false, rotaryPct: 0.5, rotaryDims: 8 },
};

const without = (key: string): Record<string, unknown> => {
  const c: Record<string, unknown> = { ...PYTHIA_70M };
  delete c[key];
  return c;
};

describe('parseConfig on the fixtures', () => {
  it('covers every GPT-NeoX fixture folder', () => {
    expect(fixtureNames().filter((n) => parseConfig(loadFixture(n).configJson).modelType === 'gpt_neox')).toEqual(Object.keys(FIXTURE_TABLE).sort());
  });

  it.each(Object.keys(FIXTURE_TABLE))('%s parses to the documented shape', (name) => {
    const c = parseConfig(loadFixture(name).configJson);
    const t = FIXTURE_TABLE[name];
    expect(c).toEqual({
      modelType: 'gpt_neox',
      vocabSize: 96,
      hiddenSize: 64,
      numLayers: 2,
      numHeads: 4,
      numKvHeads: 4,
      headDim: 16,
      intermediateSize: 128,
      maxPositions: 64,
      rotaryPct: t.rotaryPct,
      rotaryBase: 10000,
      layerNormEps: 1e-5,
      useParallelResidual: t.parallel,
      tieWordEmbeddings: false,
      qkvBias: true,
      outputBias: true,
      mlpBias: true,
      qkNorm: false,
      bosTokenId: 0,
      eosTokenId: 0,
    });
    expect(headSize(c)).toBe(16);
    expect(rotaryDims(c)).toBe(t.rotaryDims);
  });

  it('partial_rotary_factor / rope_theta (hub-style) read as rotary_pct / rotary_emb_base', () => {
    const hub = loadFixture('hub-style-f16').configJson as Record<string, unknown>;
    expect(hub.rotary_pct).toBeUndefined();
    expect(hub.partial_rotary_factor).toBe(0.25);
    expect(parseConfig(hub)).toEqual(parseConfig(loadFixture('parallel-rot025-f16').configJson));
    const renamed = { ...without('rotary_pct'), partial_rotary_factor: 0.5, rope_theta: 500 };
    delete (renamed as Record<string, unknown>).rotary_emb_base;
    expect(parseConfig(renamed)).toMatchObject({ rotaryPct: 0.5, rotaryBase: 500 });
  });

  it('accepts JSON text as well as an object', () => {
    const f = loadFixture('sequential-rot050-bf16');
    expect(parseConfig(JSON.stringify(f.configJson))).toEqual(parseConfig(f.configJson));
  });
});

describe('parseConfig on Pythia-70m', () => {
  const c = parseConfig(PYTHIA_70M);

  it('has hidden 512, 6 layers, 8 heads of 64, rotary on 16 dims, parallel residual', () => {
    expect(c).toMatchObject({ hiddenSize: 512, numLayers: 6, numHeads: 8, intermediateSize: 2048, vocabSize: 50304, maxPositions: 2048, useParallelResidual: true });
    expect(headSize(c)).toBe(64);
    expect(rotaryDims(c)).toBe(16);
  });

  it('counts 70,426,624 parameters, as GPTNeoXForCausalLM.num_parameters()', () => {
    expect(countParams(c)).toBe(70_426_624);
  });

  it('round-trips through toHfConfig', () => {
    expect(parseConfig(toHfConfig(c))).toEqual(c);
  });

  it('defaults rotary_emb_base to 10000 and layer_norm_eps to 1e-5 when absent', () => {
    const d = parseConfig({ ...without('rotary_emb_base'), layer_norm_eps: undefined });
    expect(d.rotaryBase).toBe(10000);
    expect(d.layerNormEps).toBe(1e-5);
  });
});

describe('parseConfig errors name the field', () => {
  const err = (input: unknown): ConfigError => {
    try {
      parseConfig(input);
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return e as ConfigError;
    }
    throw new Error('parseConfig accepted the config');
  };

  it('model_type "mistral" → names every family that runs', () => {
    const m = err({ ...PYTHIA_70M, model_type: 'mistral' }).message;
    expect(m).toContain('"mistral"');
    for (const t of ['gpt_neox', 'llama', 'qwen2', 'qwen3', 'gpt2']) expect(m).toContain(`"${t}"`);
  });

  it('missing model_type', () => {
    expect(err(without('model_type')).message).toContain('gpt_neox');
  });

  it('missing hidden_size', () => {
    expect(err(without('hidden_size')).message).toMatch(/missing "hidden_size"/);
  });

  it('missing rotary_pct names both spellings', () => {
    expect(err(without('rotary_pct')).message).toMatch(/"rotary_pct".*"partial_rotary_factor"/);
  });

  it('non-integer num_attention_heads', () => {
    expect(err({ ...PYTHIA_70M, num_attention_heads: 8.5 }).message).toMatch(/"num_attention_heads" must be a non-negative integer, got 8\.5/);
  });

  it('num_attention_heads as a string', () => {
    expect(err({ ...PYTHIA_70M, num_attention_heads: '8' }).message).toMatch(/"num_attention_heads" must be a number/);
  });

  it('hidden_size not divisible by num_attention_heads', () => {
    expect(err({ ...PYTHIA_70M, num_attention_heads: 7 }).message).toMatch(/hidden_size \(512\) must be divisible by num_attention_heads \(7\)/);
  });

  it('zero layers names the field as config.json spells it', () => {
    expect(err({ ...PYTHIA_70M, num_hidden_layers: 0 }).message).toMatch(/"num_hidden_layers" must be a positive integer, got 0/);
  });

  it('odd rotary dims', () => {
    expect(err({ ...PYTHIA_70M, rotary_pct: 0.3 }).message).toMatch(/rotary dims .* must be even/);
  });

  it('unsupported activation, tied embeddings, rope scaling', () => {
    expect(err({ ...PYTHIA_70M, hidden_act: 'relu' }).message).toContain('hidden_act "relu"');
    expect(err({ ...PYTHIA_70M, tie_word_embeddings: true }).message).toContain('tie_word_embeddings');
    expect(err({ ...PYTHIA_70M, rope_scaling: { type: 'linear', factor: 2 } }).message).toContain('rope_scaling');
  });

  it('use_parallel_residual that is not a boolean', () => {
    expect(err({ ...PYTHIA_70M, use_parallel_residual: 'yes' }).message).toMatch(/"use_parallel_residual" must be true or false/);
  });

  it('invalid JSON text', () => {
    expect(err('{"model_type": "gpt_neox",').message).toMatch(/config\.json is not valid JSON/);
  });

  it('JSON that is not an object', () => {
    expect(err('[1, 2]').message).toMatch(/must hold a JSON object/);
    expect(err(null).message).toMatch(/must hold a JSON object/);
  });
});

describe('parseConfig refuses absurd values, naming the field', () => {
  const err = (input: Record<string, unknown>): string => {
    try {
      parseConfig(input);
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return (e as ConfigError).message;
    }
    throw new Error('parseConfig accepted the config');
  };

  /** GPT-NeoX-20B's config.json: the largest GPT-NeoX, which every cap must admit. */
  const NEOX_20B = { ...PYTHIA_70M, hidden_size: 6144, intermediate_size: 24576, num_attention_heads: 64, num_hidden_layers: 44, vocab_size: 50432 };

  it('accepts GPT-NeoX-20B, and sizes exactly at the caps', () => {
    expect(parseConfig(NEOX_20B)).toMatchObject({ hiddenSize: 6144, numLayers: 44, vocabSize: 50432 });
    const atCaps = { ...PYTHIA_70M, ...CONFIG_LIMITS, num_attention_heads: 256 };
    expect(parseConfig(atCaps)).toMatchObject({ hiddenSize: CONFIG_LIMITS.hidden_size, numLayers: CONFIG_LIMITS.num_hidden_layers });
  });

  it.each([
    ['num_hidden_layers', 1_001],
    ['num_hidden_layers', 1e9],
    ['hidden_size', 65_536 * 2],
    ['vocab_size', 2 ** 31],
    ['intermediate_size', 1e7],
    ['max_position_embeddings', 2 ** 40],
  ])('%s = %d is over the cap', (name, value) => {
    const m = err({ ...PYTHIA_70M, [name]: value });
    expect(m).toContain(`"${name}" is ${value}, over the`);
    expect(m).toMatch(/no GPT-NeoX model is that large/);
    expect(m).toMatch(/load the model's original config\.json/);
  });

  it.each(['num_hidden_layers', 'hidden_size', 'vocab_size', 'intermediate_size', 'max_position_embeddings', 'num_attention_heads'])('%s = 0 is refused', (name) => {
    expect(err({ ...PYTHIA_70M, [name]: 0 })).toMatch(new RegExp(`"${name}" must be a positive integer, got 0`));
  });

  it.each(['num_hidden_layers', 'hidden_size', 'vocab_size', 'intermediate_size', 'max_position_embeddings'])('%s negative or fractional is refused', (name) => {
    expect(err({ ...PYTHIA_70M, [name]: -4 })).toMatch(new RegExp(`"${name}" must be a non-negative integer, got -4`));
    expect(err({ ...PYTHIA_70M, [name]: 2.5 })).toMatch(new RegExp(`"${name}" must be a non-negative integer, got 2\\.5`));
  });

  it('num_attention_heads that does not divide hidden_size says the file is not a GPT-NeoX config', () => {
    expect(err({ ...PYTHIA_70M, num_attention_heads: 7 })).toMatch(/^config\.json: hidden_size \(512\) must be divisible by num_attention_heads \(7\): the file is not a valid GPT-NeoX config/);
    expect(err({ ...PYTHIA_70M, num_attention_heads: 1024 })).toMatch(/divisible by num_attention_heads \(1024\)/);
  });

  it.each([0, -10000])('rotary_emb_base %d is refused', (base) => {
    expect(err({ ...PYTHIA_70M, rotary_emb_base: base })).toMatch(new RegExp(`"rotary_emb_base" must be positive, got ${base}`));
  });

  it('rope_theta (the other spelling) is named when it is the one that is wrong', () => {
    const j: Record<string, unknown> = { ...PYTHIA_70M, rope_theta: -1 };
    delete j.rotary_emb_base;
    expect(err(j)).toMatch(/"rope_theta" must be positive, got -1/);
  });

  it('a non-finite rotary_emb_base (possible in an object, not in JSON text) is refused', () => {
    expect(err({ ...PYTHIA_70M, rotary_emb_base: Infinity })).toMatch(/"rotary_emb_base" must be a number, got Infinity/);
    expect(err({ ...PYTHIA_70M, rotary_emb_base: NaN })).toMatch(/"rotary_emb_base" must be a number, got NaN/);
  });

  it.each([0, -0.25, 1.5])('rotary_pct %d is outside (0, 1]', (pct) => {
    expect(err({ ...PYTHIA_70M, rotary_pct: pct })).toMatch(new RegExp(`"rotary_pct" must be in \\(0, 1\\].*got ${pct}`));
  });

  it('partial_rotary_factor (the other spelling) is named when it is the one that is wrong', () => {
    const j: Record<string, unknown> = { ...PYTHIA_70M, partial_rotary_factor: 2 };
    delete j.rotary_pct;
    expect(err(j)).toMatch(/"partial_rotary_factor" must be in \(0, 1\]/);
  });

  it('rotary_pct 1 (every dim rotated, as sequential-rot100) is accepted', () => {
    expect(rotaryDims(parseConfig({ ...PYTHIA_70M, rotary_pct: 1 }))).toBe(64);
  });

  it.each([0, -1e-5])('layer_norm_eps %d is refused', (eps) => {
    expect(err({ ...PYTHIA_70M, layer_norm_eps: eps })).toMatch(/"layer_norm_eps" must be positive/);
  });

  it('a hostile size is refused before the other fields are looked at (no work sized from it)', () => {
    // num_hidden_layers is read before the bad rotary_pct below, and refused first.
    expect(err({ ...PYTHIA_70M, num_hidden_layers: 1e12, rotary_pct: 7 })).toMatch(/"num_hidden_layers" is 1000000000000/);
  });
});

describe('eosTokenIds', () => {
  it('reads eos_token_id as an id or a list of ids, ignoring anything else', () => {
    expect(eosTokenIds({ eos_token_id: 0 })).toEqual([0]);
    expect(eosTokenIds({ eos_token_id: [151645, 151643] })).toEqual([151645, 151643]);
    expect(eosTokenIds({ eos_token_id: null })).toEqual([]);
    expect(eosTokenIds({ eos_token_id: [1, -2, 'x', 2.5, 3] })).toEqual([1, 3]);
    expect(eosTokenIds(null)).toEqual([]);
    expect(eosTokenIds({})).toEqual([]);
  });
});

