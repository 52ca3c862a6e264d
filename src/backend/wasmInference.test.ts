/**
 * The WASM inference kernels (wasmInference.ts) against the composites they stand in for
 * (model/layers.ts, the ops every gradient goes through): rotary bit for bit, the norms and the
 * gate within float32 rounding, on the shapes decoding and scoring give them.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { inferenceKernelsOn, layerNormInference, rmsNormInference, rotaryInference, swigluInference } from '../model/inferenceKernels';
import { applyRotary, layerNorm, rmsNorm, rotaryTables, silu } from '../model/layers';
import { tinyConfig } from '../model/tinyConfig';
import { relError, startTestBackend } from '../testing/fixtures';

const values = (shape: number[], seed: number) =>
  tf.tensor(Float32Array.from({ length: tf.util.sizeFromShape(shape) }, (_, i) => Math.sin(i * 0.61 + seed) * (1 + Math.cos(i * 0.07) * 3)), shape);

const maxRelDiff = async (a: tf.Tensor, b: tf.Tensor): Promise<number> => relError(await a.data(), await b.data());

describe('inference kernels on WASM', () => {
  beforeAll(() => startTestBackend('wasm'));

  it('are on for a forward without gradients only', () => {
    expect(inferenceKernelsOn({})).toBe(true);
    expect(inferenceKernelsOn({ trainable: new Set(['w']) })).toBe(false);
  });

  it.each([
    { shape: [1, 9, 1, 64], rd: 64, start: 37 }, // a decoding step, SmolLM2's heads
    { shape: [2, 4, 6, 32], rd: 8, start: 0 }, // a prompt, Pythia's partial rotary (rotary_pct 0.25)
  ])('rotary on $shape (rd $rd) gives the composite\'s bits', async ({ shape, rd, start }) => {
    const config = { ...tinyConfig({ hiddenSize: 64, numLayers: 1, numHeads: 2, seed: 0 }), headDim: shape[3], rotaryPct: rd / shape[3] };
    const { cos, sin } = rotaryTables(config, start, shape[2]);
    expect(cos.shape).toEqual([shape[2], rd]);
    const x = values(shape, 1) as tf.Tensor4D;
    const [fast, composite] = [rotaryInference(x, cos, sin), applyRotary(x, cos, sin, rd)];
    expect(await fast.data()).toEqual(await composite.data());
    tf.dispose([x, cos, sin, fast, composite]);
  });

  it.each([[1, 576], [2, 3, 64], [12, 32]])('RMSNorm and LayerNorm on %s rows agree within float32 rounding', async (...shape) => {
    const C = shape[shape.length - 1];
    const [x, w, b] = [values(shape, 2), values([C], 3), values([C], 4)];
    const pairs = [
      [rmsNormInference(x, w, 1e-5), rmsNorm(x, w, 1e-5)],
      [layerNormInference(x.reshape([-1, C]) as tf.Tensor2D, w, b, 1e-5), layerNorm(x.reshape([-1, C]) as tf.Tensor2D, w, b, 1e-5)],
    ];
    for (const [fast, composite] of pairs) expect(await maxRelDiff(fast, composite)).toBeLessThan(1e-6);
    tf.dispose([x, w, b, ...pairs.flat()]);
  });

  it('the gate silu(g)·u agrees within float32 rounding', async () => {
    const [g, u] = [values([3, 1536], 5) as tf.Tensor2D, values([3, 1536], 6) as tf.Tensor2D];
    const [fast, composite] = [swigluInference(g, u), tf.mul(silu(g), u)];
    expect(await maxRelDiff(fast, composite)).toBeLessThan(1e-6);
    tf.dispose([g, u, fast, composite]);
  });
});
