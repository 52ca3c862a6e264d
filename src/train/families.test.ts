/**
 * Everything downstream of the forward, on a tiny random model of each family: LoRA on every
 * linear (merged equals adapter), the model folder and the PEFT adapter exported and read back
 * (exact), the decoding layouts, activation checkpointing, and a few training steps.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../model/checkpoint';
import type { ModelType } from '../model/config';
import { toDecoding, toTraining } from '../model/decodeLayout';
import { hiddenStates, lmHead, type ForwardContext } from '../model/forward';
import { lossAndGrads } from '../model/objective';
import { disposeParams, initRandomData, linearNames, modelNames, paramsFromData, type Params } from '../model/params';
import { tinyConfig } from '../model/tinyConfig';
import { relError, startTestBackend } from '../testing/fixtures';
import { adapterParams, modelFolderFiles, peftAdapterFiles } from './exportModel';
import { parsePeftAdapter } from './importAdapter';
import { createLoraParams, loraContext, loraParamNames, mergeLora } from './lora';
import type { LoraConfig } from './types';

const FAMILIES: ModelType[] = ['llama', 'qwen2', 'qwen3', 'gpt2'];
const IDS = Int32Array.from([5, 900, 31, 7, 4402, 12, 99, 3, 2024, 17, 300, 41]);
const B = 2;
const T = 6;

/** Bit-for-bit equality of two float arrays (vitest's toEqual walks a million-element array for seconds). */
const sameBits = (a: Float32Array, b: Float32Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

const logits = (ctx: ForwardContext): Float32Array => tf.tidy(() => lmHead(ctx, hiddenStates(ctx, tf.tensor2d(IDS, [B, T], 'int32')))).dataSync() as Float32Array;

describe.each(['cpu', 'wasm'] as const)('on the %s backend', (backend) => {
  beforeAll(() => startTestBackend(backend));

  describe.each(FAMILIES)('%s', (family) => {
    const config = tinyConfig({ hiddenSize: 32, numLayers: 2, numHeads: 4, seed: 3, family });
    let params: Params;
    beforeAll(() => {
      params = paramsFromData(config, initRandomData(config, 3, 0.2));
    });
    afterAll(() => disposeParams(params));

    it('LoRA on every linear: the merged weights give the adapter\'s logits, and the PEFT adapter reads back exactly', async () => {
      const lora: LoraConfig = { rank: 2, alpha: 4, dropout: 0, targets: linearNames(config) };
      const adapters = createLoraParams(config, lora, 1);
      // PEFT starts B at zero; give B values so the adapter changes the output.
      for (const n of Object.keys(adapters).filter((k) => k.includes('lora_B'))) {
        const old = adapters[n];
        adapters[n] = tf.randomNormal(old.shape, 0, 0.3, 'float32', 5);
        old.dispose();
      }
      const withAdapters: ForwardContext = { params: { ...params, ...adapters }, config, lora: loraContext(lora, 0, false) };
      const merged = mergeLora(withAdapters.params, lora);
      const base = logits({ params, config });
      const viaAdapter = logits(withAdapters);
      const viaMerge = logits({ params: { ...params, ...merged }, config });
      expect(relError(viaAdapter, base)).toBeGreaterThan(1e-3); // the adapters do something
      expect(relError(viaMerge, viaAdapter)).toBeLessThan(1e-5);

      const files = await peftAdapterFiles(adapterParams(withAdapters.params), lora, 'tiny');
      const cfg = JSON.parse(new TextDecoder().decode(files.find((f) => f.name === 'adapter_config.json')!.bytes));
      expect(cfg.fan_in_fan_out).toBe(family === 'gpt2'); // PEFT sets it for GPT-2's Conv1D
      const back = parsePeftAdapter(files, config);
      expect(back.lora.targets).toEqual(lora.targets);
      expect(Object.keys(back.tensors)).toEqual(loraParamNames(config, lora));
      for (const [n, t] of Object.entries(back.tensors)) expect(t.data, n).toEqual(adapters[n].dataSync());
      disposeParams(adapters);
      disposeParams(merged);
    });

    it('the model folder loads back with the same weights and logits (tied head written once, GPT-2\'s Conv1D as (in, out))', async () => {
      const files = await modelFolderFiles(config, params, []);
      const cfg = JSON.parse(new TextDecoder().decode(files.find((f) => f.name === 'config.json')!.bytes));
      expect(cfg.model_type).toBe(family);
      const back = loadModel(cfg, [files.find((f) => f.name === 'model.safetensors')!.bytes]);
      expect(back.config).toEqual(config);
      expect(Object.keys(back.params).sort()).toEqual(Object.keys(params).sort());
      for (const n of Object.keys(params)) expect(sameBits(back.params[n].dataSync() as Float32Array, params[n].dataSync() as Float32Array), n).toBe(true);
      expect(sameBits(logits(back), logits({ params, config }))).toBe(true);
      disposeParams(back.params);
    });

    it('both decoding layouts give the training layout\'s logits', () => {
      const want = logits({ params, config });
      const copy = Object.fromEntries(Object.entries(params).map(([n, t]) => [n, tf.clone(t)]));
      const ctx: ForwardContext = { params: copy, config };
      for (const layout of ['copies', 'decode'] as const) {
        toDecoding(ctx, layout);
        expect(relError(logits(ctx), want), layout).toBeLessThan(1e-5);
        toTraining(ctx);
      }
      disposeParams(ctx.params);
    });

    it('activation checkpointing gives the plain backward\'s loss and gradients, the tied embedding\'s included', async () => {
      const names = Object.keys(params);
      const batch = { ids: IDS, B, T, lengths: [6, 4] };
      const plain = lossAndGrads({ params, config }, names, batch);
      const ckpt = lossAndGrads({ params, config }, names, batch, { checkpoint: true });
      expect(Math.abs((await ckpt.loss.data())[0] - (await plain.loss.data())[0])).toBeLessThan(1e-5);
      for (const n of names) expect(relError(await ckpt.grads[n].data(), await plain.grads[n].data()), n).toBeLessThan(1e-4);
      // The tied head's gradient adds both uses: more than the lookup's rows get a gradient.
      const embed = modelNames(config).embed;
      const rows = new Set(Array.from(IDS));
      const g = (await plain.grads[embed].data()) as Float32Array;
      const C = config.hiddenSize;
      const unusedRowHasGrad = Array.from({ length: 50 }, (_, r) => r).some((r) => !rows.has(r) && g.subarray(r * C, (r + 1) * C).some((v) => v !== 0));
      expect(unusedRowHasGrad).toBe(config.tieWordEmbeddings);
      tf.dispose([plain.loss, ckpt.loss, ...Object.values(plain.grads), ...Object.values(ckpt.grads)]);
    });
  });
});
