/**
 * Semantic similarity between a model's outputs and the targets: cosine of sentence embeddings
 * from a small embedding model (all-MiniLM-L6-v2, mean pooled and normalised, as
 * sentence-transformers does) run with transformers.js.
 *
 * The embedding model is downloaded from the Hugging Face Hub the first time and then cached by
 * transformers.js (Cache Storage in browsers, its cache folder in Node). When it cannot be had,
 * the result is `available: false` with the reason: a missing score must never read as 0.
 *
 * This file is the only place that runs a transformers.js pipeline (the tokenizer in
 * data/tokenizer.ts only uses its tokenizer classes). It runs in the data worker: defaults
 * there are right as they are (allowLocalModels is false in web workers, so no request goes to
 * the app's own server for /models/…), except that ONNX Runtime's WASM files come with the app
 * (onnxAssets.ts) rather than from a CDN.
 */
import { env, pipeline, type FeatureExtractionPipeline } from '@huggingface/transformers';
import { serveOnnxRuntimeFromApp } from './onnxAssets';
import { PinMismatchError, pinnedFetch } from './pinnedFiles';

export const DEFAULT_EMBEDDING_MODEL = 'Xenova/all-MiniLM-L6-v2';

/** Texts per embedder call: bounds the padded (batch, tokens, 384) activations of one call. */
const DEFAULT_BATCH_SIZE = 32;

export type Similarity =
  | { available: true; model: string; scores: number[] }
  | { available: false; model: string; reason: string };

/**
 * Cosine similarity of two equal-length vectors, in [-1, 1]. A zero vector has no direction,
 * so it is similar to nothing: 0 (rather than NaN, which would poison every mean it joins).
 */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`cosine of vectors of different lengths (${a.length} and ${b.length})`);
  // Accumulated in float64 even for Float32Array inputs.
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  if (na === 0 || nb === 0) return 0;
  // Rounding can push |cos| of (anti)parallel vectors a hair past 1.
  return Math.max(-1, Math.min(1, dot / Math.sqrt(na * nb)));
}

/** One vector per text, in order. */
export type Embedder = (texts: string[]) => Promise<Float32Array[]>;

/**
 * Pipelines by model id. A failed load is forgotten, so the next call (e.g. once back online)
 * tries again instead of replaying the old failure.
 */
const pipelines = new Map<string, Promise<FeatureExtractionPipeline>>();

function loadPipeline(model: string): Promise<FeatureExtractionPipeline> {
  let loading = pipelines.get(model);
  if (!loading) {
    serveOnnxRuntimeFromApp();
    checkPinnedDownloads();
    // q8 (onnx/model_quantized.onnx, 23 MB for MiniLM) rather than the feature-extraction
    // pipeline's fp32 default (onnx/model.onnx, 90 MB): a quarter of the download for what is an
    // evaluation aid. Pinned, so Node and the browser load the same file and give the same scores.
    loading = pipeline('feature-extraction', model, { dtype: 'q8' }).catch((err: unknown) => {
      pipelines.delete(model);
      throw loadError(model, err);
    });
    pipelines.set(model, loading);
  }
  return loading;
}

const PINNED = Symbol('pinned');

/** Every download transformers.js makes goes through pinnedFetch (once; a fetch set later is wrapped too). */
function checkPinnedDownloads(): void {
  const current = env.fetch as typeof env.fetch & { [PINNED]?: true };
  if (current[PINNED]) return;
  const wrapped = Object.assign(pinnedFetch(current), { [PINNED]: true as const });
  env.fetch = wrapped;
}

/** Turns what transformers.js throws while loading into a one-line message that says what to do. */
function loadError(model: string, err: unknown): Error {
  if (err instanceof PinMismatchError) return new Error(`the embedding model changed on the Hub: ${err.message}`, { cause: err });
  const detail = describe(err);
  const firstTime = 'semantic similarity needs an internet connection the first time (the model is cached after that)';
  // fetch reports DNS failures, refused connections, offline mode and CORS blocks as TypeError.
  if (err instanceof TypeError) {
    return new Error(`could not download the embedding model "${model}" from the Hugging Face Hub (${detail}): ${firstTime}`, { cause: err });
  }
  if (/allowRemoteModels=false|local_files_only/.test(detail)) {
    return new Error(`the embedding model "${model}" is not cached here and downloads are switched off (${detail}): ${firstTime}`, { cause: err });
  }
  const status = (err as { status?: unknown } | null)?.status;
  if (typeof status === 'number' || /^(Could not locate|Unauthorized|Forbidden)/.test(detail)) {
    return new Error(`the Hub has no usable embedding model "${model}" (${detail}): check the model id, e.g. "${DEFAULT_EMBEDDING_MODEL}"`, { cause: err });
  }
  // Downloaded but unusable: a damaged file (which stays cached) or a model transformers.js cannot run.
  return new Error(`could not load the embedding model "${model}" (${detail}): use a transformers.js sentence-embedding model such as "${DEFAULT_EMBEDDING_MODEL}"`, { cause: err });
}

/** "fetch failed: ECONNREFUSED" in Node (the code hides in `cause`), "Failed to fetch" in browsers. */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: unknown }).cause;
  const code = typeof cause === 'object' && cause !== null ? (cause as { code?: unknown }).code : undefined;
  const text = typeof code === 'string' ? `${err.message}: ${code}` : cause instanceof Error ? `${err.message}: ${cause.message}` : err.message;
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * Sentence embeddings from a transformers.js feature-extraction pipeline: mean pooling over the
 * tokens, then L2 normalisation. The pipeline loads on first use, once per model id.
 */
export function transformersEmbedder(model: string = DEFAULT_EMBEDDING_MODEL): Embedder {
  return async (texts) => {
    const extractor = await loadPipeline(model);
    if (texts.length === 0) return [];
    const output = await extractor(texts, { pooling: 'mean', normalize: true }); // (n, d)
    const [n, d] = output.dims;
    const data = output.data as Float32Array;
    // slice (not subarray) so each vector owns its memory once the tensor is gone.
    const vectors = Array.from({ length: n }, (_, i) => data.slice(i * d, (i + 1) * d));
    output.dispose();
    return vectors;
  };
}

/**
 * Settles with `work`, or rejects with the signal's reason as soon as it aborts: a model download
 * cannot be cancelled inside transformers.js (and, where packets are dropped rather than refused,
 * can wait for the TCP timeout), but the caller need not wait for it. The load carries on and is
 * kept for the next call.
 */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * scores[i] = cosine(embed(outputs[i]), embed(targets[i])). Outputs and targets are embedded
 * together in calls of `batchSize` texts. Any failure of the embedder (the model cannot be
 * downloaded, it returns the wrong number of vectors) makes the whole result unavailable with
 * the reason; only cancellation rejects (with the signal's reason).
 */
export async function semanticSimilarity(
  outputs: string[],
  targets: string[],
  opts: { embedder?: Embedder; model?: string; batchSize?: number; signal?: AbortSignal } = {},
): Promise<Similarity> {
  if (outputs.length !== targets.length) throw new Error(`${outputs.length} outputs but ${targets.length} targets: give one target per output`);
  const batchSize = opts.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batchSize must be a positive integer (got ${batchSize})`);
  const model = opts.model ?? DEFAULT_EMBEDDING_MODEL;
  const embed = opts.embedder ?? transformersEmbedder(model);

  const texts = [...outputs, ...targets];
  const vectors: Float32Array[] = [];
  for (let start = 0; start < texts.length; start += batchSize) {
    opts.signal?.throwIfAborted();
    const batch = texts.slice(start, start + batchSize);
    let got: Float32Array[];
    try {
      got = await untilAborted(embed(batch), opts.signal);
    } catch (err) {
      opts.signal?.throwIfAborted();
      return { available: false, model, reason: err instanceof Error ? err.message : String(err) };
    }
    if (got.length !== batch.length) {
      return { available: false, model, reason: `the embedder returned ${got.length} vectors for ${batch.length} texts` };
    }
    vectors.push(...got);
  }
  opts.signal?.throwIfAborted();
  const n = outputs.length;
  const scores: number[] = [];
  for (let i = 0; i < n; i++) {
    if (vectors[i].length !== vectors[n + i].length) {
      return { available: false, model, reason: `the embedder returned vectors of different sizes (${vectors[i].length} and ${vectors[n + i].length})` };
    }
    scores.push(cosine(vectors[i], vectors[n + i]));
  }
  return { available: true, model, scores };
}
