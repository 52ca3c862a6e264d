/**
 * Replacements for tfjs-backend-wasm 4.22 kernels that are needlessly slow.
 *
 * Slice (and SplitV and Unpack, which slice once per output) starts with `backend.readSync(x)`: a copy of
 * the whole input out of the WASM heap into a new JS buffer, on every call. Slicing the LM head's
 * 103 MB weight into vocabulary blocks cost 1.2 s per training step that way; splitting q, k, v
 * copies the (B·T, 3C) projection three times. These versions read the input in place through a
 * heap view and copy only what the slice keeps: the same values, in the same order.
 * BatchMatMul: see batchMatMul below.
 */
import * as tf from '@tensorflow/tfjs-core';
import { rowDotsFit, rowDotsOf } from './rowDots';
import { heapAddress, type WasmBackendLike } from './wasmHeap';

type Values = Float32Array | Int32Array | Uint8Array;

/** Copies x[begin : begin + size] (row-major, any rank) from a heap view into out. */
function copySlice(x: Values, shape: number[], begin: number[], size: number[], out: Values): void {
  const rank = shape.length;
  if (rank === 0) {
    out[0] = x[0];
    return;
  }
  const strides = tf.util.computeStrides(shape); // rank − 1 entries
  const inner = size[rank - 1];
  // Collapse trailing dimensions that are taken whole into one contiguous run.
  let runDims = 1;
  let run = inner;
  while (runDims < rank && begin[rank - runDims] === 0 && size[rank - runDims] === shape[rank - runDims]) {
    run *= size[rank - runDims - 1];
    runDims++;
  }
  const outer = size.slice(0, rank - runDims);
  const count = outer.reduce((a, b) => a * b, 1);
  const idx = new Array(outer.length).fill(0);
  let o = 0;
  for (let n = 0; n < count; n++) {
    let offset = 0;
    for (let d = 0; d < outer.length; d++) offset += (begin[d] + idx[d]) * strides[d];
    for (let d = outer.length; d < rank; d++) offset += begin[d] * (d < rank - 1 ? strides[d] : 1);
    out.set(x.subarray(offset, offset + run), o);
    o += run;
    for (let d = outer.length - 1; d >= 0; d--) {
      if (++idx[d] < outer[d]) break;
      idx[d] = 0;
    }
  }
}

function sliceInPlace(x: tf.TensorInfo, begin: number[], size: number[], backend: WasmBackendLike): tf.TensorInfo {
  const out = backend.makeOutput(size, x.dtype); // may grow the heap: make the views after it
  if (tf.util.sizeFromShape(size) === 0) return out;
  copySlice(backend.typedArrayFromHeap(x), x.shape, begin, size, backend.typedArrayFromHeap(out));
  return out;
}

const slice: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const { x } = inputs as { x: tf.TensorInfo };
  const { begin, size } = attrs as unknown as { begin: number | number[]; size: number | number[] };
  const [b, s] = tf.slice_util.parseSliceParams(x as tf.TensorInfo as tf.Tensor, begin, size);
  return sliceInPlace(x, b, s, backend as unknown as WasmBackendLike);
};

const splitV: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const { x } = inputs as { x: tf.TensorInfo };
  const { numOrSizeSplits, axis } = attrs as unknown as { numOrSizeSplits: number | number[]; axis: number };
  const ax = tf.util.parseAxisParam(axis, x.shape)[0];
  const sizes = tf.backend_util.prepareSplitSize(x as tf.TensorInfo as tf.Tensor, numOrSizeSplits, ax);
  const begin = new Array(x.shape.length).fill(0);
  return sizes.map((n) => {
    const size = [...x.shape];
    size[ax] = n;
    const out = sliceInPlace(x, [...begin], size, backend as unknown as WasmBackendLike);
    begin[ax] += n;
    return out;
  });
};

const unpack: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const { value } = inputs as { value: tf.TensorInfo };
  const rank = value.shape.length;
  const axis = ((attrs as unknown as { axis: number }).axis + rank) % rank;
  const outShape = value.shape.filter((_, d) => d !== axis);
  const size = [...value.shape];
  size[axis] = 1;
  return Array.from({ length: value.shape[axis] }, (_, i) => {
    const begin = new Array(rank).fill(0);
    begin[axis] = i;
    const out = sliceInPlace(value, begin, size, backend as unknown as WasmBackendLike);
    return { ...out, shape: outShape }; // dropping the unit axis is a free reshape
  });
};

/**
 * Products with at least this many multiply-adds per matrix go through XNNPACK one matrix at a
 * time when tfjs would take its naive loop (a batch of more than one, or a transposed operand).
 */
export const XNN_MIN_MACS = 1 << 16;

/**
 * BatchMatMul: tfjs-wasm sends only untransposed, unbatched products to XNNPACK (multithreaded,
 * ~30 GFLOP/s per thread here); everything else (attention's (B, nH, T, T) products and all the
 * gradients tfjs derives with transposeA/B) runs a naive single-threaded loop at ~2.4 GFLOP/s.
 * This transposes operands explicitly (tfjs's C++ Transpose) and hands XNNPACK one matrix at a
 * time, or one tall matrix when the right operand is shared. Small products keep the naive loop,
 * which has no per-call setup (decoding's (1 × S) attention rows).
 */
function batchMatMul(original: tf.KernelFunc, transposeKernel: tf.KernelFunc): tf.KernelFunc {
  const run = products(original, transposeKernel);
  // A product rowsDotRows takes packs nothing: no fresh copy of its right operand is needed.
  return (args) => (keepPackedOperands || fewRowsTimesBT(args) ? run(args) : withFreshRightOperand(args, run));
}

/**
 * XNNPACK keeps a packed copy of a product's right operand for as long as that tensor lives (tfjs
 * caches the operator by the operand's id). That is what makes decoding fast (a weight is packed
 * once, then read for every token), but in training it is a second copy of every weight the
 * backward multiplies by (dx = dy·W): measured on random Pythia-410m weights, LoRA at 4×128 with
 * checkpointing peaked at a 4.04 GB heap, W's 1.6 GB plus 1.4 GB of packed copies that never went.
 * Off, every product's right operand is copied into a temporary first, so its packed copy goes
 * with the temporary: one copy of K×N floats per product, next to the M·K·N multiply-adds of a
 * training batch's rows (M = 512 at 4×128).
 */
let keepPackedOperands = true;

/** Whether products may leave XNNPACK's packed copies of their right operands behind (see keepPackedOperands). */
export function setKeepPackedOperands(on: boolean): void {
  keepPackedOperands = on;
}

function withFreshRightOperand(args: Parameters<tf.KernelFunc>[0], kernel: tf.KernelFunc): ReturnType<tf.KernelFunc> {
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const backend = args.backend as unknown as WasmBackendLike;
  if (b.dtype !== 'float32' || tf.util.sizeFromShape(b.shape) * (a.shape[a.shape.length - 2] ?? 1) < XNN_MIN_MACS) return kernel(args);
  const copy = backend.makeOutput(b.shape, b.dtype); // may grow the heap: make the views after it
  backend.typedArrayFromHeap(copy).set(backend.typedArrayFromHeap(b));
  try {
    return kernel({ ...args, inputs: { a, b: copy } });
  } finally {
    backend.disposeData(copy.dataId);
  }
}

/**
 * At most this many rows times a shared Bᵀ take rowsDotRows instead of a transposed copy of B.
 * Decoding from weights held as W (a paused or running trainer's, whose layout cannot change under
 * it) multiplies one row by every Wᵀ per token: transposing and packing each W for one row made a
 * training sample decode at 0.9 tokens/s on the Pythia-160m shape against 29 in the Playground.
 */
const DOT_MAX_ROWS = 4;

/** Whether a product is at most DOT_MAX_ROWS float32 rows times one shared Bᵀ, and not below XNN_MIN_MACS (those take products' small x·Wᵀ path). */
function fewRowsTimesBT(args: Parameters<tf.KernelFunc>[0]): boolean {
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const { transposeA, transposeB } = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
  if (!transposeB || transposeA || a.dtype !== 'float32' || b.dtype !== 'float32' || tf.util.sizeFromShape(b.shape.slice(0, -2)) !== 1) return false;
  const rows = tf.util.sizeFromShape(a.shape.slice(0, -1));
  const K = a.shape[a.shape.length - 1];
  return rows <= DOT_MAX_ROWS && K === b.shape[b.shape.length - 1] && rows * tf.util.sizeFromShape(b.shape) >= XNN_MIN_MACS;
}

/**
 * out[r, n] = Σ_k a[r, k]·b[n, k] for a (rows, K) and b (N, K), both read in place, never copied:
 * in WASM SIMD (rowDots.ts) where K allows, else in JavaScript.
 */
function rowsDotRows(a: tf.TensorInfo, b: tf.TensorInfo, rows: number, K: number, N: number, outShape: number[], backend: WasmBackendLike): tf.TensorInfo {
  const out = backend.makeOutput(outShape, 'float32'); // may grow the heap: make the views after it
  const simd = rowDotsOf(backend);
  if (simd && rowDotsFit(rows, K, N)) {
    simd.run('f32', heapAddress(backend, a), heapAddress(backend, b), heapAddress(backend, out), rows, K, N);
    return out;
  }
  const [av, bv, ov] = [a, b, out].map((t) => backend.typedArrayFromHeap(t) as Float32Array);
  for (let r = 0; r < rows; r++) {
    const ar = r * K;
    for (let n = 0; n < N; n++) {
      const bn = n * K;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let k = 0;
      for (; k + 3 < K; k += 4) {
        s0 += av[ar + k] * bv[bn + k];
        s1 += av[ar + k + 1] * bv[bn + k + 1];
        s2 += av[ar + k + 2] * bv[bn + k + 2];
        s3 += av[ar + k + 3] * bv[bn + k + 3];
      }
      for (; k < K; k++) s0 += av[ar + k] * bv[bn + k];
      ov[r * N + n] = s0 + s1 + s2 + s3;
    }
  }
  return out;
}

function products(original: tf.KernelFunc, transposeKernel: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
    const backend = args.backend as unknown as WasmBackendLike;
    const ra = a.shape.length;
    const rb = b.shape.length;
    const M = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
    const K = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
    const N = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
    const batchA = tf.util.sizeFromShape(a.shape.slice(0, -2));
    const batchB = tf.util.sizeFromShape(b.shape.slice(0, -2));
    const batch = Math.max(batchA, batchB);
    const plain = !transposeA && !transposeB && batchA === 1 && batchB === 1;
    if (!plain && !transposeA && transposeB && batchA === 1 && batchB === 1 && a.dtype === 'float32' && M * K * N < XNN_MIN_MACS && a.shape[ra - 1] === b.shape[rb - 1]) {
      // x·Wᵀ below the XNNPACK threshold: W transposed, then the plain product, which is what
      // model/matmul.ts did before it passed the flag (so its results stay bit for bit the same).
      const wT = transposeKernel({ inputs: { x: { dataId: b.dataId, shape: [N, K], dtype: b.dtype } }, attrs: { perm: [1, 0] }, backend: args.backend }) as tf.TensorInfo;
      try {
        const out = original({ inputs: { a: { dataId: a.dataId, shape: [1, M, K], dtype: a.dtype }, b: { dataId: wT.dataId, shape: [1, K, N], dtype: b.dtype } }, attrs: { transposeA: false, transposeB: false }, backend: args.backend }) as tf.TensorInfo;
        return { ...out, shape: [...tf.backend_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2)), M, N] };
      } finally {
        backend.disposeData(wT.dataId);
      }
    }
    const broadcastable = (batchA === batch || batchA === 1) && (batchB === batch || batchB === 1);
    if (plain || M * K * N < XNN_MIN_MACS || a.dtype !== 'float32' || !broadcastable || (transposeA ? a.shape[ra - 2] : a.shape[ra - 1]) !== (transposeB ? b.shape[rb - 1] : b.shape[rb - 2])) {
      return original(args);
    }
    const outShape = [...tf.backend_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2)), M, N];
    if (fewRowsTimesBT(args)) return rowsDotRows(a, b, batchA * M, K, N, outShape, backend);
    const temps: tf.TensorInfo[] = [];
    /** x as (batch, rows, cols) untransposed: a free reshape, or a transposed copy. */
    const asRows = (x: tf.TensorInfo, n: number, rows: number, cols: number, transposed: boolean): tf.TensorInfo => {
      if (!transposed) return { dataId: x.dataId, shape: [n, rows, cols], dtype: x.dtype };
      const t = transposeKernel({ inputs: { x: { dataId: x.dataId, shape: [n, cols, rows], dtype: x.dtype } }, attrs: { perm: [0, 2, 1] }, backend: args.backend }) as tf.TensorInfo;
      temps.push(t);
      return t;
    };
    const a3 = asRows(a, batchA, M, K, transposeA);
    const b3 = asRows(b, batchB, K, N, transposeB);
    const product = (x: tf.TensorInfo, y: tf.TensorInfo) => original({ inputs: { a: x, b: y }, attrs: { transposeA: false, transposeB: false }, backend: args.backend }) as tf.TensorInfo;
    try {
      if (batchB === 1) {
        // One shared right operand: all of a's rows in one (batch·M, K) @ (K, N) product.
        const out = product({ dataId: a3.dataId, shape: [1, batchA * M, K], dtype: a.dtype }, { dataId: b3.dataId, shape: [1, K, N], dtype: b.dtype });
        return { ...out, shape: outShape };
      }
      const out = backend.makeOutput(outShape, a.dtype);
      for (let i = 0; i < batch; i++) {
        const ai = batchA === 1 ? { dataId: a3.dataId, shape: [1, M, K], dtype: a.dtype } : sliceInPlace(a3, [i, 0, 0], [1, M, K], backend);
        const bi = sliceInPlace(b3, [i, 0, 0], [1, K, N], backend);
        const oi = product(ai, bi);
        // Views after the product: its output may have grown the heap.
        backend.typedArrayFromHeap(out).set(backend.typedArrayFromHeap(oi), i * M * N);
        for (const t of batchA === 1 ? [bi, oi] : [ai, bi, oi]) backend.disposeData(t.dataId);
      }
      return out;
    } finally {
      for (const t of temps) backend.disposeData(t.dataId);
    }
  };
}

let registered = false;

/** Installs the replacements on the 'wasm' backend, once; string tensors still go to tfjs's own kernels. */
export function registerWasmKernelFixes(): void {
  if (registered) return;
  registered = true;
  for (const [kernelName, kernelFunc] of [
    ['Slice', slice],
    ['SplitV', splitV],
    ['Unpack', unpack],
  ] as const) {
    const original = tf.getKernel(kernelName, 'wasm');
    if (original) tf.unregisterKernel(kernelName, 'wasm');
    tf.registerKernel({
      kernelName,
      backendName: 'wasm',
      kernelFunc: (args) => (Object.values(args.inputs)[0]?.dtype === 'string' && original ? original.kernelFunc(args) : kernelFunc(args)),
    });
  }
  const matMul = tf.getKernel('BatchMatMul', 'wasm');
  const transpose = tf.getKernel('Transpose', 'wasm');
  if (matMul && transpose) {
    tf.unregisterKernel('BatchMatMul', 'wasm');
    tf.registerKernel({ kernelName: 'BatchMatMul', backendName: 'wasm', kernelFunc: batchMatMul(matMul.kernelFunc, transpose.kernelFunc) });
  }
}
