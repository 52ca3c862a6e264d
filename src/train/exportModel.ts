/**
 * A trained run as files the Hugging Face ecosystem loads: a model folder (config.json,
 * model.safetensors in the HF layout, the tokenizer files) and, for LoRA, a PEFT adapter
 * (adapter_config.json + adapter_model.safetensors with PEFT's key names).
 */
import * as tf from '@tensorflow/tfjs-core';
import { toHfConfig, type NeoXConfig } from '../model/config';
import { checkpointBytes } from '../model/checkpoint';
import { paramSpecs, type Params } from '../model/params';
import { writeSafetensors } from '../model/safetensors';
import { mergeLora } from './lora';
import type { LoraConfig } from './types';

export interface OutFile {
  name: string;
  bytes: Uint8Array;
}

const json = (v: unknown) => new TextEncoder().encode(`${JSON.stringify(v, null, 2)}\n`);

async function hostCopies(params: Params, names: string[]): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const n of names) out.set(n, (await params[n].data()) as Float32Array);
  return out;
}

/** config.json + model.safetensors (float32) + whatever tokenizer files are given. */
export async function modelFolderFiles(config: NeoXConfig, params: Params, tokenizerFiles: OutFile[]): Promise<OutFile[]> {
  const data = await hostCopies(params, paramSpecs(config).map((s) => s.name));
  return [
    { name: 'config.json', bytes: json(toHfConfig(config)) },
    { name: 'model.safetensors', bytes: checkpointBytes(config, data) },
    ...tokenizerFiles,
  ];
}

/** The base weights with the adapters folded in (W + scale·B·A), ready for modelFolderFiles. */
export function mergedParams(params: Params, lora: LoraConfig): { params: Params; dispose: () => void } {
  const merged = mergeLora(params, lora);
  const out: Params = {};
  for (const [n, t] of Object.entries(params)) if (!n.includes('.lora_')) out[n] = merged[n] ?? t;
  return { params: out, dispose: () => tf.dispose(Object.values(merged)) };
}

/** PEFT's files for a LoRA adapter on a GPT-NeoX base (keys as `PeftModel.save_pretrained` writes them). */
export async function peftAdapterFiles(adapters: Params, lora: LoraConfig, baseModel: string): Promise<OutFile[]> {
  const names = Object.keys(adapters).sort();
  const data = await hostCopies(adapters, names);
  const tensors = names.map((n) => ({ name: `base_model.model.${n}`, shape: adapters[n].shape, data: data.get(n)! }));
  const config = {
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
    base_model_name_or_path: baseModel,
    r: lora.rank,
    lora_alpha: lora.alpha,
    lora_dropout: lora.dropout,
    // PEFT matches module names by suffix: "query_key_value" adapts attention.query_key_value.
    target_modules: lora.targets.map((t) => t.split('.').pop()),
    bias: 'none',
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    modules_to_save: null,
    use_rslora: false,
    use_dora: false,
  };
  return [
    { name: 'adapter_config.json', bytes: json(config) },
    { name: 'adapter_model.safetensors', bytes: writeSafetensors(tensors, { metadata: { format: 'pt' } }) },
  ];
}
