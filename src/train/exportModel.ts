/**
 * A trained run as files the Hugging Face ecosystem loads: a model folder (config.json,
 * generation_config.json, model.safetensors in the HF layout, the source's tokenizer files) and, for LoRA,
 * a PEFT adapter (adapter_config.json + adapter_model.safetensors with PEFT's key names).
 *
 * What "loads" means is pinned down by scripts/export_reference.py (a PyTorch GPT-NeoX built with
 * GPTNeoXForCausalLM's module names, strict state-dict loading, PEFT's target matching and LoRA
 * forward) and the fixtures it wrote, fixtures/export/ (see src/train/exportModel.test.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { toHfConfig, type ModelConfig } from '../model/config';
import { checkpointBytes } from '../model/checkpoint';
import { paramSpecs, type Params } from '../model/params';
import { writeSafetensors } from '../model/safetensors';
import { mergeLora, peftTargetModules } from './lora';
import type { LoraConfig } from './types';

export interface OutFile {
  name: string;
  bytes: Uint8Array;
}

/** How a model folder stores its weights: float32 (exact) or float16 (half the bytes, as the Hub's Pythia files). */
export type ExportDtype = 'float32' | 'float16';

export interface ModelFolderOptions {
  /** Default float32. float16 rounds every weight to nearest even (as torch's .half()). */
  dtype?: ExportDtype;
}

const json = (v: unknown) => new TextEncoder().encode(`${JSON.stringify(v, null, 2)}\n`);

async function hostCopies(params: Params, names: string[]): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const n of names) {
    const t = params[n];
    if (!t) throw new Error(`cannot export: the model has no tensor "${n}"`);
    out.set(n, (await t.data()) as Float32Array); // GPU→CPU read, one tensor at a time
  }
  return out;
}

/**
 * generation_config.json as transformers' GenerationConfig.from_model_config writes it for a
 * model that came without one: the special token ids and `_from_model_config`, keys sorted. (No
 * transformers_version: the file was not written by transformers, and the field is optional.)
 * A model that came with one keeps it (see SOURCE_FILES).
 */
export function generationConfig(config: ModelConfig): Record<string, unknown> {
  return { _from_model_config: true, bos_token_id: config.bosTokenId, eos_token_id: config.eosTokenId };
}

/**
 * The files of the model a run started from that its exported folder carries unchanged, as
 * save_pretrained writes the loaded tokenizer and generation config back: the tokenizer's, and the
 * repo's generation_config.json, whose eos_token_id may be a list (Qwen's and SmolLM2's instruct
 * models end a reply at <|im_end|>, not only at the EOS config.json names) and whose sampling
 * defaults (temperature, top_p, repetition_penalty) are the authors' to keep.
 */
export const SOURCE_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'generation_config.json'] as const;

const WRITTEN_FILES = ['config.json', 'model.safetensors'];

/**
 * config.json (torch_dtype = opts.dtype) + generation_config.json + model.safetensors (F32, or F16
 * for dtype float16; names and shapes as the family's state dict, no buffers) + the source files
 * given (SOURCE_FILES), unchanged. generation_config.json is made from the config only when the
 * source files have none. Nothing else is made up: without tokenizer files the folder has none.
 */
export async function modelFolderFiles(config: ModelConfig, params: Params, sourceFiles: OutFile[], opts: ModelFolderOptions = {}): Promise<OutFile[]> {
  checkFolderRequest(sourceFiles, opts);
  return folderFromData(config, await hostCopies(params, paramSpecs(config).map((s) => s.name)), sourceFiles, opts);
}

function checkFolderRequest(sourceFiles: OutFile[], opts: ModelFolderOptions): void {
  const dtype = opts.dtype ?? 'float32';
  if (dtype !== 'float32' && dtype !== 'float16') throw new Error(`export dtype must be float32 or float16, got ${JSON.stringify(dtype)}`);
  const stray = sourceFiles.find((f) => !(SOURCE_FILES as readonly string[]).includes(f.name));
  if (stray) {
    const why = WRITTEN_FILES.includes(stray.name) ? 'is written by the export itself' : 'is not a file the export carries over';
    throw new Error(`"${stray.name}" ${why}: pass only the source model's ${SOURCE_FILES.join(', ')}`);
  }
}

function folderFromData(config: ModelConfig, data: Map<string, Float32Array>, sourceFiles: OutFile[], opts: ModelFolderOptions): OutFile[] {
  const dtype = opts.dtype ?? 'float32';
  const hasGeneration = sourceFiles.some((f) => f.name === 'generation_config.json');
  return [
    { name: 'config.json', bytes: json(toHfConfig(config, dtype)) },
    ...(hasGeneration ? [] : [{ name: 'generation_config.json', bytes: json(generationConfig(config)) }]),
    { name: 'model.safetensors', bytes: checkpointBytes(config, data, dtype === 'float16' ? 'F16' : 'F32') },
    ...sourceFiles,
  ];
}

/**
 * A run's float32 weights on the host by Hugging Face name. A LoRA run's adapters are folded into
 * the base first (W + scale·B·A): an adapter cannot ride inside a model file.
 */
export async function runWeights(config: ModelConfig, params: Params, lora: LoraConfig | null): Promise<Map<string, Float32Array>> {
  const names = paramSpecs(config).map((s) => s.name);
  if (!lora) return hostCopies(params, names);
  const merged = mergeLora(params, lora);
  try {
    return await hostCopies({ ...params, ...merged }, names);
  } finally {
    tf.dispose(Object.values(merged));
  }
}

/** A run's weights as a model folder (a LoRA run's merged into the base). */
export async function runModelFolderFiles(config: ModelConfig, params: Params, lora: LoraConfig | null, sourceFiles: OutFile[], opts: ModelFolderOptions = {}): Promise<OutFile[]> {
  checkFolderRequest(sourceFiles, opts);
  return folderFromData(config, await runWeights(config, params, lora), sourceFiles, opts);
}

/** The adapter tensors (lora_A, lora_B) among a LoRA run's parameters. */
export const adapterParams = (params: Params): Params => Object.fromEntries(Object.entries(params).filter(([n]) => n.includes('.lora_')));

/** The prefix PEFT's PeftModelForCausalLM puts before the base model's module names in a saved adapter. */
export const PEFT_PREFIX = 'base_model.model.';

/**
 * PEFT's files for a LoRA adapter, as `PeftModel.save_pretrained` writes them: keys
 * `base_model.model.<layer prefix><module>.lora_{A,B}.weight` (the adapter name "default"
 * removed), A (r, in) and B (out, r), float32, whatever the family (GPT-2's Conv1D included).
 */
export async function peftAdapterFiles(adapters: Params, lora: LoraConfig, baseModel: string): Promise<OutFile[]> {
  const names = Object.keys(adapters).sort();
  const bad = names.find((n) => !/\.lora_[AB]\.weight$/.test(n));
  if (bad) throw new Error(`"${bad}" is not a LoRA adapter tensor: pass only the run's <module>.lora_A/lora_B weights`);
  const data = await hostCopies(adapters, names);
  const tensors = names.map((n) => ({ name: `${PEFT_PREFIX}${n}`, shape: adapters[n].shape, data: data.get(n)! }));
  const config = {
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
    base_model_name_or_path: baseModel,
    r: lora.rank,
    lora_alpha: lora.alpha,
    lora_dropout: lora.dropout,
    target_modules: peftTargetModules(lora),
    bias: 'none',
    fan_in_fan_out: lora.targets.some((t) => /^(attn\.c_|mlp\.c_)/.test(t)), // GPT-2's Conv1D layers: PEFT sets it for them
    inference_mode: true,
    init_lora_weights: true,
    modules_to_save: null,
    use_rslora: lora.rslora === true,
    use_dora: false,
  };
  return [
    { name: 'adapter_config.json', bytes: json(config) },
    { name: 'adapter_model.safetensors', bytes: writeSafetensors(tensors, { metadata: { format: 'pt' } }) },
  ];
}
