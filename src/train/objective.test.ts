import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixtureNames, goldenGrad, loadFixture, relError, startTestBackend } from '../testing/fixtures';
import { createLoraParams, loraContext, loraParamNames } from './lora';
import { loadModel } from '../model/checkpoint';
import { parseConfig } from '../model/config';
import type { ForwardContext } from '../model/forward';
import { lossAndGrads, type TokenBatch } from '../model/objective';
import { disposeParams, initRandomData, paramsFromData, type Params } from '../model/params';

/** Loss and gradients as plain arrays, both ways, tensors disposed. */
function run(ctx: ForwardContext, names: string[], b: TokenBatch, checkpoint: boolean): { loss: number; grads: Record<string, Float32Array> } {
  const { loss, grads } = lossAndGrads(ctx, names, b, { chunkRows: 3, checkpoint });
  const out = { loss: loss.dataSync()[0], grads: Object.fromEntries(names.map((n) => [n, grads[n].dataSync() as Float32Array])) };
  tf.dispose([loss, ...Object.values(grads)]);
  return out;
}

const tiny = parseConfig({ model_type: 'gpt_neox', vocab_size: 256, hidden_size: 32, num_hidden_layers: 3, num_attention_heads: 4, intermediate_size: 128, max_position_embeddings: 64, rotary_pct: 0.25 });
const tinyBatch = (B: number, T: number): TokenBatch => ({ ids: Int32Array.from({ length: B * T }, (_, i) => (i * 7919 + 13) % 256), B, T, lengths: Array.from({ length: B }, (_, b) => T - b) });

describe.each(['cpu', 'wasm'] as const)('activation checkpointing on the %s backend', (backend) => {
  beforeAll(() => startTestBackend(backend));

  it.each(fixtureNames())('%s: the same loss and gradients as the plain backward, and the PyTorch reference within 1e-3', (name) => {
    const f = loadFixture(name);
    const model = loadModel(f.configJson, [f.weights]);
    const B = f.golden.ids.length;
    const T = f.golden.ids[0].length;
    const b = { ids: Int32Array.from(f.golden.ids.flat()), B, T, lengths: f.golden.lengths };
    const names = Object.keys(model.params);
    const plain = run(model, names, b, false);
    const ckpt = run(model, names, b, true);
    expect(ckpt.loss).toBe(plain.loss);
    for (const n of names) {
      // 2e-6: the two backwards add the same terms in another order; GPT-2's c_attn gradient on
      // WASM differs by 1.15e-6 since small softmaxes run in JavaScript (backend/wasmSmallOps.ts).
      expect(relError(ckpt.grads[n], plain.grads[n]), n).toBeLessThan(2e-6);
      expect(relError(ckpt.grads[n], goldenGrad(f, n).data), n).toBeLessThan(1e-3);
    }
    disposeParams(model.params);
  });

  it('LoRA with dropout (masks are recomputed from the same seeds) and a frozen embedding', () => {
    const base = paramsFromData(tiny, initRandomData(tiny, 1));
    const l = { rank: 4, alpha: 8, dropout: 0.1, targets: ['attention.query_key_value', 'mlp.dense_4h_to_h'] as const };
    const lora = { ...l, targets: [...l.targets] };
    const adapters = createLoraParams(tiny, lora, 2);
    // B starts at 0 in PEFT's init; make it random so every adapter gradient is exercised (a
    // constant B would give A a gradient of ~0: the layer norms' input gradients sum to 0).
    const bumped: Params = Object.fromEntries(Object.entries(adapters).map(([n, t], i) => [n, tf.add(t, tf.randomNormal(t.shape, 0, 0.05, 'float32', i))]));
    const ctx: ForwardContext = { params: { ...base, ...bumped }, config: tiny, lora: loraContext(lora, 5, true) };
    const b = tinyBatch(2, 16);
    for (const names of [loraParamNames(tiny, lora), Object.keys(base).filter((n) => n !== 'gpt_neox.embed_in.weight'), ['embed_out.weight'], ['gpt_neox.layers.1.mlp.dense_4h_to_h.bias']]) {
      const plain = run(ctx, names, b, false);
      const ckpt = run(ctx, names, b, true);
      expect(ckpt.loss).toBe(plain.loss);
      // 5e-6, not 1e-6: under load WASM's threaded products can sum in another order (1.03e-6 was
      // measured with two test files running at once).
      for (const n of names) expect(relError(ckpt.grads[n], plain.grads[n]), n).toBeLessThan(5e-6);
    }
    disposeParams({ ...base, ...adapters, ...bumped });
  });

  it('leaks no tensors, and peaks lower than the plain backward', async () => {
    const config = parseConfig({ model_type: 'gpt_neox', vocab_size: 256, hidden_size: 64, num_hidden_layers: 4, num_attention_heads: 4, intermediate_size: 256, max_position_embeddings: 128, rotary_pct: 0.25 });
    const params = paramsFromData(config, initRandomData(config, 3));
    const ctx: ForwardContext = { params, config };
    const names = Object.keys(params);
    const b = tinyBatch(4, 64);
    const peak = async (checkpoint: boolean) => {
      const p = await tf.profile(() => {
        const { loss, grads } = lossAndGrads(ctx, names, b, { checkpoint });
        tf.dispose([loss, ...Object.values(grads)]);
      });
      return p.peakBytes;
    };
    const before = tf.memory().numTensors;
    const [plain, ckpt] = [await peak(false), await peak(true)];
    expect(tf.memory().numTensors).toBe(before);
    // Activations dominate here (a small vocabulary): one block's instead of four.
    expect(ckpt).toBeLessThan(0.6 * plain);
    disposeParams(params);
  });
});
