/**
 * What our WASM kernels use of tfjs-backend-wasm's BackendWasm (its class is not exported in a
 * form the kernels can import), in one place: making outputs, viewing tensors on the heap, their
 * byte addresses, and swapping a registered kernel for a wrapper around it.
 */
import * as tf from '@tensorflow/tfjs-core';

export interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: tf.DataId): boolean;
  dataIdMap: { get(id: tf.DataId): { memoryOffset: number } | undefined };
  wasm: { wasmMemory?: WebAssembly.Memory; asm?: { memory?: WebAssembly.Memory } };
}

export const wasmBackendOf = (backend: unknown): WasmBackendLike => backend as WasmBackendLike;

/** The byte address of a tensor's data on the heap (it never moves: a growing heap keeps offsets). */
export const heapAddress = (backend: unknown, t: tf.TensorInfo): number => wasmBackendOf(backend).dataIdMap.get(t.dataId)!.memoryOffset;

/**
 * A float32 output of `shape`, then float32 views of the inputs and of it: the views come after
 * the output is made, since making it may grow the heap, which replaces the buffer views read.
 */
export function floatOutput(backend: unknown, shape: number[], inputs: tf.TensorInfo[]): { out: tf.TensorInfo; ins: Float32Array[]; o: Float32Array } {
  const b = wasmBackendOf(backend);
  const out = b.makeOutput([...shape], 'float32');
  return { out, ins: inputs.map((t) => b.typedArrayFromHeap(t) as Float32Array), o: b.typedArrayFromHeap(out) as Float32Array };
}

/** Replaces 'wasm''s kernel `name` by make(the original), where tfjs registered one. */
export function wrapWasmKernel(name: string, make: (original: tf.KernelFunc) => tf.KernelFunc): void {
  const original = tf.getKernel(name, 'wasm');
  if (!original) return;
  tf.unregisterKernel(name, 'wasm');
  tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: make(original.kernelFunc) });
}
