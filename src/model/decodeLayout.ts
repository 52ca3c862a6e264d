/**
 * How the frozen base's matrices sit in memory for decoding, and back for training.
 *
 * Decoding multiplies one row by every weight per token. On WASM, XNNPACK does that fast only for
 * an untransposed right operand (in, out), and it keeps a packed copy of every right operand it has
 * seen for as long as that tensor lives. So the fast decoding layout costs, per matrix: W (out, in)
 * for training and exports, Wᵀ for the product, and XNNPACK's packed Wᵀ: three copies. Measured
 * with `npm run cli -- generate --memory` on random float16 files of Pythia's shapes: 160m peaks at
 * a 1.74 GB heap (fine); 410m needs about 4.9 GB and fails inside XNNPACK (status 6, out of memory).
 * Without Wᵀ kept, each product transposes and packs W again for every token: 1 token/s instead
 * of 26 on 160m.
 *
 * So three states, chosen by what fits:
 * - 'plain': W only (training, loading). Decoding is slow.
 * - 'copies': W and a kept Wᵀ of every matrix, where all three copies fit (today's models up to 160m).
 * - 'decode': where they do not, each block matrix keeps only Wᵀ (W is transposed away one matrix
 *   at a time, so the peak grows by one matrix); the forward reads it through weightProduct's
 *   Wᵀ-only path. The LM head keeps W too (the loss gathers target rows from it). Two copies in all.
 * - 'bf16': W and a bfloat16 copy of every matrix (bf16Weights.ts), where the backend multiplies by
 *   such copies (WASM) and every matrix holds bfloat16 values only (SmolLM2's and Qwen's files):
 *   each token reads half the bytes of 'copies', and the weights take 1.5 times their float32
 *   size instead of 3. toDecoding takes it over 'copies' or 'decode' whenever it can be had.
 *   Products of more rows than BF16_MAX_ROWS (a long prompt) multiply by W.
 * toTraining() goes back to 'plain' before training or an export.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ForwardContext } from './forward';
import { transposedWeights } from './forward';
import { bf16Copy, bf16RowDotsOn, type Bf16Copy } from './bf16Weights';
import { linearNames, modelNames, paramSpecs } from './params';
import type { ModelConfig } from './config';

export type Layout = 'plain' | 'copies' | 'decode' | 'bf16';

const GiB = 2 ** 30;
/**
 * The most heap the kept Wᵀ copies (and XNNPACK's packed ones) may bring the WASM backend to: the rest
 * of its 4 GiB is left for the KV cache, activations and the allocator's fragments.
 */
const COPIES_BUDGET = 3 * GiB;

/** Bytes of every weight, and of the matrices that products take (all but embed_in, a lookup). */
function weightBytes(c: ModelConfig): { all: number; matrices: number } {
  const names = modelNames(c);
  const lookups = new Set([names.positions, names.head === names.embed ? undefined : names.embed]);
  let all = 0;
  let matrices = 0;
  for (const s of paramSpecs(c)) {
    const n = s.shape.reduce((a, b) => a * b, 1) * 4;
    all += n;
    if (s.shape.length === 2 && !lookups.has(s.name)) matrices += n;
  }
  return { all, matrices };
}

/**
 * The layout decoding should use on `backend`: 'copies' where W, Wᵀ and (on WASM) XNNPACK's packed
 * Wᵀ of every matrix fit the budget, else 'decode'. WebGPU with the fused kernels reads W transposed
 * in the shader and needs neither ('plain').
 */
export function decodingLayout(c: ModelConfig, backend: string, fusedKernels: boolean): Layout {
  if (backend === 'webgpu' && fusedKernels) return 'plain';
  const { all, matrices } = weightBytes(c);
  const copies = backend === 'wasm' ? 2 : 1; // Wᵀ, and XNNPACK's packed Wᵀ
  return all + copies * matrices <= COPIES_BUDGET ? 'copies' : 'decode';
}

/** The state a context is in (see the file comment). */
export function layoutOf(ctx: ForwardContext): Layout {
  if (ctx.bf16 && Object.keys(ctx.bf16).length > 0) return 'bf16';
  if (!ctx.transposed || Object.keys(ctx.transposed).length === 0) return 'plain';
  return Object.keys(ctx.transposed).some((n) => ctx.params[n] === undefined) ? 'decode' : 'copies';
}

/** The block matrices, by parameter name. */
function blockMatrices(c: ModelConfig): string[] {
  const linears = linearNames(c);
  return paramSpecs(c)
    .filter((s) => linears.some((l) => s.name.endsWith(`.${l}.weight`)))
    .map((s) => s.name);
}

/** bfloat16 copies of every matrix a product takes, or null (and none kept) if one of them has other values. */
function bf16Copies(ctx: ForwardContext): Record<string, Bf16Copy> | null {
  const copies: Record<string, Bf16Copy> = {};
  for (const name of [...blockMatrices(ctx.config), modelNames(ctx.config).head]) {
    const w = ctx.params[name] as tf.Tensor2D | undefined;
    const copy = w ? bf16Copy(w) : null;
    if (!copy) {
      for (const c of Object.values(copies)) c.rows.dispose();
      return null;
    }
    copies[name] = copy;
  }
  return copies;
}

/**
 * Puts ctx (in place) in the layout for decoding that `target` names ('bf16' instead, from
 * 'plain', where it can be had); returns it.
 */
export function toDecoding(ctx: ForwardContext, target: Layout): ForwardContext {
  const now = layoutOf(ctx);
  if (now === target || target === 'plain' || now === 'bf16') return ctx;
  if (now === 'plain' && bf16RowDotsOn()) {
    const copies = bf16Copies(ctx);
    if (copies) {
      ctx.bf16 = copies;
      return ctx;
    }
  }
  if (target === 'bf16') return ctx; // asked for, but the weights are not all bfloat16 values: stay plain
  if (now === 'decode') toTraining(ctx); // 'copies' asked for after 'decode': start from W
  if (target === 'copies') {
    ctx.transposed = transposedWeights(ctx.params, ctx.config);
    return ctx;
  }
  const transposed: Record<string, tf.Tensor> = { ...(ctx.transposed ?? {}) };
  const { head } = modelNames(ctx.config);
  transposed[head] ??= tf.transpose(ctx.params[head]);
  for (const name of blockMatrices(ctx.config)) {
    const w = ctx.params[name];
    if (!w) continue;
    transposed[name] ??= tf.transpose(w); // (in, out)
    w.dispose(); // one matrix at a time: the peak grows by one matrix, not by all of them
    delete ctx.params[name];
  }
  ctx.transposed = transposed;
  return ctx;
}

/**
 * Back to 'plain' (W restored from Wᵀ, exactly: a transpose moves values, never rounds), before
 * training or an export. Kept copies (Wᵀ, bfloat16) go too: the trainer reads W only, and the estimate counts W
 * only; decoding makes them again (on WASM its first answer packs them again).
 */
export function toTraining(ctx: ForwardContext): ForwardContext {
  for (const c of Object.values(ctx.bf16 ?? {})) c.rows.dispose();
  ctx.bf16 = undefined;
  if (!ctx.transposed) return ctx;
  for (const [name, wT] of Object.entries(ctx.transposed)) {
    if (ctx.params[name] === undefined) ctx.params[name] = tf.transpose(wT); // (out, in), one matrix at a time
    wT.dispose();
  }
  ctx.transposed = undefined;
  return ctx;
}

/** Frees a model's weights in any layout: W and its copies share a name, so the sets go separately. */
export function disposeModel(ctx: ForwardContext): void {
  for (const t of Object.values(ctx.params)) t.dispose();
  for (const t of Object.values(ctx.transposed ?? {})) t.dispose();
  for (const c of Object.values(ctx.bf16 ?? {})) c.rows.dispose();
  ctx.transposed = undefined;
  ctx.bf16 = undefined;
}
