/**
 * LoRA adapters for the block linears, stored in the same Params map as the base model under
 * PEFT's own names, so lossAndGrads(ctx, loraParamNames(…), batch) trains them as it trains any
 * parameter, and an adapter export is a matter of picking these names.
 * The forward (y += scale · drop(x) Aᵀ Bᵀ) lives in gptNeox.ts's linear().
 */
import * as tf from '@tensorflow/tfjs-core';
import { FAMILY_NAMES, type ModelConfig } from '../model/config';
import type { LoraContext } from '../model/forward';
import { blockLinears, layerPrefix, linearNames, peftModuleName, type Params } from '../model/params';
import { mulberry32 } from '../model/random';
import type { LoraConfig, TrainConfig } from './types';

/** PEFT's default scaling, alpha / r (not rsLoRA's alpha / √r). */
/** LoRA+: B's learning rate is the ratio times A's (the one the schedule gives); every other parameter keeps the schedule's. */
export function loraPlusScale(c: Pick<TrainConfig, 'method' | 'lora'>): (name: string) => number {
  const ratio = c.method === 'lora' ? (c.lora.plusRatio ?? 1) : 1;
  return (name) => (ratio !== 1 && /\.lora_B\.weight$/.test(name) ? ratio : 1);
}

/** The factor on B·A: PEFT's lora_alpha / r, or with rsLoRA lora_alpha / √r (which keeps the update's size steady as the rank grows). */
export const loraScale = (l: LoraConfig): number => (l.rslora ? l.alpha / Math.sqrt(l.rank) : l.alpha / l.rank);

/** PEFT's target_modules: PEFT matches by name suffix, so "dense" adapts attention.dense and not mlp.dense_h_to_4h (params.ts peftModuleName). */
export const peftTargetModules = (l: LoraConfig): string[] => l.targets.map(peftModuleName);

/** The forward settings for a step: dropout only while training, its masks seeded per micro-batch. */
export const loraContext = (l: LoraConfig, seed: number, training: boolean): LoraContext => ({ scale: loraScale(l), dropout: training ? l.dropout : 0, seed });

interface AdapterSpec {
  linear: string; // e.g. gpt_neox.layers.0.attention.dense
  a: string; // <linear>.lora_A.weight, (r, in)
  b: string; // <linear>.lora_B.weight, (out, r)
  out: number;
  in: number;
}

/** Adapted linears in PEFT's order: layer by layer, targets in the block's order. */
function adapters(config: ModelConfig, lora: LoraConfig): AdapterSpec[] {
  if (!Number.isInteger(lora.rank) || lora.rank < 1) throw new Error(`LoRA rank must be a positive integer, got ${lora.rank}`);
  if (!(lora.dropout >= 0 && lora.dropout < 1)) throw new Error(`LoRA dropout must be in [0, 1), got ${lora.dropout}`);
  const unknown = lora.targets.find((t) => !linearNames(config).includes(t));
  if (unknown !== undefined) throw new Error(`LoRA target "${unknown}" is not a linear of this ${FAMILY_NAMES[config.modelType]} model: choose from ${linearNames(config).join(', ')}`);
  const targets = blockLinears(config).filter((l) => lora.targets.includes(l.module));
  if (targets.length === 0) throw new Error('LoRA needs at least one target module');
  const out: AdapterSpec[] = [];
  for (let i = 0; i < config.numLayers; i++) {
    for (const t of targets) {
      const linear = `${layerPrefix(config, i)}${t.module}`;
      out.push({ linear, a: `${linear}.lora_A.weight`, b: `${linear}.lora_B.weight`, out: t.out, in: t.in });
    }
  }
  return out;
}

/** The adapter parameter names (A then B per adapted linear): the parameters a LoRA run trains. */
export function loraParamNames(config: ModelConfig, lora: LoraConfig): string[] {
  return adapters(config, lora).flatMap((s) => [s.a, s.b]);
}

/**
 * PEFT's init: A ~ kaiming_uniform_(a=√5), i.e. U(−1/√in, 1/√in) (bound = gain·√(3/fan_in) with
 * gain = √(2/(1+a²)) = √(1/3)), and B = 0, so a fresh adapter leaves the model unchanged.
 * Seeded with mulberry32: the same seed gives the same adapters everywhere.
 */
export function initLoraData(config: ModelConfig, lora: LoraConfig, seed: number): Record<string, { shape: number[]; data: Float32Array }> {
  const rand = mulberry32(seed);
  const out: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const s of adapters(config, lora)) {
    const bound = 1 / Math.sqrt(s.in);
    const a = new Float32Array(lora.rank * s.in);
    for (let i = 0; i < a.length; i++) a[i] = (2 * rand() - 1) * bound;
    out[s.a] = { shape: [lora.rank, s.in], data: a };
    out[s.b] = { shape: [s.out, lora.rank], data: new Float32Array(s.out * lora.rank) };
  }
  return out;
}

/** initLoraData uploaded as tensors (the caller owns them; merge them into the model's Params to use). */
export function createLoraParams(config: ModelConfig, lora: LoraConfig, seed: number): Params {
  const params: Params = {};
  for (const [name, { shape, data }] of Object.entries(initLoraData(config, lora, seed))) params[name] = tf.tensor(data, shape, 'float32');
  return params;
}

/**
 * W' = W + scale·B·A for every linear that has adapters in `params`; returns only the new
 * weight tensors, by their base names (the caller owns them). Base + merged gives a plain model.
 */
export function mergeLora(params: Params, lora: LoraConfig): Params {
  const scale = loraScale(lora);
  const merged: Params = {};
  for (const name of Object.keys(params)) {
    const m = /^(.*)\.lora_A\.weight$/.exec(name);
    if (!m) continue;
    const linear = m[1];
    const B = params[`${linear}.lora_B.weight`];
    const W = params[`${linear}.weight`];
    if (!B || !W) throw new Error(`adapter ${name} has no matching lora_B or base weight`);
    merged[`${linear}.weight`] = tf.tidy(() => tf.add(W, tf.mul(tf.matMul(B, params[name]), scale))); // (out, r) @ (r, in) → (out, in)
  }
  return merged;
}
