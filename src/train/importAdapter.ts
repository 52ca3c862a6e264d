/**
 * A PEFT LoRA adapter trained elsewhere (adapter_config.json + adapter_model.safetensors, as
 * `PeftModel.save_pretrained` writes them), read back into the studio's names and LoraConfig.
 *
 * The studio applies exactly PEFT's default LoRA on GPT-NeoX block linears, y = x Wᵀ + b +
 * (lora_alpha / r) · x Aᵀ Bᵀ, with the same targets in every layer. Whatever an adapter needs
 * beyond that (another PEFT method, DoRA, rsLoRA, trained biases, extra saved modules, per-layer
 * or per-module ranks, transposed weights) is refused by name rather than applied wrongly.
 */
import type { NeoXConfig } from '../model/config';
import { PICKLE_REFUSAL } from '../model/checkpoint';
import { BLOCK_LINEARS, layerPrefix, linearShape, type BlockLinear } from '../model/params';
import { readSafetensors } from '../model/safetensors';
import { loraParamNames } from './lora';
import { PEFT_PREFIX } from './exportModel';
import type { LoraConfig } from './types';

export interface AdapterFile {
  name: string;
  bytes: Uint8Array;
}

export interface ParsedAdapter {
  lora: LoraConfig;
  /** Studio names (`gpt_neox.layers.N.<module>.lora_A.weight`, A (r, in), B (out, r)), float32, in loraParamNames order. */
  tensors: Record<string, { shape: number[]; data: Float32Array }>;
  /** adapter_config.json's base_model_name_or_path, when it names one. */
  baseModel: string | null;
}

export class AdapterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AdapterError';
  }
}

const SUPPORTED = 'query_key_value, dense, dense_h_to_4h, dense_4h_to_h (attention.* and mlp.* of each block)';
const baseName = (n: string): string => n.slice(n.lastIndexOf('/') + 1);

/** Every module of GPTNeoXForCausalLM that PEFT could put LoRA on (its Linear and Embedding layers). */
function adaptableModules(base: NeoXConfig): { name: string; layer: number; linear: BlockLinear | null }[] {
  const out: { name: string; layer: number; linear: BlockLinear | null }[] = [{ name: 'gpt_neox.embed_in', layer: -1, linear: null }];
  for (let i = 0; i < base.numLayers; i++) for (const l of BLOCK_LINEARS) out.push({ name: `${layerPrefix(i)}${l}`, layer: i, linear: l });
  out.push({ name: 'embed_out', layer: -1, linear: null });
  return out;
}

/** PEFT's check_target_module_exists for a list: the module name equals a target or ends in "." + target. */
const matchesListTarget = (module: string, target: string): boolean => module === target || module.endsWith(`.${target}`);

function pythonFullMatch(pattern: string): (module: string) => boolean {
  let re: RegExp;
  try {
    re = new RegExp(`^(?:${pattern})$`);
  } catch {
    throw new AdapterError(`adapter_config.json's target_modules is the pattern ${JSON.stringify(pattern)}, which cannot be read here: list the modules instead, e.g. ["query_key_value"]`);
  }
  return (m) => re.test(m);
}

/** Resolve target_modules (a list, a regex string, or "all-linear") to block linears, the same in every layer. */
function resolveTargets(raw: unknown, base: NeoXConfig, layers: Set<number>): BlockLinear[] {
  const modules = adaptableModules(base);
  let groups: { label: string; match: (m: string) => boolean }[];
  if (raw === 'all-linear') {
    // PEFT: every Linear except the output layer (embed_out).
    groups = [{ label: 'all-linear', match: (m) => m !== 'embed_out' && m !== 'gpt_neox.embed_in' }];
  } else if (typeof raw === 'string') {
    groups = [{ label: raw, match: pythonFullMatch(raw) }];
  } else if (Array.isArray(raw) && raw.length > 0 && raw.every((t) => typeof t === 'string')) {
    groups = (raw as string[]).map((t) => ({ label: t, match: (m: string) => matchesListTarget(m, t) }));
  } else {
    throw new AdapterError(`adapter_config.json's target_modules must be a list of module names (e.g. ["query_key_value"]), got ${JSON.stringify(raw ?? null)}`);
  }
  const targets: BlockLinear[] = [];
  for (const g of groups) {
    const hit = modules.filter((m) => g.match(m.name));
    if (hit.length === 0) throw new AdapterError(`target module "${g.label}" matches none of GPT-NeoX's linear layers: the adapter is for another architecture or module (supported: ${SUPPORTED})`);
    const other = hit.find((m) => m.linear === null);
    if (other) throw new AdapterError(`target module "${g.label}" puts LoRA on ${other.name}: the studio applies adapters to ${SUPPORTED} only`);
    for (const m of hit) if (!targets.includes(m.linear!)) targets.push(m.linear!);
  }
  // The studio's LoraConfig applies its targets to every layer (of those listed in layers_to_transform).
  for (const t of targets) {
    const on = new Set(modules.filter((m) => m.linear === t && groups.some((g) => g.match(m.name))).map((m) => m.layer));
    const missing = [...layers].filter((i) => !on.has(i));
    if (missing.length) throw new AdapterError(`target_modules put LoRA on ${t} in some layers only (not in layer ${missing.join(', ')}): the studio applies the same targets to every layer`);
  }
  return targets;
}

const isSet = (v: unknown): boolean => v !== undefined && v !== null && v !== false && !(Array.isArray(v) && v.length === 0) && !(typeof v === 'object' && !Array.isArray(v) && Object.keys(v as object).length === 0);

function checkConfig(c: Record<string, unknown>): void {
  const peftType = c.peft_type ?? null;
  if (peftType !== 'LORA') {
    throw new AdapterError(`adapter_config.json has peft_type ${JSON.stringify(peftType)}: only LoRA adapters ("LORA") can be applied (AdaLoRA, IA3, prefix tuning and others are different methods)`);
  }
  if (c.task_type !== undefined && c.task_type !== null && c.task_type !== 'CAUSAL_LM') {
    throw new AdapterError(`adapter_config.json has task_type ${JSON.stringify(c.task_type)}: only causal language model adapters ("CAUSAL_LM") fit a GPT-NeoX text generator`);
  }
  const refuse: [string, boolean, string][] = [
    ['fan_in_fan_out', c.fan_in_fan_out === true, 'its weights are stored transposed, for GPT-2-style Conv1D layers; GPT-NeoX uses nn.Linear (fan_in_fan_out false)'],
    ['use_dora', c.use_dora === true, 'DoRA rescales the merged weight by a learned magnitude, which the studio does not implement'],
    ['use_rslora', c.use_rslora === true, 'rsLoRA scales by lora_alpha/√r, the studio by PEFT\'s default lora_alpha/r'],
    ['lora_bias', c.lora_bias === true, 'it trains a bias on lora_B, which the studio does not have'],
    ['modules_to_save', isSet(c.modules_to_save), 'it also replaces whole modules (their full weights are saved beside the adapter)'],
    ['rank_pattern', isSet(c.rank_pattern), 'it gives some modules their own rank'],
    ['alpha_pattern', isSet(c.alpha_pattern), 'it gives some modules their own lora_alpha'],
    ['layer_replication', isSet(c.layer_replication), 'it duplicates layers of the base model'],
    ['exclude_modules', isSet(c.exclude_modules), 'it excludes modules from the targets'],
    ['trainable_token_indices', isSet(c.trainable_token_indices), 'it also trains embedding rows'],
    ['target_parameters', isSet(c.target_parameters), 'it adapts parameters rather than modules'],
  ];
  for (const [field, bad, why] of refuse) {
    if (bad) throw new AdapterError(`adapter_config.json sets ${field} ${JSON.stringify(c[field])}: ${why}. Train the adapter with ${field} at its default to use it here`);
  }
  const bias = c.bias ?? 'none';
  if (bias !== 'none') throw new AdapterError(`adapter_config.json has bias ${JSON.stringify(bias)}: the adapter also trains the base model's biases, which the studio cannot apply (only bias "none")`);
  const r = c.r;
  if (typeof r !== 'number' || !Number.isInteger(r) || r < 1) throw new AdapterError(`adapter_config.json's r must be a positive integer, got ${JSON.stringify(r ?? null)}`);
  const alpha = c.lora_alpha ?? 8; // PEFT's default
  if (typeof alpha !== 'number' || !Number.isFinite(alpha)) throw new AdapterError(`adapter_config.json's lora_alpha must be a number, got ${JSON.stringify(alpha)}`);
  const dropout = c.lora_dropout ?? 0;
  if (typeof dropout !== 'number' || !(dropout >= 0 && dropout < 1)) throw new AdapterError(`adapter_config.json's lora_dropout must be a number in [0, 1), got ${JSON.stringify(dropout)}`);
}

/** Which layers layers_to_transform names (all of them when absent); anything short of all is refused. */
function checkLayers(c: Record<string, unknown>, base: NeoXConfig): Set<number> {
  const all = new Set(Array.from({ length: base.numLayers }, (_, i) => i));
  const raw = c.layers_to_transform;
  if (raw === undefined || raw === null) return all;
  const list = typeof raw === 'number' ? [raw] : Array.isArray(raw) ? raw : null;
  if (!list || list.length !== all.size || !list.every((i) => all.has(i as number)) || new Set(list).size !== all.size) {
    throw new AdapterError(`adapter_config.json sets layers_to_transform ${JSON.stringify(raw)}: the studio applies adapters to every layer (0…${base.numLayers - 1} of this base model)`);
  }
  return all;
}

const describeBase = (b: NeoXConfig): string => `this base model (hidden_size ${b.hiddenSize}, intermediate_size ${b.intermediateSize}, ${b.numLayers} layers)`;

/**
 * adapter_config.json + adapter_model.safetensors (F32, F16 or BF16; read as float32) → the
 * studio's LoraConfig and adapter tensors, checked against the base model's config. Files may
 * carry folder prefixes ("adapter/adapter_config.json").
 */
export function parsePeftAdapter(files: AdapterFile[], base: NeoXConfig): ParsedAdapter {
  const byName = new Map<string, AdapterFile>();
  for (const f of files) if (!byName.has(baseName(f.name))) byName.set(baseName(f.name), f);
  const cfgFile = byName.get('adapter_config.json');
  const weights = byName.get('adapter_model.safetensors');
  if (!cfgFile) throw new AdapterError('no adapter_config.json among the files: select both adapter_config.json and adapter_model.safetensors from the adapter folder');
  if (!weights) {
    if (byName.has('adapter_model.bin')) throw new AdapterError(`adapter_model.bin cannot be read: ${PICKLE_REFUSAL}`);
    throw new AdapterError('no adapter_model.safetensors among the files: select both adapter_config.json and adapter_model.safetensors from the adapter folder');
  }
  let c: Record<string, unknown>;
  try {
    c = JSON.parse(new TextDecoder().decode(cfgFile.bytes)) as Record<string, unknown>;
  } catch (e) {
    throw new AdapterError(`adapter_config.json is not valid JSON (${(e as Error).message})`);
  }
  if (typeof c !== 'object' || c === null || Array.isArray(c)) throw new AdapterError('adapter_config.json must hold a JSON object');
  checkConfig(c);
  const layers = checkLayers(c, base);
  const baseModel = typeof c.base_model_name_or_path === 'string' ? c.base_model_name_or_path : null;
  const lora: LoraConfig = {
    rank: c.r as number,
    alpha: (c.lora_alpha ?? 8) as number,
    dropout: (c.lora_dropout ?? 0) as number,
    targets: resolveTargets(c.target_modules, base, layers),
  };
  const madeFor = baseModel ? ` (adapter_config.json says it was trained on "${baseModel}")` : '';

  let stored: ReturnType<typeof readSafetensors>['tensors'];
  try {
    stored = readSafetensors(weights.bytes).tensors;
  } catch (e) {
    throw new AdapterError(`adapter_model.safetensors: ${(e as Error).message}`);
  }
  const expected = new Set(loraParamNames(base, lora));
  const tensors: ParsedAdapter['tensors'] = {};
  for (const [key, t] of stored) {
    const name = key.startsWith(PEFT_PREFIX) ? key.slice(PEFT_PREFIX.length) : null;
    const m = name ? /^gpt_neox\.layers\.(\d+)\.(.+)\.lora_([AB])\.weight$/.exec(name) : null;
    if (!name || !m) {
      const why = /lora_magnitude_vector/.test(key) ? ' (a DoRA magnitude)' : /lora_embedding_/.test(key) ? ' (LoRA on an embedding)' : /\.bias$/.test(key) ? ' (a trained bias)' : '';
      throw new AdapterError(`adapter_model.safetensors has a tensor "${key}"${why} that is not a LoRA A/B weight of a GPT-NeoX block linear under "${PEFT_PREFIX}": the studio cannot apply it`);
    }
    if (Number(m[1]) >= base.numLayers) throw new AdapterError(`adapter_model.safetensors has "${key}" for layer ${m[1]}, but ${describeBase(base)} has layers 0…${base.numLayers - 1}${madeFor}`);
    if (!expected.has(name)) {
      throw new AdapterError(`adapter_model.safetensors has "${key}", but adapter_config.json's target_modules ${JSON.stringify(c.target_modules)} do not cover ${m[2]}: the two files do not belong together`);
    }
    const [out, inp] = linearShape(base, m[2] as BlockLinear);
    const want = m[3] === 'A' ? [lora.rank, inp] : [out, lora.rank];
    if (t.shape.join(',') !== want.join(',')) {
      throw new AdapterError(`tensor "${key}" is [${t.shape}] but ${describeBase(base)} with r = ${lora.rank} needs [${want}]: the adapter was made for a different base model${madeFor}, or adapter_config.json's r is wrong`);
    }
    tensors[name] = { shape: t.shape, data: t.data };
  }
  const ordered: ParsedAdapter['tensors'] = {};
  for (const n of expected) {
    if (!tensors[n]) throw new AdapterError(`adapter_model.safetensors has no tensor "${PEFT_PREFIX}${n}", which target_modules ${JSON.stringify(c.target_modules)} imply: the file is incomplete or belongs to another adapter_config.json`);
    ordered[n] = tensors[n];
  }
  return { lora, tensors: ordered, baseModel };
}
