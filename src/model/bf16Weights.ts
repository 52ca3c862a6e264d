/**
 * bfloat16 copies of frozen weights, for decoding on a backend with a bfloat16 row-product kernel
 * (WASM: backend/rowDots.ts).
 *
 * Decoding streams every weight from memory once per token, so its speed is bytes per token: half
 * the bytes, about twice the tokens. A copy is made only of a weight whose every value is a bfloat16
 * value (what SmolLM2's and Qwen's bf16 files load as), so the copy loses nothing and the products
 * differ from float32 ones only in the order of their float32 sums. A weight with other values
 * (a float16 file's, a fine-tuned one's) gets no copy. Like fused.ts, the kernel is declared here
 * by name and the model asks tfjs whether the backend in use has it.
 */
import * as tf from '@tensorflow/tfjs-core';

/** (M, K) float32 rows times a bfloat16 copy of W (N, K) → (M, N): inputs { x, w } (w: the copy), attrs { N }. */
export const BF16_ROW_DOTS = 'Bf16RowDots';

/** Whether the backend in use multiplies by bfloat16 copies. */
export const bf16RowDotsOn = (): boolean => tf.getKernel(BF16_ROW_DOTS, tf.getBackend()) !== undefined;

/**
 * At most this many rows go through a copy: the kernel reads W once per W row and keeps it in cache
 * for the rows, but does every row's sums on one thread. More rows (a long prompt's prefill, a
 * scored batch) take the float32 W through XNNPACK's multithreaded product.
 */
export const BF16_MAX_ROWS = 16;

/** A weight's bfloat16 copy, and the float32 tensor it was made from (a copy serves that tensor only). */
export interface Bf16Copy {
  of: tf.Tensor;
  /** The bfloat16 values two to an int32, in toBf16Rows's order. */
  rows: tf.Tensor1D;
}

/** Rounds w in place to bfloat16 values by truncation (benchmarks and tests: weights as a bfloat16 file holds them). */
export function toBf16Values(w: Float32Array): Float32Array {
  const bits = new Uint32Array(w.buffer, w.byteOffset, w.length);
  for (let i = 0; i < bits.length; i++) bits[i] &= 0xffff0000;
  return w;
}

/** Whether every value of w is a bfloat16 value: its low 16 bits are zero. */
export function isBf16Exact(w: Float32Array): boolean {
  const bits = new Uint32Array(w.buffer, w.byteOffset, w.length);
  for (let i = 0; i < bits.length; i++) if ((bits[i] & 0xffff) !== 0) return false;
  return true;
}

/**
 * The kernel's layout: W's values in groups of 8 along each row, stored k0 k4 k1 k5 k2 k6 k3 k7.
 * Read as four 32-bit lanes, a group holds (k_j, k_j+4) in lane j, so one shift left by 16 gives
 * k0–k3 as float32 (bfloat16 → float32 is exactly that shift) and one mask gives k4–k7: two
 * one-cycle instructions per 8 weights, where widening by byte shuffles measured slower than
 * reading float32. Rows of a multiple of 8 values (the kernel needs 16) only.
 */
export function toBf16Rows(w: Float32Array): Uint16Array {
  if (w.length % 8 !== 0) throw new Error(`a bfloat16 row copy needs a multiple of 8 values, got ${w.length}`);
  const bits = new Uint32Array(w.buffer, w.byteOffset, w.length);
  const out = new Uint16Array(w.length);
  for (let g = 0; g < w.length; g += 8) {
    for (let j = 0; j < 4; j++) {
      out[g + 2 * j] = bits[g + j] >>> 16;
      out[g + 2 * j + 1] = bits[g + j + 4] >>> 16;
    }
  }
  return out;
}

/** W (N, K)'s bfloat16 copy, or null where it would round (or K is not a multiple of 16). Reads W to the host once. */
export function bf16Copy(w: tf.Tensor2D): Bf16Copy | null {
  if (w.shape[1] % 16 !== 0 || w.dtype !== 'float32') return null;
  const data = w.dataSync() as Float32Array;
  if (!isBf16Exact(data)) return null;
  const half = toBf16Rows(data);
  return { of: w, rows: tf.tensor1d(new Int32Array(half.buffer), 'int32') };
}

/** x (M, K) · Wᵀ through W's bfloat16 copy → (M, N). Inference only: no gradient. */
export function bf16Product(x: tf.Tensor2D, copy: Bf16Copy): tf.Tensor2D {
  return tf.engine().runKernel(BF16_ROW_DOTS, { x, w: copy.rows }, { N: copy.of.shape[0] } as unknown as tf.NamedAttrMap) as tf.Tensor2D;
}
