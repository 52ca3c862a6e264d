/**
 * AdamW as torch.optim.AdamW computes it (decoupled weight decay, bias-corrected moments),
 * with weight decay per parameter name and the learning rate given at every step.
 *
 * Ownership: the optimizer owns its moment tensors (m, v) and disposes them itself. `step`
 * neither keeps nor disposes the params and grads it is given; the parameters it returns are
 * new tensors, the caller's, and the caller disposes the old ones once it has swapped them in.
 * `stepOnDevice` disposes the old parameters it stepped itself (see there); grads stay the caller's.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig } from '../model/config';
import { paramSpecs, type Params } from '../model/params';
import { OPTIMIZER_KERNELS } from './deviceOptimizer';
import type { OptimizerConfig } from './types';

/** The hyperparameters that stay fixed for a run (the learning rate comes with each step). */
export type AdamWOptions = Pick<OptimizerConfig, 'weightDecay' | 'beta1' | 'beta2' | 'eps'>;

/** Whether the parameter called `name` gets weight decay. */
export type DecayRule = (name: string) => boolean;

/** The factor on the step's learning rate for the parameter called `name` (torch's per-group lr; LoRA+ gives B a larger one). */
export type LrScale = (name: string) => number;

/**
 * What a checkpoint stores to resume the optimizer: the number of steps taken and both moments
 * per parameter, flattened in the parameter's row-major order.
 */
export interface AdamWState {
  step: number;
  m: Record<string, Float32Array>;
  v: Record<string, Float32Array>;
}

/** PEFT/transformers LoRA adapter weights: `…lora_A.weight`, or `…lora_A.default.weight` inside PEFT. */
const LORA_WEIGHT = /\.lora_[AB]\.(?:\w+\.)?weight$/;

/**
 * Weight decay as the model's parameter table assigns it: matrices (embeddings, linear weights)
 * decay; biases and layer norms do not. LoRA A and B matrices decay too, as they do in the HF
 * Trainer (they are Linear weights, so not in its no-decay list). Any other name throws, so a
 * parameter nobody classified cannot slip through with the wrong rule.
 */
export function decayFromSpecs(config: ModelConfig): DecayRule {
  const table = new Map(paramSpecs(config).map((s) => [s.name, s.decay]));
  return (name) => {
    const decay = table.get(name);
    if (decay !== undefined) return decay;
    if (LORA_WEIGHT.test(name)) return true;
    throw new Error(`no weight-decay rule for parameter "${name}": it is neither a parameter of this model nor a LoRA weight`);
  };
}

export class AdamW {
  private t = 0;
  private disposed = false;
  // (size,) each: flat, so a saved state needs no shapes; reshapes are free views in tfjs.
  private m: Params = {};
  private v: Params = {};

  constructor(
    private readonly decay: DecayRule,
    private readonly opts: AdamWOptions,
    private readonly lrScale: LrScale = () => 1,
  ) {
    const { weightDecay, beta1, beta2, eps } = opts;
    if (!(weightDecay >= 0)) throw new Error(`weight decay must be ≥ 0, got ${weightDecay}`);
    if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) throw new Error(`betas must be in [0, 1), got ${beta1}, ${beta2}`);
    if (!(eps > 0)) throw new Error(`eps must be > 0, got ${eps}`);
  }

  /**
   * Resume from a checkpoint's state (replacing any state this optimizer had): the next `step`
   * continues exactly where that run was, bit for bit on the same backend. The arrays are
   * copied (the CPU backend would otherwise adopt them as its storage); the caller keeps them.
   */
  load(state: AdamWState): void {
    this.checkLive();
    const names = Object.keys(state.m);
    if (!Number.isInteger(state.step) || state.step < 0) throw new Error(`optimizer state: step must be a whole number ≥ 0, got ${state.step}`);
    if (Object.keys(state.v).length !== names.length || names.some((n) => state.v[n]?.length !== state.m[n].length)) {
      throw new Error('optimizer state: m and v do not cover the same parameters with the same sizes');
    }
    if ((state.step === 0) !== (names.length === 0)) throw new Error(`optimizer state: ${names.length} moments after ${state.step} steps`);
    tf.dispose([...Object.values(this.m), ...Object.values(this.v)]);
    this.m = {};
    this.v = {};
    for (const n of names) {
      this.m[n] = tf.keep(tf.tensor1d(state.m[n].slice(), 'float32'));
      this.v[n] = tf.keep(tf.tensor1d(state.v[n].slice(), 'float32'));
    }
    this.t = state.step;
  }

  /** Optimizer steps taken so far (torch's state['step']). */
  get steps(): number {
    return this.t;
  }

  /**
   * One AdamW step with learning rate `lr` (times lrScale(name): torch's per-group learning
   * rates) for every parameter named in `grads` (the trainable ones; `params` may hold more).
   * Per parameter, as torch.optim.AdamW with t = steps + 1:
   *   p ← p·(1 − lr·wd)            (only where decay(name); wd = 0 elsewhere)
   *   m ← β1·m + (1 − β1)·g,  v ← β2·v + (1 − β2)·g²
   *   p ← p − lr/(1 − β1ᵗ) · m / (√v / √(1 − β2ᵗ) + eps)
   * Returns the new parameters by name (new tensors; see the file comment for ownership).
   * The trainable set must stay the same from step to step, since t counts steps for all of them.
   */
  step(params: Params, grads: Params, lr: number): Params {
    const { names, decays, lrs } = this.validate(params, grads, lr);
    const { weightDecay, beta1, beta2, eps } = this.opts;
    const t = this.t + 1;
    const bc2Sqrt = Math.sqrt(1 - beta2 ** t);
    const out: Params = {};
    // A tidy per parameter, and one per intermediate, so that the step's temporaries stay at a
    // few copies of one parameter (for Pythia-70m's embeddings, each copy is 100 MB).
    names.forEach((n, i) => {
      const p = params[n];
      const oldM = this.m[n];
      const oldV = this.v[n];
      const stepSize = lrs[i] / (1 - beta1 ** t);
      const next = tf.tidy(() => {
        const g = tf.reshape(grads[n], [-1]); // (size,)
        // torch starts both moments at zero; at the first step the β·0 terms are simply left out.
        const m = tf.tidy(() => (oldM ? tf.add(tf.mul(oldM, beta1), tf.mul(g, 1 - beta1)) : tf.mul(g, 1 - beta1))); // (size,)
        const v = tf.tidy(() => {
          const g2 = tf.mul(tf.square(g), 1 - beta2); // (size,)
          return oldV ? tf.add(tf.mul(oldV, beta2), g2) : g2;
        });
        const update = tf.tidy(() => tf.mul(tf.div(m, tf.add(tf.div(tf.sqrt(v), bc2Sqrt), eps)), stepSize)); // (size,)
        const decayed = decays[i] && weightDecay > 0 ? tf.mul(p, 1 - lrs[i] * weightDecay) : p; // like p
        return { p: tf.sub(decayed, tf.reshape(update, p.shape)), m, v };
      });
      tf.dispose([oldM, oldV].filter((x) => x !== undefined));
      out[n] = next.p;
      // keep: a caller's enclosing tf.tidy must not free the optimizer's state.
      this.m[n] = tf.keep(next.m);
      this.v[n] = tf.keep(next.v);
    });
    this.t = t;
    return out;
  }

  /**
   * step() on the device, with nothing read back (see deviceOptimizer.ts): the gradients are
   * scaled by ctl's clip factor first, and where ctl's finite flag is 0 nothing changes (the
   * returned parameters equal the old; call discardLastStep). The moments are updated in place.
   * Unlike step(), this consumes the stepped parameters: each old one is disposed as soon as its
   * new one exists, so the update holds one parameter's size more, not a second set of weights
   * (Pythia-160m: 155 MB instead of 650 MB).
   */
  stepOnDevice(params: Params, grads: Params, lr: number, ctl: tf.Tensor1D): Params {
    const { names, decays, lrs } = this.validate(params, grads, lr);
    const { weightDecay, beta1, beta2, eps } = this.opts;
    const t = this.t + 1;
    const common = { beta1, beta2, eps, bc2Sqrt: Math.sqrt(1 - beta2 ** t) };
    const out: Params = {};
    names.forEach((n, i) => {
      // torch starts both moments at zero: β·0 adds exactly nothing, as step()'s first step.
      this.m[n] ??= tf.keep(tf.zeros([grads[n].size]));
      this.v[n] ??= tf.keep(tf.zeros([grads[n].size]));
      const attrs = { ...common, stepSize: lrs[i] / (1 - beta1 ** t), decay: decays[i] && weightDecay > 0 ? 1 - lrs[i] * weightDecay : 1 };
      const inputs = { p: params[n], g: grads[n], m: this.m[n], v: this.v[n], ctl };
      out[n] = tf.engine().runKernel(OPTIMIZER_KERNELS.adamw, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
      params[n].dispose();
    });
    this.t = t;
    return out;
  }

  /** Uncounts the last stepOnDevice, which changed nothing because its gradients were not finite. */
  discardLastStep(): void {
    if (this.t > 0) this.t--;
    if (this.t === 0) {
      // Back to no steps: the zero moments the step made go too, as if it never ran.
      tf.dispose([...Object.values(this.m), ...Object.values(this.v)]);
      this.m = {};
      this.v = {};
    }
  }

  /** Checks a step's inputs before any state changes; returns the names, their decay rule and their learning rates. */
  private validate(params: Params, grads: Params, lr: number): { names: string[]; decays: boolean[]; lrs: number[] } {
    this.checkLive();
    if (!(lr >= 0 && Number.isFinite(lr))) throw new Error(`learning rate must be finite and ≥ 0, got ${lr}`);
    const names = Object.keys(grads);
    for (const n of names) {
      if (!params[n]) throw new Error(`a gradient for "${n}", which is not a parameter`);
      if (!tf.util.arraysEqual(params[n].shape, grads[n].shape)) throw new Error(`gradient "${n}" has shape [${grads[n].shape}], the parameter [${params[n].shape}]`);
    }
    const tracked = Object.keys(this.m);
    if (this.t > 0 && (tracked.length !== names.length || names.some((n) => !this.m[n] || this.m[n].size !== grads[n].size))) {
      throw new Error(`the trained parameters changed between steps: had [${tracked.join(', ')}], got [${names.join(', ')}]`);
    }
    const lrs = names.map((n) => lr * this.lrScale(n));
    const bad = lrs.findIndex((x) => !(x >= 0 && Number.isFinite(x)));
    if (bad >= 0) throw new Error(`the learning rate of "${names[bad]}" must be finite and ≥ 0, got ${lrs[bad]}`);
    return { names, decays: names.map((n) => this.decay(n)), lrs };
  }

  /** A host copy of the state for a checkpoint (copies: the caller may transfer or keep them). */
  async state(): Promise<AdamWState> {
    this.checkLive();
    const m: Record<string, Float32Array> = {};
    const v: Record<string, Float32Array> = {};
    for (const n of Object.keys(this.m)) {
      // slice(): the CPU backend hands out its own backing array, which must not escape.
      m[n] = ((await this.m[n].data()) as Float32Array).slice();
      v[n] = ((await this.v[n].data()) as Float32Array).slice();
    }
    return { step: this.t, m, v };
  }

  /** Frees the moments; the optimizer cannot step afterwards. */
  dispose(): void {
    tf.dispose([...Object.values(this.m), ...Object.values(this.v)]);
    this.m = {};
    this.v = {};
    this.disposed = true;
  }

  private checkLive(): void {
    if (this.disposed) throw new Error('this optimizer was disposed');
  }
}
