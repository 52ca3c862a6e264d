/**
 * The inference kernels model/inferenceKernels.ts declares, for the WASM backend: plain loops over
 * tfjs's heap, read and written in place. Decoding runs them on a row or a few (C = 576 for
 * SmolLM2-135M), where one op's bookkeeping in tfjs costs more than the arithmetic.
 *
 * Rotary rounds exactly as the composite in layers.ts (each product and the sum to float32, which a
 * double-precision product of two float32 values then Math.fround gives), so it is bit for bit the
 * same. The norms sum in double precision where tfjs sums in float32, and the gate's sigmoid is
 * Math.exp's: each within a float32 rounding or two of the composite.
 */
import * as tf from '@tensorflow/tfjs-core';
import { INFERENCE_KERNELS } from '../model/inferenceKernels';
import { floatOutput } from './wasmHeap';

type Args = Parameters<tf.KernelFunc>[0];

/** An output shaped as the first named input, and float32 views of the named inputs and of it. */
function views(args: Args, names: string[]): { out: tf.TensorInfo; ins: Float32Array[]; o: Float32Array } {
  const inputs = args.inputs as Record<string, tf.TensorInfo>;
  for (const n of names) if (inputs[n].dtype !== 'float32') throw new Error(`${n} must be float32, got ${inputs[n].dtype}`);
  return floatOutput(args.backend, inputs[names[0]].shape, names.map((n) => inputs[n]));
}

const rmsNorm: tf.KernelFunc = (args) => {
  const { eps } = args.attrs as unknown as { eps: number };
  const { out, ins, o } = views(args, ['x', 'weight']);
  const [x, w] = ins;
  const C = w.length;
  for (let r = 0; r < x.length; r += C) {
    let ss = 0;
    for (let i = r; i < r + C; i++) ss += x[i] * x[i];
    const inv = Math.fround(1 / Math.sqrt(Math.fround(Math.fround(ss / C) + eps)));
    for (let i = 0; i < C; i++) o[r + i] = Math.fround(x[r + i] * inv) * w[i];
  }
  return out;
};

const layerNorm: tf.KernelFunc = (args) => {
  const { eps } = args.attrs as unknown as { eps: number };
  const { out, ins, o } = views(args, ['x', 'weight', 'bias']);
  const [x, w, b] = ins;
  const C = w.length;
  for (let r = 0; r < x.length; r += C) {
    let sum = 0;
    for (let i = r; i < r + C; i++) sum += x[i];
    const mean = sum / C;
    let ss = 0;
    for (let i = r; i < r + C; i++) ss += (x[i] - mean) * (x[i] - mean);
    const inv = 1 / Math.sqrt(Math.fround(ss / C) + eps);
    for (let i = 0; i < C; i++) o[r + i] = (x[r + i] - mean) * inv * w[i] + b[i];
  }
  return out;
};

const rotary: tf.KernelFunc = (args) => {
  const { out, ins, o } = views(args, ['x', 'cos', 'sin']);
  const [x, cos, sin] = ins;
  const [, , T, hs] = (args.inputs as { x: tf.TensorInfo }).x.shape;
  const rd = (args.inputs as { cos: tf.TensorInfo }).cos.shape[1];
  const half = rd / 2;
  o.set(x); // dims past rd pass through
  for (let base = 0, row = 0; base < x.length; base += hs, row++) {
    const t = (row % T) * rd;
    for (let i = 0; i < half; i++) {
      const [a, b] = [x[base + i], x[base + i + half]];
      o[base + i] = Math.fround(a * cos[t + i]) + Math.fround(-b * sin[t + i]);
      o[base + i + half] = Math.fround(b * cos[t + i + half]) + Math.fround(a * sin[t + i + half]);
    }
  }
  return out;
};

const swiglu: tf.KernelFunc = (args) => {
  const { out, ins, o } = views(args, ['gate', 'up']);
  const [g, u] = ins;
  for (let i = 0; i < g.length; i++) o[i] = (g[i] / (1 + Math.exp(-g[i]))) * u[i];
  return out;
};

/** Registers the inference kernels on 'wasm', once. */
export function registerInferenceKernels(): void {
  for (const [kernelName, kernelFunc] of [
    [INFERENCE_KERNELS.rmsNorm, rmsNorm],
    [INFERENCE_KERNELS.layerNorm, layerNorm],
    [INFERENCE_KERNELS.rotary, rotary],
    [INFERENCE_KERNELS.swiglu, swiglu],
  ] as const) {
    if (!tf.getKernel(kernelName, 'wasm')) tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
  }
}
