/**
 * The families beside GPT-NeoX, read from their published config.json files: the shape each
 * parses to, the parameter count transformers' num_parameters() gives, the names and linears
 * everything derives from, and the refusals of what the engine does not implement.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, toHfConfig } from './config';
import { DISTILGPT2, GPT2, QWEN25_05B, QWEN3_06B, SMOLLM2_135M, SMOLLM2_360M } from '../testing/hubConfigs';
import { canonicalName, countParams, defaultLoraTargets, fitLoraTargets, isSkippedBuffer, linearNames, modelNames, paramSpecs, peftModuleName, resolveLinear } from './params';

describe('the published configs', () => {
  it.each([
    // transformers' model.num_parameters() (tied heads counted once)
    ['SmolLM2-135M', SMOLLM2_135M, 134_515_008],
    ['Qwen2.5-0.5B', QWEN25_05B, 494_032_768],
    ['Qwen3-0.6B', QWEN3_06B, 596_049_920],
    ['gpt2', GPT2, 124_439_808],
    ['SmolLM2-360M', SMOLLM2_360M, 361_821_120],
    ['distilgpt2', DISTILGPT2, 81_912_576],
  ] as const)('%s has the parameter count transformers gives, and round-trips through toHfConfig', (_, json, count) => {
    const c = parseConfig(json);
    expect(countParams(c)).toBe(count);
    expect(parseConfig(toHfConfig(c))).toEqual(c);
  });

  it('SmolLM2-135M: grouped-query attention (9 query heads over 3), head 64, tied head, no biases', () => {
    const c = parseConfig(SMOLLM2_135M);
    expect(c).toMatchObject({ modelType: 'llama', numHeads: 9, numKvHeads: 3, headDim: 64, tieWordEmbeddings: true, qkvBias: false, outputBias: false, mlpBias: false, qkNorm: false, rotaryPct: 1, rotaryBase: 100000, layerNormEps: 1e-5 });
    expect(modelNames(c)).toMatchObject({ embed: 'model.embed_tokens.weight', head: 'model.embed_tokens.weight', finalNorm: 'model.norm' });
    expect(paramSpecs(c).some((s) => s.name === 'lm_head.weight')).toBe(false);
    expect(paramSpecs(c).find((s) => s.name === 'model.layers.0.self_attn.k_proj.weight')!.shape).toEqual([192, 576]);
    expect(linearNames(c)).toEqual(['self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj', 'self_attn.o_proj', 'mlp.gate_proj', 'mlp.up_proj', 'mlp.down_proj']);
    expect(defaultLoraTargets(c)).toEqual(['self_attn.q_proj', 'self_attn.v_proj']);
  });

  it('Qwen2.5: biases on q, k and v only', () => {
    const specs = paramSpecs(parseConfig(QWEN25_05B)).map((s) => s.name).filter((n) => n.startsWith('model.layers.0.') && n.endsWith('.bias'));
    expect(specs).toEqual(['model.layers.0.self_attn.q_proj.bias', 'model.layers.0.self_attn.k_proj.bias', 'model.layers.0.self_attn.v_proj.bias']);
  });

  it('Qwen3: head_dim 128 (not 1024 / 16), q and k norms over it, EOS 151645', () => {
    const c = parseConfig(QWEN3_06B);
    expect(c).toMatchObject({ headDim: 128, qkNorm: true, eosTokenId: 151645 });
    const spec = (n: string) => paramSpecs(c).find((s) => s.name === `model.layers.3.${n}`)!.shape;
    expect(spec('self_attn.q_proj.weight')).toEqual([2048, 1024]);
    expect(spec('self_attn.o_proj.weight')).toEqual([1024, 2048]);
    expect(spec('self_attn.q_norm.weight')).toEqual([128]);
  });

  it('gpt2: learned positions, Conv1D weights stored (in, out), the original repo\'s unprefixed names and old buffers', () => {
    const c = parseConfig(GPT2);
    expect(c).toMatchObject({ modelType: 'gpt2', hiddenSize: 768, intermediateSize: 3072, maxPositions: 1024, tieWordEmbeddings: true, rotaryPct: 0 });
    expect(modelNames(c)).toMatchObject({ embed: 'transformer.wte.weight', head: 'transformer.wte.weight', positions: 'transformer.wpe.weight' });
    const attn = paramSpecs(c).find((s) => s.name === 'transformer.h.0.attn.c_attn.weight')!;
    expect(attn).toMatchObject({ shape: [2304, 768], fileTransposed: true });
    expect(canonicalName(c, 'h.0.attn.c_attn.weight')).toBe('transformer.h.0.attn.c_attn.weight');
    expect(canonicalName(c, 'transformer.wte.weight')).toBe('transformer.wte.weight');
    for (const n of ['h.0.attn.bias', 'transformer.h.11.attn.masked_bias', 'lm_head.weight']) expect(isSkippedBuffer(c, n), n).toBe(true);
    expect(isSkippedBuffer(c, 'h.0.attn.c_attn.bias')).toBe(false);
    // PEFT matches target_modules as name suffixes: "c_proj" alone would adapt both.
    expect(['attn.c_attn', 'attn.c_proj', 'mlp.c_fc', 'mlp.c_proj'].map(peftModuleName)).toEqual(['c_attn', 'attn.c_proj', 'c_fc', 'mlp.c_proj']);
    expect(() => resolveLinear(c, 'c_proj')).toThrow(/could mean attn\.c_proj or mlp\.c_proj/);
    expect(resolveLinear(c, 'c_fc')).toBe('mlp.c_fc');
  });

  it('LoRA targets carried to another family keep what it has, else take its default', () => {
    expect(fitLoraTargets(parseConfig(SMOLLM2_135M), ['attention.query_key_value'])).toEqual(['self_attn.q_proj', 'self_attn.v_proj']);
    expect(fitLoraTargets(parseConfig(QWEN25_05B), ['self_attn.v_proj', 'mlp.down_proj'])).toEqual(['self_attn.v_proj', 'mlp.down_proj']);
    expect(fitLoraTargets(parseConfig(GPT2), ['self_attn.q_proj'])).toEqual(['attn.c_attn']);
  });
});

describe('what the engine does not implement is refused by name', () => {
  const message = (json: unknown): string => {
    try {
      parseConfig(json);
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return (e as Error).message;
    }
    throw new Error('accepted');
  };

  it.each([
    [{ ...SMOLLM2_135M, rope_scaling: { rope_type: 'llama3', factor: 8 } }, /rope_scaling of type "llama3": scaled rotary embeddings are not implemented/],
    [{ ...SMOLLM2_135M, rope_scaling: { type: 'linear', factor: 2 } }, /rope_scaling of type "linear"/],
    [{ ...QWEN25_05B, use_sliding_window: true }, /use_sliding_window true: sliding-window attention is not implemented/],
    [{ ...SMOLLM2_135M, hidden_act: 'gelu' }, /hidden_act "gelu": only "silu"/],
    [{ ...SMOLLM2_135M, pretraining_tp: 2 }, /pretraining_tp 2/],
    [{ ...SMOLLM2_135M, num_key_value_heads: 4 }, /num_attention_heads \(9\) must be a multiple of num_key_value_heads \(4\)/],
    [{ ...GPT2, activation_function: 'relu' }, /activation_function "relu"/],
    [{ ...GPT2, scale_attn_by_inverse_layer_idx: true }, /scale_attn_by_inverse_layer_idx true/],
    [{ ...GPT2, n_layer: 5000 }, /"n_layer" is 5000, over the 1,000 this studio accepts: no GPT-2 model is that large/],
  ])('%#: %s', (json, want) => {
    expect(message(json)).toMatch(want);
  });

  it('rope_scaling of the default type is the plain rotary, and accepted', () => {
    expect(parseConfig({ ...SMOLLM2_135M, rope_scaling: { rope_type: 'default' } }).rotaryBase).toBe(100000);
  });

  it('a list of EOS ids takes the first (Qwen2.5-Instruct-style generation configs)', () => {
    expect(parseConfig({ ...QWEN25_05B, eos_token_id: [151645, 151643] }).eosTokenId).toBe(151645);
  });
});
