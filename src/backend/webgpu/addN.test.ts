import type * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { chunkedAddN } from './addN';

/** A stand-in backend: tensors are numbers in a map; AddN over more than `limit − 1` inputs fails like the real shader. */
function fakeBackend(limit: number) {
  const values = new Map<object, number>();
  let live = 0;
  const make = (v: number): tf.TensorInfo => {
    const dataId = {};
    values.set(dataId, v);
    live++;
    return { dataId, shape: [], dtype: 'float32' };
  };
  const calls: number[] = [];
  const original = ((args: { inputs: tf.TensorInfo[] }) => {
    calls.push(args.inputs.length);
    if (args.inputs.length > limit - 1) throw new Error('too many storage buffers');
    return make(args.inputs.reduce((s, t) => s + values.get(t.dataId)!, 0));
  }) as unknown as tf.KernelFunc;
  const backend = { device: { limits: { maxStorageBuffersPerShaderStage: limit } }, disposeData: (id: object) => (live--, values.delete(id)) };
  return { values, make, calls, original, backend, live: () => live };
}

describe('chunkedAddN (the WebGPU AddN fix)', () => {
  it.each([1, 2, 7, 8, 15, 28, 80])('sums %i inputs in dispatches of at most 7, freeing its partial sums', (n) => {
    const f = fakeBackend(8);
    const inputs = Array.from({ length: n }, (_, i) => f.make(i + 1));
    const out = chunkedAddN(f.original)({ inputs, backend: f.backend, attrs: {} } as unknown as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
    expect(f.values.get(out.dataId)).toBe((n * (n + 1)) / 2);
    expect(Math.max(...f.calls)).toBeLessThanOrEqual(7);
    expect(f.live()).toBe(n + 1); // the inputs and the result: no partial sum left behind
  });
});
