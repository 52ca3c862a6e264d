/**
 * A model from its files: config.json plus one or more safetensors shards.
 */
import { FAMILY_NAMES, parseConfig, type ModelConfig } from './config';
import * as tf from '@tensorflow/tfjs-core';
import { canonicalName, disposeParams, isSkippedBuffer, paramSpecs, type ParamSpec, type Params } from './params';
import { forEachTensor, nonFiniteWarning, readHeader, SafetensorsError, writeSafetensors } from './safetensors';

export const PICKLE_REFUSAL =
  'only safetensors checkpoints can be loaded: pytorch_model.bin is a Python pickle, and unpickling can run arbitrary code (and needs Python). Use a model.safetensors (most Hub repos have one; convert others with the safetensors "convert" tool)';

/** How messages name the shards when the caller has no file names. */
function defaultShardNames(count: number): string[] {
  return count === 1 ? ['model.safetensors'] : Array.from({ length: count }, (_, i) => `shard ${i + 1} of ${count}`);
}

/** Run `f`, putting the file's name in front of a safetensors error so the message says which file is bad. */
function inFile<T>(file: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof SafetensorsError) throw new SafetensorsError(`${file}: ${e.message}`);
    throw e;
  }
}

/**
 * Check every shard's header against the config before any tensor is decoded: a broken checkpoint
 * fails in milliseconds, with one message naming the file and the tensor, and nothing half-loaded.
 */
function checkHeaders(config: ModelConfig, shards: Uint8Array[], names: string[]): void {
  const specs = new Map(paramSpecs(config).map((s) => [s.name, fileShape(s)]));
  const from = new Map<string, string>(); // tensor → the shard it was found in
  shards.forEach((bytes, i) => {
    const file = names[i];
    for (const entry of inFile(file, () => readHeader(bytes)).entries) {
      if (isSkippedBuffer(config, entry.name)) continue;
      const e = { ...entry, name: canonicalName(config, entry.name) };
      const earlier = from.get(e.name);
      if (earlier !== undefined) {
        throw new Error(`tensor "${e.name}" is in both ${earlier} and ${file}: the shards are from different checkpoints or were copied twice; load only the shards listed by one model.safetensors.index.json`);
      }
      from.set(e.name, file);
      const expected = specs.get(e.name);
      if (!expected) {
        throw new Error(`${file}: the checkpoint has a tensor "${entry.name}" that a ${FAMILY_NAMES[config.modelType]} model with this config.json does not: is the config from the same model?`);
      }
      if (e.shape.join(',') !== expected.join(',')) {
        throw new Error(`${file}: tensor "${e.name}" has shape [${e.shape}] but config.json implies [${expected}]: the weights and config.json do not belong together`);
      }
    }
  });
  const missing = [...specs.keys()].filter((n) => !from.has(n));
  if (missing.length) {
    const more = missing.length > 1 ? ` (and ${missing.length - 1} more)` : '';
    throw new Error(`the checkpoint has no tensor "${missing[0]}"${more}: is it a ${FAMILY_NAMES[config.modelType]} model matching its config.json, with every shard added?`);
  }
}

/**
 * Checks the shards' headers against the config without decoding anything (milliseconds): the
 * engine calls it before it frees the model it has, so a refused checkpoint leaves that model loaded.
 */
export function checkCheckpoint(config: ModelConfig, shards: (ArrayBuffer | Uint8Array)[], shardNames?: string[]): void {
  if (shards.length === 0) throw new Error(`no model.safetensors: ${PICKLE_REFUSAL}`);
  const names = shardNames?.length === shards.length ? shardNames : defaultShardNames(shards.length);
  checkHeaders(config, shards.map((s) => (s instanceof Uint8Array ? s : new Uint8Array(s))), names);
}

export interface LoadedModel {
  config: ModelConfig;
  params: Params;
  /** Problems that do not stop the load (NaN or ±Inf weights), one message per file, for the UI to show. */
  warnings: string[];
}

/**
 * config.json (object or text) + safetensors shards → tensors on the current backend. `shardNames`
 * (the shards' file names) make messages name the file at fault.
 */
export function loadModel(configJson: unknown, shards: (ArrayBuffer | Uint8Array)[], shardNames?: string[]): LoadedModel {
  const config = parseConfig(configJson); // cheap facts first: a bad config.json fails before any shard is read
  if (shards.length === 0) throw new Error(`no model.safetensors: ${PICKLE_REFUSAL}`);
  const names = shardNames?.length === shards.length ? shardNames : defaultShardNames(shards.length);
  const bytes = shards.map((s) => (s instanceof Uint8Array ? s : new Uint8Array(s)));
  checkHeaders(config, bytes, names);
  // Each tensor goes to the backend as soon as it is decoded, so the page holds the file and one
  // tensor's float32 copy at a time, not the whole model twice (Pythia-410m: 0.8 GB of float16
  // file and 1.6 GB of float32 otherwise).
  const specs = new Map(paramSpecs(config).map((s) => [s.name, s]));
  const params: Params = {};
  const warnings: string[] = [];
  try {
    bytes.forEach((shard, i) => {
      const { nonFinite } = inFile(names[i], () =>
        forEachTensor(
          shard,
          (fileName, _shape, _dtype, data) => {
            const spec = specs.get(canonicalName(config, fileName));
            // checkHeaders matched every name and shape
            if (spec) params[spec.name] = tf.tensor(spec.fileTransposed ? transposeHost(data, spec.shape[1], spec.shape[0]) : data, spec.shape, 'float32');
          },
          (name) => isSkippedBuffer(config, name),
        ),
      );
      const warning = nonFiniteWarning(names[i], nonFinite);
      if (warning) warnings.push(warning);
    });
  } catch (e) {
    disposeParams(params);
    throw e;
  }
  return { config, params, warnings };
}

/** A parameter's shape in the checkpoint file (GPT-2's Conv1D matrices are stored [in, out]). */
const fileShape = (s: ParamSpec): number[] => (s.fileTransposed ? [s.shape[1], s.shape[0]] : s.shape);

/** The (cols, rows) transpose of a row-major (rows, cols) matrix, on the host (no second backend copy). */
export function transposeHost(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c];
  return out;
}

/** Host copies of the parameters → a model.safetensors in the HF layout. */
export function checkpointBytes(config: ModelConfig, data: Map<string, Float32Array>, dtype: 'F32' | 'F16' = 'F32'): Uint8Array {
  return writeSafetensors(
    paramSpecs(config).map((s) => {
      const d = data.get(s.name);
      if (!d) throw new Error(`missing parameter ${s.name}`);
      return { name: s.name, shape: fileShape(s), data: s.fileTransposed ? transposeHost(d, s.shape[0], s.shape[1]) : d };
    }),
    { dtype, metadata: { format: 'pt' } },
  );
}
