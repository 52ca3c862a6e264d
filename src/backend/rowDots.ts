/**
 * out = a·Wᵀ for a few rows a (M, K) and a weight W (N, K) held as float32 or as bfloat16 (in
 * model/bf16Weights.ts's layout), in WASM SIMD inside tfjs-backend-wasm's own memory: the operands
 * are tensors on its heap, read in place.
 *
 * Why: decoding multiplies one row by every weight per token, so it streams every weight from
 * memory once per token, and on this class of machine memory, not arithmetic, sets the pace (about
 * 20 GB/s for one core, 18 GB/s measured for XNNPACK's two threads on float32 weights). A bfloat16
 * copy halves the bytes. It is exact for weights that are bfloat16 values (what SmolLM2's and
 * Qwen's files hold: bf16 → f32 is a 16-bit shift), and the sums are float32 as in every product.
 * XNNPACK has no bfloat16 product, so this is ours. For float32 W it replaces a scalar JavaScript
 * loop (a trainer's samples decode from W as it is): measured in Node on 134 M weights, one row,
 * float32 21 ms (25 GB/s) and bfloat16 15.5 ms per pass, on one thread.
 *
 * Loop order: for each of W's rows, every row of a, so that a W row (K ≤ a few thousand values)
 * is fetched from memory once and read from cache for the others. Sums run in four float32x4
 * accumulators over 16 values per step, so K must be a multiple of 16 (see rowDotsFit).
 */
import * as tf from '@tensorflow/tfjs-core';
import { BF16_ROW_DOTS } from '../model/bf16Weights';
import { Body, encodeModule, I32, V128 } from './wasmBinary';
import { heapAddress, wasmBackendOf } from './wasmHeap';

export type RowDotWeights = 'f32' | 'bf16';

/** dot_<weights>(a, w, out, M, K, N): byte addresses of a (M, K) f32, W (N, K), out (M, N) f32. */
function dotKernel(weights: RowDotWeights): Body {
  const f = new Body(['a', 'w', 'out', 'M', 'K', 'N']);
  f.local(I32, 'n', 'r', 'ap', 'wp', 'we', 'wrow', 'rowBytes', 'op');
  f.local(V128, 'acc0', 'acc1', 'acc2', 'acc3', 'high', 'v');
  const accs = ['acc0', 'acc1', 'acc2', 'acc3'];
  const wBytes = weights === 'f32' ? 4 : 2;
  f.get('K').i32(wBytes).mul().set('rowBytes');
  f.get('w').set('wrow');
  f.i32x4([-65536, -65536, -65536, -65536]).set('high');
  f.i32(0).set('n');
  f.loop(() => {
    f.i32(0).set('r');
    f.get('a').set('ap');
    f.get('out').get('n').i32(4).mul().add().set('op');
    f.loop(() => {
      f.get('wrow').set('wp');
      f.get('wrow').get('rowBytes').add().set('we');
      for (const acc of accs) f.zero().set(acc);
      f.loop(() => {
        // 16 weights: four float32x4 of them times four of a's, into the four sums (bfloat16: two
        // 16-byte loads, each widened by a shift and a mask; see toBf16Rows).
        for (let j = 0; j < 4; j++) {
          if (weights === 'bf16' && j % 2 === 0) f.get('wp').load(8 * j).set('v');
          f.get(accs[j]);
          if (weights === 'f32') f.get('wp').load(16 * j);
          else if (j % 2 === 0) f.get('v').i32(16).i32x4Shl();
          else f.get('v').get('high').and();
          f.get('ap').load(16 * j).f32x4Mul().f32x4Add().set(accs[j]);
        }
        f.get('wp').i32(16 * wBytes).add().set('wp');
        f.get('ap').i32(64).add().set('ap');
        f.get('wp').get('we').ltU().brIf(0);
      });
      // out[r, n] = the four sums' lanes added: ((acc0 + acc1) + (acc2 + acc3)), then lane by lane.
      f.get('op');
      f.get('acc0').get('acc1').f32x4Add().get('acc2').get('acc3').f32x4Add().f32x4Add().set('acc0');
      f.get('acc0').lane(0).get('acc0').lane(1).f32Add().get('acc0').lane(2).f32Add().get('acc0').lane(3).f32Add();
      f.f32Store();
      f.get('op').get('N').i32(4).mul().add().set('op');
      f.get('r').i32(1).add().set('r');
      f.get('r').get('M').ltU().brIf(0);
    });
    f.get('wrow').get('rowBytes').add().set('wrow');
    f.get('n').i32(1).add().set('n');
    f.get('n').get('N').ltU().brIf(0);
  });
  return f;
}

export interface RowDots {
  /** out (M, N) = a (M, K) · Wᵀ, W (N, K) in `weights`; byte addresses in the memory the kernels were made for. */
  run(weights: RowDotWeights, a: number, w: number, out: number, M: number, K: number, N: number): void;
}

/** Whether rowDots takes a product with inner size K (K a multiple of 16, and at least one row of each). */
export const rowDotsFit = (M: number, K: number, N: number): boolean => M > 0 && N > 0 && K > 0 && K % 16 === 0;

/** The kernels, compiled against `memory` (tfjs-backend-wasm's, shared when it runs threads). */
export function rowDotsFor(memory: WebAssembly.Memory): RowDots {
  const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
  const bytes = encodeModule([{ name: 'dot_f32', body: dotKernel('f32') }, { name: 'dot_bf16', body: dotKernel('bf16') }], shared);
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
  const kernels = instance.exports as Record<`dot_${RowDotWeights}`, (...args: number[]) => void>;
  return {
    run(weights, a, w, out, M, K, N) {
      if (!rowDotsFit(M, K, N)) throw new Error(`rowDots: K = ${K} is not a positive multiple of 16, or M = ${M} or N = ${N} is 0`);
      kernels[`dot_${weights}`](a, w, out, M, K, N);
    },
  };
}

const made = new WeakMap<object, RowDots | null>();

/**
 * The kernels for a WASM backend, made once: null where its memory cannot be found (the threaded
 * build keeps it as Module.wasmMemory, the plain one exports it) or this engine has no SIMD.
 */
export function rowDotsOf(backend: unknown): RowDots | null {
  const b = wasmBackendOf(backend);
  if (made.has(b)) return made.get(b)!;
  const memory = b.wasm?.wasmMemory ?? b.wasm?.asm?.memory;
  let kernels: RowDots | null;
  try {
    kernels = memory instanceof WebAssembly.Memory ? rowDotsFor(memory) : null;
  } catch {
    kernels = null; // no SIMD (or a memory it cannot import): the callers keep their own paths
  }
  made.set(b, kernels);
  return kernels;
}

/** Registers BF16_ROW_DOTS on 'wasm' where the kernels can be made (see model/bf16Weights.ts). */
export function registerBf16RowDots(): void {
  if (tf.getKernel(BF16_ROW_DOTS, 'wasm') || !rowDotsOf(tf.findBackend('wasm'))) return;
  tf.registerKernel({
    kernelName: BF16_ROW_DOTS,
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs, backend }) => {
      const { x, w } = inputs as { x: tf.TensorInfo; w: tf.TensorInfo };
      const N = (attrs as unknown as { N: number }).N;
      const [M, K] = x.shape;
      if (tf.util.sizeFromShape(w.shape) * 2 !== N * K) throw new Error(`${BF16_ROW_DOTS}: a copy of ${tf.util.sizeFromShape(w.shape) * 2} values is not ${N}×${K}`);
      const out = wasmBackendOf(backend).makeOutput([M, N], 'float32');
      if (M > 0) rowDotsOf(backend)!.run('bf16', heapAddress(backend, x), heapAddress(backend, w), heapAddress(backend, out), M, K, N);
      return out;
    },
  });
}
