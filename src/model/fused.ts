/**
 * Fused kernels the model uses where the running backend has them registered (backend/webgpu:
 * one dispatch where the stock ops take tens), and the stock tfjs composites everywhere else.
 * The kernels are declared here by name with their gradients, which are themselves fused kernels,
 * so the model never imports a backend: it asks tfjs whether a kernel exists for the backend in use.
 * The composite is the reference each fused kernel is tested against (backend/webgpu/kernels.test.ts).
 */
import * as tf from '@tensorflow/tfjs-core';

export const KERNELS = {
  layerNorm: 'NeoXLayerNorm',
  layerNormGrad: 'NeoXLayerNormGrad',
  biasGelu: 'NeoXBiasGelu',
  biasGeluGrad: 'NeoXBiasGeluGrad',
  attention: 'NeoXCausalAttention',
  attentionGrad: 'NeoXCausalAttentionGrad',
  columnSum: 'NeoXColumnSum',
  crossEntropy: 'NeoXCrossEntropy',
  crossEntropyGrad: 'NeoXCrossEntropyGrad',
} as const;

/** Whether the backend in use has the fused kernels (registered only while they are turned on). */
export const fusedKernelsOn = (): boolean => tf.getKernel(KERNELS.attention, tf.getBackend()) !== undefined;

const run = <T extends tf.Tensor | tf.Tensor[]>(name: string, inputs: tf.NamedTensorMap, attrs: Record<string, number> = {}): T =>
  tf.engine().runKernel(name, inputs, attrs as unknown as tf.NamedAttrMap) as unknown as T;

type Saver = tf.GradSaveFunc;

/**
 * A fused forward kernel with a fused backward kernel, as one differentiable op (tf.customGrad:
 * one gradient function returns every input's gradient, so kernels that compute several at once,
 * like LayerNorm's dx, dγ and dβ, run once).
 */
function fusedOp(forward: (xs: tf.Tensor[]) => { value: tf.Tensor; save: tf.Tensor[] }, backward: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[]) {
  return tf.customGrad((...args: (tf.Tensor | Saver)[]) => {
    const save = args.pop() as Saver;
    const { value, save: keep } = forward(args as tf.Tensor[]);
    save(keep);
    return { value, gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => backward(dy as tf.Tensor, saved) };
  });
}

/** LayerNorm over the last dimension: (x − mean)/√(var + eps)·γ + β, x (N, C). */
export function layerNormFused(x: tf.Tensor2D, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor2D {
  const f = fusedOp(
    ([x, gamma, beta]) => ({ value: run(KERNELS.layerNorm, { x, gamma, beta }, { eps }), save: [x, gamma] }),
    (dy, [x, gamma]) => run<tf.Tensor[]>(KERNELS.layerNormGrad, { dy, x, gamma }, { eps }), // [dx, dγ, dβ]
  );
  return f(x, gamma, beta) as tf.Tensor2D;
}

/** y + bias for y (N, F): tfjs's add forward, and the bias's gradient as one column sum. */
export function biasAddFused(y: tf.Tensor2D, bias: tf.Tensor): tf.Tensor2D {
  const f = fusedOp(
    ([y, bias]) => ({ value: tf.add(y, bias), save: [] }),
    (dy) => [dy, run<tf.Tensor>(KERNELS.columnSum, { x: dy })], // (N, F), (F,)
  );
  return f(y, bias) as tf.Tensor2D;
}

/** Exact-erf GELU of x + bias, x (N, F), bias (F). */
export function biasGeluFused(x: tf.Tensor2D, bias: tf.Tensor): tf.Tensor2D {
  const f = fusedOp(
    ([x, bias]) => ({ value: run(KERNELS.biasGelu, { x, bias }), save: [x, bias] }),
    (dy, [x, bias]) => {
      const dpre = run<tf.Tensor>(KERNELS.biasGeluGrad, { dy, x, bias }); // (N, F)
      return [dpre, run<tf.Tensor>(KERNELS.columnSum, { x: dpre })]; // (F,)
    },
  );
  return f(x, bias) as tf.Tensor2D;
}

export interface AttentionShape {
  B: number;
  T: number;
  heads: number;
  headSize: number;
  rotaryDims: number;
}

/**
 * GPT-NeoX causal self-attention from the fused projection qkv (B·T, 3C) (per head [q | k | v],
 * rotary on the first rotaryDims of q and k with the (T, rd) tables) to the merged heads
 * (B·T, C): split, rotary, scores, mask, softmax, ·V and merge in one kernel. It also keeps each
 * query's logsumexp (B, nH, T) for the backward, which recomputes the probabilities from it
 * instead of keeping the (T × T) scores. Packed rows pass their positions (B·T) int32 (see
 * layers.ts PackedRows): each query then sees its own example's keys, rotated at its own positions.
 */
export function causalAttentionFused(qkv: tf.Tensor2D, cos: tf.Tensor2D, sin: tf.Tensor2D, s: AttentionShape, positions?: tf.Tensor1D): tf.Tensor2D {
  const attrs = { B: s.B, T: s.T, heads: s.heads, headSize: s.headSize, rotaryDims: s.rotaryDims, packed: positions ? 1 : 0 };
  const tables: tf.NamedTensorMap = positions ? { cos, sin, pos: positions } : { cos, sin };
  // cos and sin are constants, not inputs to differentiate; they are saved like the rest, since
  // tf.grads frees the tensors a gradient only closes over before the backward pass runs.
  const f = fusedOp(
    ([qkv]) => {
      const [y, lse] = run<tf.Tensor[]>(KERNELS.attention, { qkv, ...tables }, attrs); // (B·T, C), (B, nH, T)
      return { value: y, save: [qkv, y, lse, ...Object.values(tables)] };
    },
    (dy, [qkv, y, lse, cos, sin, pos]) => [run<tf.Tensor>(KERNELS.attentionGrad, { qkv, cos, sin, ...(pos ? { pos } : {}), y, lse, dy }, attrs)], // (B·T, 3C)
  );
  return f(qkv) as tf.Tensor2D;
}

/**
 * Per-row cross-entropy of a chunk of logits (n, V): weights · (logsumexp − logit of the target),
 * (n,). Not differentiable by itself: model/loss.ts's lmLoss is the op, and calls
 * crossEntropyGradFused in its own backward.
 */
export const crossEntropyFused = (logits: tf.Tensor, targets: tf.Tensor1D, weights: tf.Tensor1D): tf.Tensor1D => run(KERNELS.crossEntropy, { logits, targets, weights });

/** The gradient of Σ crossEntropyFused · dy in the logits: (softmax − onehot(target)) · weights · dy, (n, V). */
export const crossEntropyGradFused = (logits: tf.Tensor, targets: tf.Tensor1D, weights: tf.Tensor1D, dy: tf.Tensor): tf.Tensor2D =>
  run(KERNELS.crossEntropyGrad, { logits, targets, weights, dy: tf.reshape(dy, [1]) });
