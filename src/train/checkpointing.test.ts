/** Activation checkpointing as a run sees it: the trainer's option, the memory estimate, the FLOPs. */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, type ModelConfig } from '../model/config';
import type { ForwardContext } from '../model/forward';
import { lossAndGrads } from '../model/objective';
import { disposeParams, initRandomData, paramsFromData, type Params } from '../model/params';
import { startTestBackend } from '../testing/fixtures';
import { estimateMemory, flopsPerStep, loraParamCount, type EstimateTrain } from './estimate';
import { createLoraParams, loraContext, loraParamNames } from './lora';
import { DEFAULT_TRAIN } from './presets';
import { Trainer } from './trainer';
import type { LoraConfig, TrainConfig } from './types';

const PYTHIA_70M = parseConfig({ model_type: 'gpt_neox', vocab_size: 50304, hidden_size: 512, num_hidden_layers: 6, num_attention_heads: 8, intermediate_size: 2048, max_position_embeddings: 2048, rotary_pct: 0.25 });
const ALL_TARGETS: LoraConfig['targets'] = ['attention.query_key_value', 'attention.dense', 'mlp.dense_h_to_4h', 'mlp.dense_4h_to_h'];
const FULL: EstimateTrain = { method: 'full', freezeEmbeddings: false, lora: { rank: 8, alpha: 16, dropout: 0, targets: ALL_TARGETS }, batchSize: 8, activationCheckpointing: true };
const LORA: EstimateTrain = { ...FULL, method: 'lora' };
const WASM = { name: 'wasm' } as const;

/**
 * tf.profile peakBytes on the WASM backend (Node, tfjs 4.22), Pythia-70m shape, random weights,
 * every position a target, checkpointing on. 'step': a whole Trainer.trainStep after a first one
 * made the AdamW state; 'model only': lossAndGrads with just the model (and adapters) allocated.
 */
const MEASURED: { what: 'model only' | 'step'; train: EstimateTrain; T: number; peakBytes: number }[] = [
  { what: 'step', train: FULL, T: 128, peakBytes: 2_411_397_124 }, // the AdamW update: the same at 4 × 128
  { what: 'step', train: LORA, T: 128, peakBytes: 1_347_586_096 },
  { what: 'model only', train: FULL, T: 128, peakBytes: 1_279_166_496 },
  { what: 'model only', train: { ...FULL, batchSize: 4 }, T: 128, peakBytes: 889_856_032 },
  { what: 'model only', train: { ...FULL, batchSize: 2 }, T: 64, peakBytes: 640_747_404 },
  { what: 'model only', train: LORA, T: 128, peakBytes: 1_344_440_368 },
];

describe('the memory estimate with activation checkpointing', () => {
  it('Pythia-70m: a full fine-tune at 8 × 128 fits the WASM heap with it, and not without it', () => {
    const on = estimateMemory(PYTHIA_70M, FULL, 128, WASM);
    const off = estimateMemory(PYTHIA_70M, { ...FULL, activationCheckpointing: false }, 128, WASM);
    expect(off.verdict).toBe('wont-fit');
    expect(on.verdict).toBe('fits');
    expect(on.total).toBeLessThan(0.6 * off.total);
    // The weights, gradients and optimizer state do not change; only what the backward pass holds.
    expect([on.weights, on.gradients, on.optimizer]).toEqual([off.weights, off.gradients, off.optimizer]);
    expect(on.activations).toBeLessThan(off.activations / 3);
  });

  it('is advised, with its saving, when a run does not fit', () => {
    const advice = estimateMemory(PYTHIA_70M, { ...FULL, activationCheckpointing: false }, 128, WASM).advice;
    expect(advice.some((a) => /^turn on activation checkpointing \(under Method\): saves ~\d+(\.\d)? GB/.test(a))).toBe(true);
    expect(estimateMemory(PYTHIA_70M, { ...FULL, batchSize: 32 }, 128, WASM).advice.some((a) => a.includes('checkpointing'))).toBe(false);
  });

  it.each(MEASURED)('Pythia-70m $what, $train.method, batch $train.batchSize × $T: within [0.8, 1.25] of the recorded tf.profile peak', ({ what, train, T, peakBytes }) => {
    const e = estimateMemory(PYTHIA_70M, train, T, WASM);
    const trainedCopy = train.method === 'full' ? e.gradients : 0;
    const estimate = what === 'step' ? e.total : e.weights - trainedCopy + e.gradients + e.activations;
    expect(peakBytes / estimate).toBeGreaterThanOrEqual(0.85);
    expect(peakBytes / estimate).toBeLessThanOrEqual(1.15);
  });

  describe('live, on the CPU backend (tiny shapes)', () => {
    beforeAll(() => startTestBackend('cpu'));
    const tiny = (hidden: number, layers: number): ModelConfig =>
      parseConfig({ model_type: 'gpt_neox', vocab_size: 50304, hidden_size: hidden, num_hidden_layers: layers, num_attention_heads: 2, intermediate_size: 4 * hidden, max_position_embeddings: 2048, rotary_pct: 0.25 });

    it.each([
      { name: 'hidden 32, 3 layers, full, 2 × 32', config: tiny(32, 3), train: { ...FULL, batchSize: 2 } },
      { name: 'hidden 32, 2 layers, LoRA r4 with dropout, 2 × 32', config: tiny(32, 2), train: { ...LORA, lora: { rank: 4, alpha: 8, dropout: 0.1, targets: ALL_TARGETS }, batchSize: 2 } },
    ])('$name: the estimate is within [0.8, 1.25] of tf.profile peakBytes', async ({ config, train }) => {
      const T = 32;
      const base = paramsFromData(config, initRandomData(config, 0));
      const ctx: ForwardContext = { params: base, config };
      let names = Object.keys(base);
      let trained: Params;
      if (train.method === 'lora') {
        trained = createLoraParams(config, train.lora, 1);
        names = loraParamNames(config, train.lora);
        ctx.lora = loraContext(train.lora, 3, true);
      } else {
        trained = Object.fromEntries(names.map((n) => [n, tf.add(base[n], 0)]));
      }
      ctx.params = { ...base, ...trained };
      const moments = names.flatMap((n) => [tf.zerosLike(ctx.params[n]), tf.zerosLike(ctx.params[n])]);
      const ids = Int32Array.from({ length: 2 * T }, (_, i) => (i * 7919 + 13) % config.vocabSize);
      const profile = await tf.profile(() => {
        const { loss, grads } = lossAndGrads(ctx, names, { ids, B: 2, T, lengths: [T, T] }, { checkpoint: true });
        return [loss, ...Object.values(grads)];
      });
      tf.dispose([...(profile.result as tf.Tensor[]), ...moments]);
      disposeParams({ ...base, ...trained });
      // The backward pass only (the update is measured separately on Pythia-70m above).
      const e = estimateMemory(config, train, T, { name: 'cpu' });
      const ratio = profile.peakBytes / (e.weights + e.gradients + e.optimizer + e.activations);
      expect(ratio).toBeGreaterThanOrEqual(0.8);
      expect(ratio).toBeLessThanOrEqual(1.25);
    });
  });
});

describe('flopsPerStep with activation checkpointing', () => {
  it('adds one forward of the blocks but the last, and drops the logits recompute while the probabilities fit', () => {
    const { hiddenSize: C, numLayers: L, vocabSize: V } = PYTHIA_70M;
    const T = 128;
    const tokens = 8 * T;
    const recompute = ((L - 1) / L) * tokens * (2 * L * 12 * C * C + 4 * T * C * L);
    const off = (t: EstimateTrain) => flopsPerStep(PYTHIA_70M, { ...t, activationCheckpointing: false }, tokens, T);
    expect(flopsPerStep(PYTHIA_70M, FULL, tokens, T) - off(FULL)).toBeCloseTo(recompute - tokens * 2 * V * C, 0);
    const adapters = loraParamCount(PYTHIA_70M, LORA.lora);
    expect(flopsPerStep(PYTHIA_70M, LORA, tokens, T) - off(LORA)).toBeCloseTo(recompute + ((L - 1) / L) * tokens * 2 * adapters - tokens * 2 * V * C, 0);
    // Pythia-70m at 8 × 128: fewer FLOPs than without (its LM head is most of the work).
    expect(flopsPerStep(PYTHIA_70M, FULL, tokens, T) / off(FULL)).toBeCloseTo(0.94, 2);
    // A micro-batch too large for the kept probabilities recomputes the logits as before.
    const big = { ...FULL, batchSize: 64 };
    expect(flopsPerStep(PYTHIA_70M, big, 64 * T, T) - off(big) * 8).toBeCloseTo(8 * recompute, 0);
  });
});

describe('a Trainer with activationCheckpointing', () => {
  beforeAll(() => startTestBackend('wasm'));

  it('takes the same steps as one without (full and LoRA with dropout, with accumulation)', async () => {
    const config = parseConfig({ model_type: 'gpt_neox', vocab_size: 50304, hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 128, max_position_embeddings: 2048, rotary_pct: 0.25 });
    // Rows of varied lengths (padding and masks exercised), loss on all but the first token.
    const train = Array.from({ length: 24 }, (_, r) => {
      const n = 12 + ((r * 7) % 21);
      const ids = Array.from({ length: n }, (_, t) => (r * 7919 + t * 104729 + 13) % 50277);
      const loss = new Uint8Array(n).fill(1);
      loss[0] = 0;
      return { ids, loss, fullLength: n, truncated: 0, completionStart: 1 };
    });
    const data = { train, test: [], maxLength: 32, padId: 0 };
    const cfg = (patch: Partial<TrainConfig>): TrainConfig => ({ ...DEFAULT_TRAIN, batchSize: 4, gradAccum: 2, maxSteps: 3, evalEvery: 0, sampleEvery: 0, checkpointEvery: 0, ...patch });
    for (const c of [cfg({}), cfg({ method: 'lora', lora: { rank: 4, alpha: 8, dropout: 0.1, targets: ALL_TARGETS } })]) {
      const base = { params: paramsFromData(config, initRandomData(config, 3)), config };
      const losses = async (activationCheckpointing: boolean) => {
        const t = new Trainer(base, data, { ...c, activationCheckpointing });
        const out: number[] = [];
        for (let i = 0; i < 3; i++) out.push((await t.trainStep()).loss);
        t.dispose();
        return out;
      };
      const before = tf.memory().numTensors;
      const [plain, ckpt] = [await losses(false), await losses(true)];
      expect(tf.memory().numTensors).toBe(before);
      for (let i = 0; i < 3; i++) expect(ckpt[i]).toBeCloseTo(plain[i], 5);
      disposeParams(base.params);
    }
  });
});
