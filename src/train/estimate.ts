/**
 * Will a training run fit, and how much work is a step: memory and FLOPs from the model's shape
 * and the run's settings, before any tensor exists.
 *
 * Memory is counted as tfjs counts it (tf.memory().numBytes, tf.profile's peakBytes): every live
 * tensor's bytes, even when tensors share a buffer. On WASM that is close to the real heap use
 * (its Identity kernel copies, so the clones tf.grads saves are real copies); on WebGPU and CPU
 * shared buffers make the real use somewhat lower. All tensors are float32.
 *
 * The activation term is not a guess per tensor but the census of what tfjs 4.22 holds at the
 * end of the backward pass, which is the step's peak: tf.grads keeps every saved input (as a
 * clone) and every activation gradient alive until the backward pass ends. The fused loss
 * tidies per chunk, so only one chunk's (rows, V) temporaries are alive at a time: the peak of
 * small models, whose activations are tiny next to the vocabulary. The coefficients below were counted on the live tensors of lossAndGrads
 * (src/model/objective.ts) and checked against tf.profile on Pythia-70m's shape (estimate.test.ts
 * keeps tiny shapes in check); a change to the forward or the loss changes them.
 */
import { headSize, rotaryDims, type ModelConfig } from '../model/config';
import { defaultChunkRows } from '../model/loss';
import { blockedChunkRows, keepsProbs, VOCAB_BLOCK, vocabBlocks } from '../model/lossBlocked';
import { blockLinears, countParams, paramSpecs, type BlockLinear } from '../model/params';
import { formatBytes } from '../shared/units';
import { planPacking, resolvePacking, type PackingPlan } from './batchPlan';
import type { LoraConfig, TrainConfig } from './types';

const F32 = 4;
const GiB = 2 ** 30;
/** The WASM backend's heap cannot grow past 4 GiB (wasm32 addresses; tfjs 4.22 builds with that maximum). */
const WASM_HEAP = 4 * GiB;
/** What a browser tab can be expected to give WebGPU when the device's memory is unknown. */
const BROWSER_GPU_BUDGET = 4 * GiB;
/** Above this share of the limit a run is 'tight': the WASM heap grows in steps and fragments, GPU buffers are pooled. */
const TIGHT = 0.75;

export type EstimateTrain = Pick<TrainConfig, 'method' | 'freezeEmbeddings' | 'lora' | 'batchSize' | 'activationCheckpointing'> & Partial<Pick<TrainConfig, 'gradAccum' | 'objective'>>;

export interface EstimateBackend {
  name: 'webgpu' | 'wasm' | 'cpu';
  limits?: { maxBufferSize: number; maxStorageBufferBindingSize: number } | null;
  /** WebGPU only: the device's memory where known (WebGPU itself does not report it). */
  deviceMemoryBytes?: number | null;
}

export interface MemoryEstimate {
  /** The loaded model, plus the trained copy (full fine-tune) or the adapters (LoRA). */
  weights: number;
  /** Of the trained parameters; twice that with gradient accumulation (the running sum and the new micro-batch's). */
  gradients: number;
  /** AdamW's m and v for the trained parameters. */
  optimizer: number;
  /** What the forward keeps for the backward pass and the backward pass's own tensors, at its end (bytes). */
  activations: number;
  /**
   * The step's peak (bytes): the larger of the backward pass (weights + gradients + optimizer +
   * activations) and the optimizer update (weights + optimizer + two gradient copies while clipping
   * + the new weights and AdamW's temporaries).
   */
  total: number;
  /** The largest single tensor (bytes) — WebGPU refuses buffers above maxStorageBufferBindingSize. */
  largestTensor: number;
  /**
   * Page memory a checkpoint takes while it is made (bytes), outside the backend's budget: the
   * trained tensors and AdamW's m and v read back as arrays, then written into one file's bytes.
   */
  checkpoint: number;
  verdict: 'fits' | 'tight' | 'wont-fit';
  /** What limit was compared, in words, and what to change (smaller batch, LoRA, shorter max length, freeze embeddings…). */
  reason: string;
  advice: string[];
}

/** Header bytes per tensor of a checkpoint file (its name, dtype, shape and offsets as JSON), measured on the studio's names. */
const HEADER_BYTES_PER_TENSOR = 120;

/**
 * A checkpoint's page memory: 3 floats per trained parameter (weight, m, v), held as arrays and
 * again as the file's bytes, with the file's header (3 entries per trained tensor).
 */
export function checkpointBytes(config: ModelConfig, train: Pick<TrainConfig, 'method' | 'freezeEmbeddings' | 'lora'>): number {
  const tensors = train.method === 'lora' ? 2 * config.numLayers * adaptedLinears(config, train.lora.targets).length : paramSpecs(config).length - (train.freezeEmbeddings ? 1 : 0);
  return 2 * (3 * F32 * trainableParamCount(config, train) + 3 * tensors * HEADER_BYTES_PER_TENSOR);
}

/** Adapter parameters: r·(in + out) per adapted linear per layer (A is (r, in), B is (out, r)). */
export function loraParamCount(config: ModelConfig, lora: Pick<LoraConfig, 'rank' | 'targets'>): number {
  return config.numLayers * adaptedLinears(config, lora.targets).reduce((n, [inp, out]) => n + lora.rank * (inp + out), 0);
}

/** Parameters the run trains: every weight (less embed_in when frozen) for a full fine-tune, the adapters for LoRA. */
export function trainableParamCount(config: ModelConfig, train: Pick<TrainConfig, 'method' | 'freezeEmbeddings' | 'lora'>): number {
  if (train.method === 'lora') return loraParamCount(config, train.lora);
  return countParams(config) - (train.freezeEmbeddings ? config.vocabSize * config.hiddenSize : 0);
}

/** [in, out] of each adapted linear, in the block's order. */
function adaptedLinears(config: ModelConfig, targets: readonly BlockLinear[]): [number, number][] {
  return blockLinears(config)
    .filter((l) => targets.includes(l.module))
    .map((l) => [l.in, l.out]);
}

/** Σ in·out over a block's four linears (12·C² for Pythia's I = 4C). */
function blockMatrixParams(config: ModelConfig): number {
  return blockLinears(config).reduce((n, l) => n + l.out * l.in, 0);
}

/** Biases and layer-norm parameters of one block. */
function blockVectorParams(config: ModelConfig): number {
  return blockLinears(config).reduce((n, l) => n + (l.bias ? l.out : 0), 0) + 4 * config.hiddenSize;
}

/**
 * Floats live at the end of the backward pass besides the weights, their gradients and AdamW's
 * state, for a (B, T) batch: one layer's, and the rest (embedding, final norm, LM head and loss).
 * Counted per tensor on lossAndGrads (see the file comment); N = B·T rows, M = B·(T − 1) loss
 * rows (every position has a target: the most a batch can have).
 */
function activationFloats(config: ModelConfig, train: EstimateTrain, B: number, T: number): { layer: number; global: number } {
  const { hiddenSize: C, intermediateSize: I, numHeads: H, vocabSize: V } = config;
  const hs = headSize(config);
  const rd = rotaryDims(config);
  const N = B * T;
  const M = B * (T - 1);
  // Rotary on q and k: slices, rotate_half, products and concat, and their gradients. With
  // rd = hs there is no slicing off of the pass-through part (applyRotary's shortcut).
  const rotary = rd === 0 ? 0 : rd === hs ? 21 * N * C : 33 * N * H * rd + 4 * N * H * (hs - rd);
  // One block with every linear frozen: layer norms (moments, normalise, scale: 24 (N, 1) stats),
  // qkv reshape/split/transposes, scores and probabilities (9 × (B, nH, T, T)), the exact GELU
  // (19 × (N, I) with the MLP products), residual sums; the mask and rotary tables are saved too.
  let layer = 82 * N * C + 19 * N * I + 9 * B * H * T * T + rotary + 24 * N + T * T + 4 * T * rd + blockVectorParams(config);
  if (!config.useParallelResidual) layer += 2 * N * C; // the extra residual sum and its gradient
  if (train.method === 'full') {
    // A trained linear also saves its input x (for dW = dyᵀx) and its weight, and makes dyᵀ.
    layer += blockLinears(config).reduce((n, l) => n + N * (l.out + l.in), 0) + blockMatrixParams(config);
  } else {
    const r = train.lora.rank;
    for (const [inp, out] of adaptedLinears(config, train.lora.targets)) {
      // x Aᵀ, its scaling, (·) Bᵀ and the sum with the base output, with their gradients and saves;
      // dropout adds its mask, the masked input and that input's gradient.
      layer += 2 * N * inp + 5 * N * out + 5 * N * r + r * (inp + out) + (train.lora.dropout > 0 ? 3 * N * inp : 0);
    }
  }
  // The fused loss frees each chunk's (rows, V) tensors before the next chunk (it tidies per
  // chunk); what stays is the saved Wᵀ, and dW as a running (C, V) sum and its (V, C) transpose
  // (a full fine-tune), or one zero (V, C) gradient nobody reads (LoRA).
  const headCopies = 3;
  const global = 19 * N * C + 3 * M * C + 3 * M + 12 * N + headCopies * V * C + 2 * C;
  return { layer, global }; // all of it: L · layer + global
}

/**
 * The largest single tensor of a step: an embedding matrix (and its gradient and moments), a loss
 * chunk's logits, the attention scores, or the MLP activations; batchShaped when (B, T) set its size.
 */
function largestTensor(config: ModelConfig, B: number, T: number): { floats: number; name: string; batchShaped: boolean } {
  const { hiddenSize: C, intermediateSize: I, numHeads: H, vocabSize: V } = config;
  const chunk = Math.min(B * (T - 1), defaultChunkRows(V));
  const candidates = [
    { floats: V * C, name: `the embedding matrix (${V} × ${C})`, batchShaped: false },
    { floats: chunk * V, name: `a chunk of the loss's logits (${chunk} × ${V})`, batchShaped: false },
    { floats: B * H * T * T, name: `the attention scores (${B} × ${H} heads × ${T} × ${T})`, batchShaped: true },
    { floats: B * T * Math.max(I, 3 * C), name: `the MLP activations (${B * T} × ${Math.max(I, 3 * C)})`, batchShaped: true },
  ];
  return candidates.reduce((a, b) => (b.floats > a.floats ? b : a));
}

type Breakdown = Pick<MemoryEstimate, 'weights' | 'gradients' | 'optimizer' | 'activations' | 'total' | 'largestTensor'>;

function breakdown(config: ModelConfig, train: EstimateTrain, seqLen: number, backend: EstimateBackend['name']): Breakdown {
  const trained = trainableParamCount(config, train) * F32;
  const base = countParams(config) * F32;
  // The trainer leaves the loaded model untouched: a full fine-tune trains a copy of it.
  const weights = base + trained;
  const gradients = trained * ((train.gradAccum ?? 1) > 1 ? 2 : 1);
  const optimizer = 2 * trained;
  const acts = activationFloats(config, train, train.batchSize, seqLen);
  const largestTrained = train.method === 'lora' ? 0 : config.vocabSize * config.hiddenSize * F32;
  // The update, after the backward pass. Stock (the CPU backend): clipping holds the summed
  // gradients and a copy (or their squares, for the norm); AdamW then builds the new weights one
  // parameter at a time, next to the old ones and the gradients, with up to 7 tensors of that
  // parameter's size alive at once in its tidy (profiled on train/adamw.ts; at worst an embedding
  // matrix). With the optimizer kernels (train/deviceOptimizer.ts: WebGPU, WASM) the clip is a
  // factor inside AdamW, the moments change in place, and each new parameter replaces its old one
  // as it is written: one parameter's size more.
  const update = backend === 'cpu' ? weights + optimizer + 2 * trained + 7 * largestTrained : weights + optimizer + gradients + largestTrained;
  const M = train.batchSize * Math.max(1, seqLen - 1);
  const chunkTemporaries = 5 * Math.min(M, defaultChunkRows(config.vocabSize)) * config.vocabSize * F32;
  const largest = largestTensor(config, train.batchSize, seqLen).floats * F32;
  if (train.activationCheckpointing) {
    // Checkpointed (objective.ts): the forward keeps each segment's input, L·N·C floats, and the
    // backward differentiates one segment at a time. The head's comes first (the last block, the
    // final norm, the LM head and the loss), before any other gradient exists (only an
    // accumulation's running sum): the last block's activations, and the loss in vocabulary blocks holds a
    // copy of W and W's blocks (or dW's), its final-norm saves, and either the kept probabilities
    // with their copies (~2.2 × rows × V) or one row chunk's block temporaries. Then each block's,
    // with its gradient in and out, beside the gradients made so far. Counted with tf.profile on
    // Pythia-70m (WASM): the head's is the larger from batch 4 × 128 up; the AdamW update is a full
    // fine-tune's peak at any batch.
    const { hiddenSize: C, vocabSize: V } = config;
    const N = train.batchSize * seqLen;
    const Vb = vocabBlocks(V, VOCAB_BLOCK)[0].n;
    const lossTemps = keepsProbs(M, V) ? 2.2 * M * V : 4 * Math.min(M, blockedChunkRows(Vb)) * Vb;
    const kept = config.numLayers * N * C * F32;
    const head = gradients - trained + kept + (acts.layer + 2 * N * C + 2 * V * C + 10 * N * C + lossTemps) * F32; // with the last block (never recomputed)
    const block = gradients + kept + (acts.layer + 2 * N * C) * F32;
    const backward = weights + optimizer + Math.max(head, block);
    return { weights, gradients, optimizer, activations: backward - weights - gradients - optimizer, total: Math.max(backward, update), largestTensor: largest };
  }
  const activations = (config.numLayers * acts.layer + acts.global) * F32;
  // Inside the fused loss's backward: one chunk's (rows, V) temporaries (about 5 of them) live
  // beside the forward's saves and the LM head's gradient; the peak on small models.
  const lossChunk = weights + optimizer + gradients + activations / 2 + chunkTemporaries;
  return {
    weights,
    gradients,
    optimizer,
    activations,
    total: Math.max(weights + gradients + optimizer + activations, update, lossChunk),
    largestTensor: largest,
  };
}

/** The limit a total is compared with, in words. */
function budget(backend: EstimateBackend): { bytes: number; what: string } {
  if (backend.name === 'webgpu') {
    return backend.deviceMemoryBytes
      ? { bytes: backend.deviceMemoryBytes, what: `the GPU's ${formatBytes(backend.deviceMemoryBytes)}` }
      : { bytes: BROWSER_GPU_BUDGET, what: `a 4 GiB (${formatBytes(BROWSER_GPU_BUDGET)}) budget for WebGPU in a browser tab (the device's memory is not known)` };
  }
  const what = backend.name === 'wasm' ? "the WASM backend's 4 GiB heap limit" : 'a 4 GiB budget for the CPU backend';
  return { bytes: WASM_HEAP, what: `${what} (${formatBytes(WASM_HEAP)})` };
}

/** Changes to the run that lower its peak, each with what it saves, the largest saving first. */
function advise(config: ModelConfig, train: EstimateTrain, seqLen: number, now: Breakdown, backend: EstimateBackend['name']): string[] {
  const options: { saves: number; text: (saves: string) => string }[] = [];
  const saving = (t: EstimateTrain, T: number) => now.total - breakdown(config, t, T, backend).total;
  if (train.method === 'full') {
    options.push({
      saves: saving({ ...train, method: 'lora' }, seqLen),
      text: (s) => `use LoRA (rank ${train.lora.rank}): saves ~${s}, the gradients, AdamW state and trained copy of all ${formatBytes(countParams(config) * F32)} of weights`,
    });
    if (!train.freezeEmbeddings) {
      options.push({ saves: saving({ ...train, freezeEmbeddings: true }, seqLen), text: (s) => `freeze the input embeddings: saves ~${s} of gradients and optimizer state` });
    }
  }
  if (!train.activationCheckpointing) {
    options.push({
      saves: saving({ ...train, activationCheckpointing: true }, seqLen),
      text: (s) => `turn on activation checkpointing (under Method): saves ~${s}; the blocks' forward runs again in the backward pass, one at a time`,
    });
  }
  if (train.batchSize > 1) {
    const half = Math.ceil(train.batchSize / 2);
    const accum = train.gradAccum ?? 1;
    options.push({
      saves: saving({ ...train, batchSize: half }, seqLen),
      text: (s) => `halve the batch size (${train.batchSize} → ${half}): saves ~${s}; set gradient accumulation to ${accum * 2} to keep ${train.batchSize * accum} examples per step`,
    });
  }
  if (seqLen > 16) {
    const shorter = Math.max(16, Math.ceil(seqLen / 2));
    options.push({ saves: saving(train, shorter), text: (s) => `max length ${shorter} instead of ${seqLen}: saves ~${s} (longer examples get truncated)` });
  }
  return options
    .filter((o) => o.saves > 0)
    .sort((a, b) => b.saves - a.saves)
    .map((o) => o.text(formatBytes(o.saves)));
}

/** Advice when one tensor is over the GPU's binding limit: the batch shapes that bring it under, if any. */
function bindingAdvice(config: ModelConfig, train: EstimateTrain, seqLen: number, binding: number): string[] {
  const advice: string[] = [];
  for (let B = train.batchSize >> 1; B >= 1; B >>= 1) {
    const bytes = largestTensor(config, B, seqLen).floats * F32;
    if (bytes <= binding) {
      advice.push(`batch size ${B} instead of ${train.batchSize}: the largest tensor becomes ${formatBytes(bytes)}`);
      break;
    }
  }
  for (let T = seqLen >> 1; T >= 16; T >>= 1) {
    const bytes = largestTensor(config, train.batchSize, T).floats * F32;
    if (bytes <= binding) {
      advice.push(`max length ${T} instead of ${seqLen}: the largest tensor becomes ${formatBytes(bytes)}`);
      break;
    }
  }
  advice.push('train on the WASM backend instead: it has no per-buffer limit below its 4 GiB heap');
  return advice;
}

/**
 * The sequence length the estimate assumes: max length when every row is padded to it; else the
 * longest example (when token counts are known) rounded up to a power of two, at least 16, never
 * past max length.
 */
export function estimateSeqLen(tokenize: { maxLength: number; padding: 'longest' | 'max_length' }, longest: number | null): number {
  const { maxLength, padding } = tokenize;
  if (padding === 'max_length' || longest === null || !(longest > 0)) return maxLength;
  let n = 16;
  while (n < longest) n *= 2;
  return Math.min(n, maxLength);
}

/**
 * The run's activation checkpointing as it will train: the user's choice where they made one; left
 * open (absent), on when the estimate without it is not 'fits' and with it is smaller, so that the
 * defaults fit (160m at LoRA 4×128 on WASM: ~5.0 GB without, ~1.5 GB with). `auto` says it was
 * turned on here.
 */
export function resolveCheckpointing<T extends EstimateTrain>(config: ModelConfig, train: T, seqLen: number, backend: EstimateBackend): { train: T; auto: boolean } {
  if (train.activationCheckpointing !== undefined) return { train, auto: false };
  const off = { ...train, activationCheckpointing: false };
  const without = estimateMemory(config, off, seqLen, backend);
  if (without.verdict === 'fits') return { train: off, auto: false };
  const on = { ...train, activationCheckpointing: true };
  return estimateMemory(config, on, seqLen, backend).total < without.total ? { train: on, auto: true } : { train: off, auto: false };
}

/**
 * A run's settings as it will train, from what was asked and the encoded data: packing (never for DPO) decided on
 * the train split's lengths (resolvePacking), the sequence length a batch will have (about the max
 * length when packed, else estimateSeqLen on the longest example of either split), then
 * activation checkpointing on that length. The studio's engine and the CLI both start runs
 * through this, as the Train tab's estimate decides them.
 */
export function resolveRun<T extends TrainConfig>(
  config: ModelConfig,
  asked: T,
  data: { trainLengths: ArrayLike<number>; longest: number; tokenize: { maxLength: number; padding: 'longest' | 'max_length' } },
  backend: EstimateBackend,
): { train: T; seqLen: number; autoCheckpointing: boolean; packing: PackingPlan } {
  const plan = planPacking(data.trainLengths, asked.batchSize, data.tokenize.maxLength);
  // DPO scores each pair whole: never packed.
  const packing = asked.objective === 'dpo' ? false : resolvePacking(asked.packing, plan, asked.maxSteps);
  const seqLen = packing ? plan.packedSeqLen : estimateSeqLen(data.tokenize, data.longest);
  const { train, auto } = resolveCheckpointing(config, { ...asked, packing }, seqLen, backend);
  return { train, seqLen, autoCheckpointing: auto, packing: plan };
}

/**
 * Memory for one training step at batch size train.batchSize and padded length seqLen, and a
 * verdict for the backend: WASM against its 4 GiB heap, WebGPU against the largest buffer it
 * binds and the device's memory (or a 4 GiB tab budget), CPU like WASM (and slow).
 * 'tight' above 75% of the limit, 'wont-fit' above it.
 */
export function estimateMemory(config: ModelConfig, asked: EstimateTrain, seqLen: number, backend: EstimateBackend): MemoryEstimate {
  if (!Number.isInteger(seqLen) || seqLen < 1) throw new Error(`sequence length must be a whole number of at least 1 (got ${seqLen})`);
  if (!Number.isInteger(asked.batchSize) || asked.batchSize < 1) throw new Error(`batch size must be a whole number of at least 1 (got ${asked.batchSize})`);
  // A DPO batch holds each pair's chosen and rejected rows: twice the rows (its reference, the
  // base model, is in memory already, and its forward keeps no activations).
  const train = asked.objective === 'dpo' ? { ...asked, batchSize: 2 * asked.batchSize } : asked;
  const b = { ...breakdown(config, train, seqLen, backend.name), checkpoint: checkpointBytes(config, train) };
  const limit = budget(backend);
  const share = b.total / limit.bytes;
  const rows = asked.objective === 'dpo' ? `${asked.batchSize} pairs (${train.batchSize} rows)` : `batch ${train.batchSize}`;
  const needs = `needs ~${formatBytes(b.total)} at ${rows} × ${seqLen} tokens, ${Math.round(share * 100)}% of ${limit.what}`;
  const slow = backend.name === 'cpu' ? '; the CPU backend is also slow: WebGPU or WASM train many times faster' : '';
  const binding = backend.name === 'webgpu' ? backend.limits?.maxStorageBufferBindingSize : undefined;
  const result = (verdict: MemoryEstimate['verdict'], reason: string, advice: string[]): MemoryEstimate => ({ ...b, verdict, reason, advice });

  if (binding !== undefined && b.largestTensor > binding) {
    const largest = largestTensor(config, train.batchSize, seqLen);
    return result(
      'wont-fit',
      `${largest.name} takes ${formatBytes(b.largestTensor)}, more than the ${formatBytes(binding)} this GPU binds in one buffer (maxStorageBufferBindingSize)`,
      largest.batchShaped ? bindingAdvice(config, train, seqLen, binding) : ['train on the WASM backend: this model has a tensor too large for this GPU at any batch size'],
    );
  }
  if (share > 1) return result('wont-fit', `${needs}${slow}`, advise(config, train, seqLen, b, backend.name));
  if (share > TIGHT) return result('tight', `${needs}: it may run out of memory${slow}`, advise(config, train, seqLen, b, backend.name));
  return result('fits', `${needs}${slow}`, []);
}

/**
 * Forward + backward matmul FLOPs for `tokens` tokens in sequences of `seqLen` (the padded
 * length: attention is computed over all of it). Counted per token:
 *   forward:  2 per weight of every block linear, 2·V·C for the LM head, 4·T·C·L for QKᵀ and PV
 *             (the full T × T, masked after), 2·r·(in + out) per LoRA adapter;
 *   backward: the same again for the input gradients (attention: dQ, dK, dP, dV = twice its
 *             forward), 2 per trained weight for dW (frozen weights skip it), and the fused loss
 *             recomputes the LM head's logits: 2·V·C more. Activation checkpointing adds one
 *             more forward of the blocks but the last (2 per block weight, attention, adapters)
 *             and drops the logits' recompute when the loss can keep its probabilities.
 * The input embedding is a lookup (no FLOPs), so a full fine-tune comes to
 * 6·(block weights + V·C)·tokens + 2·V·C·tokens + 12·T·C·L·tokens, below the usual 6·P·tokens
 * by the embedding's 6·V·C. Element-wise work (layer norms, GELU, softmax, AdamW) is not counted.
 * `seqLen` defaults to all tokens in one sequence, capped at the model's context: an upper bound.
 */
export function flopsPerStep(
  config: ModelConfig,
  train: Pick<TrainConfig, 'method' | 'lora' | 'activationCheckpointing'> & Partial<Pick<TrainConfig, 'batchSize'>>,
  tokens: number,
  seqLen = Math.min(tokens, config.maxPositions),
): number {
  const { hiddenSize: C, numLayers: L, vocabSize: V } = config;
  const block = L * blockMatrixParams(config);
  const head = V * C;
  const attention = 4 * seqLen * C * L;
  const adapters = train.method === 'lora' ? loraParamCount(config, train.lora) : 0;
  let extra = 2 * head; // the fused loss recomputes the logits in its backward pass
  if (train.activationCheckpointing && L > 0) {
    // Every block's forward but the last runs again in the backward pass; the loss keeps its
    // probabilities instead of recomputing the logits when a micro-batch's fit (see keepsProbs).
    extra = ((L - 1) / L) * (2 * block + attention + 2 * adapters);
    if (!keepsProbs(train.batchSize ? train.batchSize * seqLen : tokens, V)) extra += 2 * head;
  }
  if (train.method === 'full') return tokens * (6 * block + 6 * head + 3 * attention + extra);
  return tokens * (4 * block + 4 * head + 3 * attention + 6 * adapters + extra);
}
