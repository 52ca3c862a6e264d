/**
 * One kernel each for the small ops a decoding step runs in every layer (RMSNorm, LayerNorm,
 * rotary, Llama's gate), for inference on a backend that has them (WASM: backend/wasmInference.ts).
 *
 * Why: decoding one token of SmolLM2-135M's shape ran about 1,600 tfjs ops, and with the products
 * reading bfloat16 copies (bf16Weights.ts) the ops' own bookkeeping, about 12 µs each in tfjs's
 * engine whatever their size, took longer than the products: 20 of 34 ms per token, measured in
 * Node. A composite RMSNorm is six ops, rotary seven and the gate three; each here is one.
 *
 * They have no gradients: the model takes them only where ctx.trainable is unset, and every
 * gradient the studio takes goes through objective.ts, which sets it. Like fused.ts, the kernels
 * are declared here by name and the model asks tfjs whether the backend in use has them; the
 * composites in layers.ts are their reference (backend/wasmInference.test.ts).
 */
import * as tf from '@tensorflow/tfjs-core';

export const INFERENCE_KERNELS = {
  /** inputs { x (…, C), weight (C) }, attrs { eps }: weight · x / √(mean(x²) + eps) per row. */
  rmsNorm: 'InferenceRmsNorm',
  /** inputs { x (…, C), weight, bias (C) }, attrs { eps }: (x − mean) / √(var + eps) · weight + bias per row. */
  layerNorm: 'InferenceLayerNorm',
  /** inputs { x (B, n, T, hs), cos, sin (T, rd) }: x·cos + rotate_half(x)·sin on each head's first rd dims. */
  rotary: 'InferenceRotary',
  /** inputs { gate, up } of one shape: silu(gate)·up, Llama's gated MLP. */
  swiglu: 'InferenceSwiGLU',
} as const;

/** Whether a forward on ctx may use the inference kernels: it takes no gradient, and the backend has them. */
export const inferenceKernelsOn = (ctx: { trainable?: ReadonlySet<string> }): boolean =>
  !ctx.trainable && tf.getKernel(INFERENCE_KERNELS.rotary, tf.getBackend()) !== undefined;

const run = (name: string, inputs: tf.NamedTensorMap, attrs: Record<string, number> = {}): tf.Tensor =>
  tf.engine().runKernel(name, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;

export const rmsNormInference = (x: tf.Tensor, weight: tf.Tensor, eps: number): tf.Tensor => run(INFERENCE_KERNELS.rmsNorm, { x, weight }, { eps });

export const layerNormInference = (x: tf.Tensor2D, weight: tf.Tensor, bias: tf.Tensor, eps: number): tf.Tensor2D =>
  run(INFERENCE_KERNELS.layerNorm, { x, weight, bias }, { eps }) as tf.Tensor2D;

export const rotaryInference = (x: tf.Tensor4D, cos: tf.Tensor2D, sin: tf.Tensor2D): tf.Tensor4D => run(INFERENCE_KERNELS.rotary, { x, cos, sin }) as tf.Tensor4D;

export const swigluInference = (gate: tf.Tensor2D, up: tf.Tensor2D): tf.Tensor2D => run(INFERENCE_KERNELS.swiglu, { gate, up }) as tf.Tensor2D;
