/**
 * A model from its files: config.json plus one or more safetensors shards.
 */
import { parseConfig, type NeoXConfig } from './config';
import { isSkippedBuffer, paramSpecs, paramsFromData, type Params } from './params';
import { readSafetensors, writeSafetensors, type LoadedTensor } from './safetensors';

export const PICKLE_REFUSAL =
  'only safetensors checkpoints can be loaded: pytorch_model.bin is a Python pickle, and unpickling can run arbitrary code (and needs Python). Use a model.safetensors (most Hub repos have one; convert others with the safetensors "convert" tool)';

/** Decode all shards, dropping the buffers hub files carry, and check names and shapes against the config. */
export function readCheckpoint(config: NeoXConfig, shards: (ArrayBuffer | Uint8Array)[]): Map<string, LoadedTensor> {
  const all = new Map<string, LoadedTensor>();
  for (const shard of shards) {
    for (const [name, t] of readSafetensors(shard, isSkippedBuffer).tensors) all.set(name, t);
  }
  const expected = new Set(paramSpecs(config).map((s) => s.name));
  for (const name of all.keys()) {
    if (!expected.has(name)) {
      throw new Error(`the checkpoint has a tensor "${name}" that a GPTNeoXForCausalLM with this config.json does not: is the config from the same model?`);
    }
  }
  return all;
}

export interface LoadedModel {
  config: NeoXConfig;
  params: Params;
}

/** config.json (object or text) + safetensors shards → tensors on the current backend. */
export function loadModel(configJson: unknown, shards: (ArrayBuffer | Uint8Array)[]): LoadedModel {
  const config = parseConfig(configJson);
  if (shards.length === 0) throw new Error(`no model.safetensors: ${PICKLE_REFUSAL}`);
  return { config, params: paramsFromData(config, readCheckpoint(config, shards)) };
}

/** Host copies of the parameters → a model.safetensors in the HF layout. */
export function checkpointBytes(config: NeoXConfig, data: Map<string, Float32Array>, dtype: 'F32' | 'F16' = 'F32'): Uint8Array {
  return writeSafetensors(
    paramSpecs(config).map((s) => {
      const d = data.get(s.name);
      if (!d) throw new Error(`missing parameter ${s.name}`);
      return { name: s.name, shape: s.shape, data: d };
    }),
    { dtype, metadata: { format: 'pt' } },
  );
}
