/**
 * A PEFT LoRA adapter trained elsewhere (adapter_config.json + adapter_model.safetensors, as
 * `PeftModel.save_pretrained` writes them), read back into the studio's names and LoraConfig.
 *
 * The studio applies exactly PEFT's default LoRA on the block linears, y = x Wᵀ + b +
 * (lora_alpha / r) · x Aᵀ Bᵀ, with the same targets in every layer. Whatever an adapter needs
 * beyond that (another PEFT method, DoRA, rsLoRA, trained biases, extra saved modules, per-layer
 * or per-module ranks, transposed weights) is refused by name rather than applied wrongly.
 */
import { FAMILY_NAMES, type ModelConfig } from '../model/config';
import { PICKLE_REFUSAL } from '../model/checkpoint';
import { layerOf, layerPrefix, linearNames, linearShape, modelNames, type BlockLinear } from '../model/params';
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
  /** Studio names (`<layer prefix><module>.lora_A.weight`, A (r, in), B (out, r)), float32, in loraParamNames order. */
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

/**
 * A config value as a message shows it: JSON, cut short. The file is untrusted: a value may be
 * megabytes long, or nested so deep that JSON.stringify overflows the stack.
 */
function show(v: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    return '(a value nested too deep to show)';
  }
  return s.length > 100 ? `${s.slice(0, 100)}…` : s;
}

/** The block linears an adapter may target, for messages. */
const supported = (base: ModelConfig): string => `${linearNames(base).map((l) => l.split('.').pop()).join(', ')} (${linearNames(base).join(', ')} of each block)`;
const baseName = (n: string): string => n.slice(n.lastIndexOf('/') + 1);

/** The module names of the embedding and LM head (no `.weight`), which PEFT could adapt and the studio does not. */
function sharedModules(base: ModelConfig): { embed: string; head: string } {
  const n = modelNames(base);
  return { embed: n.embed.replace(/\.weight$/, ''), head: base.tieWordEmbeddings ? 'lm_head' : n.head.replace(/\.weight$/, '') };
}

/** Every module of the model that PEFT could put LoRA on (its Linear and Embedding layers). */
function adaptableModules(base: ModelConfig): { name: string; layer: number; linear: BlockLinear | null }[] {
  const { embed, head } = sharedModules(base);
  const out: { name: string; layer: number; linear: BlockLinear | null }[] = [{ name: embed, layer: -1, linear: null }];
  for (let i = 0; i < base.numLayers; i++) for (const l of linearNames(base)) out.push({ name: `${layerPrefix(base, i)}${l}`, layer: i, linear: l });
  out.push({ name: head, layer: -1, linear: null });
  return out;
}

/** PEFT's check_target_module_exists for a list: the module name equals a target or ends in "." + target. */
const matchesListTarget = (module: string, target: string): boolean => module === target || module.endsWith(`.${target}`);

/**
 * A string target_modules is, for PEFT, a regular expression that must match a whole module name
 * (re.fullmatch). It never reaches RegExp here: the adapter is untrusted input, and a pattern such
 * as "(.*.*)*x" backtracks for hours and hangs the worker. The forms adapter configs carry are read
 * by a small matcher instead: literal characters, `.` `\.` `\d` `\w` and `[a-z0-9_]` classes, `*`
 * `+` `?` on one character, and groups of alternatives ("(query_key_value|dense)", "(?:attn|mlp)")
 * that are not themselves repeated; anything else is refused. Matching follows every way through
 * the pattern at once (sets of positions), so it takes time linear in pattern × name, whatever the
 * pattern.
 */
type CharTest = (c: number) => boolean;
type Piece = { test: CharTest; optional: boolean; many: boolean } | { alts: Piece[][] };

const MAX_PATTERN_CHARS = 256;
const MAX_GROUP_DEPTH = 4;
const isDigit: CharTest = (c) => c >= 0x30 && c <= 0x39;
const isWord: CharTest = (c) => isDigit(c) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;
const isAlnum = (ch: string): boolean => isWord(ch.charCodeAt(0)) && ch !== '_';

/** Why a pattern is not evaluated (a phrase for the message). */
class PatternRefused extends Error {}

function parsePattern(pattern: string): Piece[][] {
  if (pattern.length > MAX_PATTERN_CHARS) throw new PatternRefused(`it is over ${MAX_PATTERN_CHARS} characters long`);
  // ^ and $ change nothing under a full match; a "\$" at the end is a literal "$".
  let backslashes = 0;
  while (pattern[pattern.length - 2 - backslashes] === '\\') backslashes++;
  const src = pattern.slice(pattern.startsWith('^') ? 1 : 0, pattern.endsWith('$') && backslashes % 2 === 0 ? -1 : undefined);
  let i = 0;

  /** One character test (consuming it), for a literal, an escape, "." or a class. */
  function charTest(): CharTest {
    const ch = src[i++];
    if (ch === '.') return (c) => c !== 0x0a;
    if (ch === '\\') return escape(false);
    if (ch === '[') return charClass();
    if ('^$*+?{}[]()|'.includes(ch)) throw new PatternRefused(`"${ch}" where a character was expected`);
    const code = ch.charCodeAt(0);
    return (c) => c === code;
  }

  function escape(inClass: boolean): CharTest {
    const e = src[i++];
    if (e === undefined) throw new PatternRefused('it ends in a lone "\\"');
    if (e === 'd') return isDigit;
    if (e === 'w') return isWord;
    // Python reads an escaped letter or digit as a special sequence (\b, \s, \1…): not supported.
    if (isAlnum(e)) throw new PatternRefused(`it uses "\\${e}"${inClass ? ' in a class' : ''}`);
    const code = e.charCodeAt(0);
    return (c) => c === code;
  }

  /** [abc], [a-z0-9_], [\d.]: no negation, no nested sets. */
  function charClass(): CharTest {
    if (src[i] === '^') throw new PatternRefused('it uses a negated class "[^…]"');
    const tests: CharTest[] = [];
    while (i < src.length && src[i] !== ']') {
      if (src[i] === '[') throw new PatternRefused('it uses "[" inside a class');
      if (src[i] === '\\') {
        i++;
        tests.push(escape(true));
        continue;
      }
      const lo = src.charCodeAt(i++);
      if (src[i] === '-' && i + 1 < src.length && src[i + 1] !== ']') {
        const hi = src.charCodeAt(i + 1);
        i += 2;
        tests.push((c) => c >= lo && c <= hi);
      } else tests.push((c) => c === lo);
    }
    if (src[i] !== ']') throw new PatternRefused('a "[" is never closed');
    i++;
    if (tests.length === 0) throw new PatternRefused('it has an empty class "[]"');
    return (c) => tests.some((t) => t(c));
  }

  function alternatives(depth: number): Piece[][] {
    const alts: Piece[][] = [[]];
    while (i < src.length && src[i] !== ')') {
      const seq = alts[alts.length - 1];
      if (src[i] === '|') {
        alts.push([]);
        i++;
      } else if (src[i] === '(') {
        if (depth >= MAX_GROUP_DEPTH) throw new PatternRefused(`it nests groups more than ${MAX_GROUP_DEPTH} deep`);
        i++;
        if (src.startsWith('?:', i)) i += 2;
        else if (src[i] === '?') throw new PatternRefused(`it uses "(?${src[i + 1] ?? ''}" (a lookaround, flag or named group)`);
        const inner = alternatives(depth + 1);
        if (src[i] !== ')') throw new PatternRefused('a "(" is never closed');
        i++;
        // A repeated group is where backtracking explodes ("(.*.*)*x"); configs never need one.
        if ('*+?{'.includes(src[i] ?? '.')) throw new PatternRefused(`it repeats a group ("(…)${src[i]}")`);
        seq.push({ alts: inner });
      } else {
        const test = charTest();
        const q = src[i];
        if (q === '{') throw new PatternRefused('it uses a counted repetition "{…}"');
        if (q === '*' || q === '+' || q === '?') {
          i++;
          if (src[i] === '?') i++; // lazy: the same whole-name matches
          if ('*+?{'.includes(src[i] ?? '.')) throw new PatternRefused(`it repeats a repetition ("${q}${src[i]}")`);
        }
        seq.push({ test, optional: q === '*' || q === '?', many: q === '*' || q === '+' });
      }
    }
    if (depth === 0 && i < src.length) throw new PatternRefused('it has a ")" that closes nothing');
    return alts;
  }
  return alternatives(0);
}

/** Positions in `s` where `alts` can end, starting from any position marked in `from`. */
function ends(alts: Piece[][], s: string, from: Uint8Array): Uint8Array {
  const out = new Uint8Array(s.length + 1);
  for (const seq of alts) {
    let at = from;
    for (const piece of seq) at = 'alts' in piece ? ends(piece.alts, s, at) : stepChar(piece, s, at);
    for (let k = 0; k <= s.length; k++) out[k] |= at[k];
  }
  return out;
}

function stepChar(piece: { test: CharTest; optional: boolean; many: boolean }, s: string, from: Uint8Array): Uint8Array {
  const out = new Uint8Array(s.length + 1);
  for (let k = 0; k <= s.length; k++) {
    if (!from[k]) continue;
    if (piece.optional) out[k] = 1;
    for (let j = k; j < s.length && piece.test(s.charCodeAt(j)); j++) {
      // Reached already from an earlier start, which went on from here as far as this would: each position is extended once.
      if (out[j + 1] && piece.many) break;
      out[j + 1] = 1;
      if (!piece.many) break;
    }
  }
  return out;
}

/** PEFT's re.fullmatch(pattern, module) for the patterns described above; refuses the others with an AdapterError. */
export function targetPatternMatcher(pattern: string): (module: string) => boolean {
  let alts: Piece[][];
  try {
    alts = parsePattern(pattern);
  } catch (e) {
    if (!(e instanceof PatternRefused)) throw e;
    throw new AdapterError(
      `adapter_config.json's target_modules is the pattern ${show(pattern)}, which the studio does not evaluate (${e.message}): list the modules instead, e.g. ["query_key_value", "dense"]`,
    );
  }
  return (m) => {
    const start = new Uint8Array(m.length + 1);
    start[0] = 1;
    return ends(alts, m, start)[m.length] === 1;
  };
}

/** Resolve target_modules (a list, a regex string, or "all-linear") to block linears, the same in every layer. */
function resolveTargets(raw: unknown, base: ModelConfig, layers: Set<number>): BlockLinear[] {
  const modules = adaptableModules(base);
  let groups: { label: string; match: (m: string) => boolean }[];
  if (raw === 'all-linear') {
    // PEFT: every Linear except the output layer.
    const { embed, head } = sharedModules(base);
    groups = [{ label: 'all-linear', match: (m) => m !== head && m !== embed }];
  } else if (typeof raw === 'string') {
    groups = [{ label: raw, match: targetPatternMatcher(raw) }];
  } else if (Array.isArray(raw) && raw.length > 0 && raw.every((t) => typeof t === 'string')) {
    groups = (raw as string[]).map((t) => ({ label: t, match: (m: string) => matchesListTarget(m, t) }));
  } else {
    throw new AdapterError(`adapter_config.json's target_modules must be a list of module names (e.g. ["query_key_value"]), got ${show(raw ?? null)}`);
  }
  const targets: BlockLinear[] = [];
  for (const g of groups) {
    const hit = modules.filter((m) => g.match(m.name));
    if (hit.length === 0 && typeof raw === 'string' && modules.some((m) => matchesListTarget(m.name, raw))) {
      throw new AdapterError(
        `adapter_config.json's target_modules is the string ${show(raw)}, which PEFT matches against whole module names (such as ${modules.find((m) => matchesListTarget(m.name, raw))!.name}), so it matches none: write it as a list, [${show(raw)}]`,
      );
    }
    if (hit.length === 0) throw new AdapterError(`target module ${show(g.label)} matches none of ${FAMILY_NAMES[base.modelType]}'s linear layers: the adapter is for another architecture or module (supported: ${supported(base)})`);
    const other = hit.find((m) => m.linear === null);
    if (other) throw new AdapterError(`target module ${show(g.label)} puts LoRA on ${other.name}: the studio applies adapters to ${supported(base)} only`);
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

function checkConfig(c: Record<string, unknown>, base: ModelConfig): void {
  const peftType = c.peft_type ?? null;
  if (peftType !== 'LORA') {
    throw new AdapterError(`adapter_config.json has peft_type ${show(peftType)}: only LoRA adapters ("LORA") can be applied (AdaLoRA, IA3, prefix tuning and others are different methods)`);
  }
  if (c.task_type !== undefined && c.task_type !== null && c.task_type !== 'CAUSAL_LM') {
    throw new AdapterError(`adapter_config.json has task_type ${show(c.task_type)}: only causal language model adapters ("CAUSAL_LM") fit a causal text generator`);
  }
  const refuse: [string, boolean, string][] = [
    // GPT-2's Conv1D layers are the one place PEFT sets fan_in_fan_out (it forces it on for them); A and B keep their shapes either way.
    ['fan_in_fan_out', c.fan_in_fan_out === true && base.modelType !== 'gpt2', `its weights are stored transposed, for GPT-2-style Conv1D layers; a ${FAMILY_NAMES[base.modelType]} model uses nn.Linear (fan_in_fan_out false)`],
    ['use_dora', c.use_dora === true, 'DoRA rescales the merged weight by a learned magnitude, which the studio does not implement'],
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
    if (bad) throw new AdapterError(`adapter_config.json sets ${field} ${show(c[field])}: ${why}. Train the adapter with ${field} at its default to use it here`);
  }
  const bias = c.bias ?? 'none';
  if (bias !== 'none') throw new AdapterError(`adapter_config.json has bias ${show(bias)}: the adapter also trains the base model's biases, which the studio cannot apply (only bias "none")`);
  const r = c.r;
  if (typeof r !== 'number' || !Number.isInteger(r) || r < 1) throw new AdapterError(`adapter_config.json's r must be a positive integer, got ${show(r ?? null)}`);
  const alpha = c.lora_alpha ?? 8; // PEFT's default
  if (typeof alpha !== 'number' || !Number.isFinite(alpha)) throw new AdapterError(`adapter_config.json's lora_alpha must be a number, got ${show(alpha)}`);
  const dropout = c.lora_dropout ?? 0;
  if (typeof dropout !== 'number' || !(dropout >= 0 && dropout < 1)) throw new AdapterError(`adapter_config.json's lora_dropout must be a number in [0, 1), got ${show(dropout)}`);
}

/** Which layers layers_to_transform names (all of them when absent); anything short of all is refused. */
function checkLayers(c: Record<string, unknown>, base: ModelConfig): Set<number> {
  const all = new Set(Array.from({ length: base.numLayers }, (_, i) => i));
  const raw = c.layers_to_transform;
  if (raw === undefined || raw === null) return all;
  const list = typeof raw === 'number' ? [raw] : Array.isArray(raw) ? raw : null;
  if (!list || list.length !== all.size || !list.every((i) => all.has(i as number)) || new Set(list).size !== all.size) {
    throw new AdapterError(`adapter_config.json sets layers_to_transform ${show(raw)}: the studio applies adapters to every layer (0…${base.numLayers - 1} of this base model)`);
  }
  return all;
}

/** PEFT writes adapter_config.json in a few KB; far more is not one, and is not worth parsing. */
const MAX_CONFIG_BYTES = 1_000_000;

const folderOf = (n: string): string => n.slice(0, n.lastIndexOf('/') + 1);

/** The two files of one adapter: both present, and from the same folder when the names carry folders. */
function pickAdapterFiles(files: AdapterFile[]): { cfgFile: AdapterFile; weights: AdapterFile } {
  const named = (n: string) => files.filter((f) => baseName(f.name) === n);
  const configs = named('adapter_config.json');
  if (configs.length === 0) throw new AdapterError('no adapter_config.json among the files: select both adapter_config.json and adapter_model.safetensors from the adapter folder');
  if (configs.length > 1) {
    throw new AdapterError(`the files hold ${configs.length} adapter_config.json (${configs.map((f) => f.name).join(', ')}): pick the folder of one adapter`);
  }
  const cfgFile = configs[0];
  const all = named('adapter_model.safetensors');
  const weights = all.find((f) => folderOf(f.name) === folderOf(cfgFile.name));
  if (!weights) {
    if (all.length > 0) throw new AdapterError(`adapter_model.safetensors is not beside ${cfgFile.name} (it is at ${all[0].name}): the two files must come from the same adapter folder`);
    if (named('adapter_model.bin').length > 0) throw new AdapterError(`adapter_model.bin cannot be read: ${PICKLE_REFUSAL}`);
    throw new AdapterError('no adapter_model.safetensors among the files: select both adapter_config.json and adapter_model.safetensors from the adapter folder');
  }
  return { cfgFile, weights };
}

const describeBase = (b: ModelConfig): string => `this base model (hidden_size ${b.hiddenSize}, intermediate_size ${b.intermediateSize}, ${b.numLayers} layers)`;

/**
 * adapter_config.json + adapter_model.safetensors (F32, F16 or BF16; read as float32) → the
 * studio's LoraConfig and adapter tensors, checked against the base model's config. Files may
 * carry folder prefixes ("adapter/adapter_config.json"): the two must then share one, and files
 * that hold two adapters' configs are refused rather than one picked at random.
 */
export function parsePeftAdapter(files: AdapterFile[], base: ModelConfig): ParsedAdapter {
  const { cfgFile, weights } = pickAdapterFiles(files);
  if (cfgFile.bytes.length > MAX_CONFIG_BYTES) {
    throw new AdapterError(`adapter_config.json is ${(cfgFile.bytes.length / 1e6).toFixed(1)} MB, and PEFT writes one of a few KB: pick the adapter_config.json saved with the adapter`);
  }
  let c: Record<string, unknown>;
  try {
    c = JSON.parse(new TextDecoder().decode(cfgFile.bytes)) as Record<string, unknown>;
  } catch (e) {
    throw new AdapterError(`adapter_config.json is not valid JSON (${(e as Error).message})`);
  }
  if (typeof c !== 'object' || c === null || Array.isArray(c)) throw new AdapterError('adapter_config.json must hold a JSON object');
  checkConfig(c, base);
  const layers = checkLayers(c, base);
  const baseModel = typeof c.base_model_name_or_path === 'string' ? c.base_model_name_or_path : null;
  const lora: LoraConfig = {
    rank: c.r as number,
    alpha: (c.lora_alpha ?? 8) as number,
    dropout: (c.lora_dropout ?? 0) as number,
    targets: resolveTargets(c.target_modules, base, layers),
    ...(c.use_rslora === true ? { rslora: true } : {}),
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
    const layer = name ? layerOf(base, name) : null;
    const rest = name && layer !== null ? /^(.+)\.lora_([AB])\.weight$/.exec(name.slice(layerPrefix(base, layer).length)) : null;
    const m = rest ? [name, String(layer), rest[1], rest[2]] : null;
    if (!name || !m) {
      const why = /lora_magnitude_vector/.test(key) ? ' (a DoRA magnitude)' : /lora_embedding_/.test(key) ? ' (LoRA on an embedding)' : /\.bias$/.test(key) ? ' (a trained bias)' : '';
      throw new AdapterError(`adapter_model.safetensors has a tensor "${key}"${why} that is not a LoRA A/B weight of a ${FAMILY_NAMES[base.modelType]} block linear under "${PEFT_PREFIX}": the studio cannot apply it`);
    }
    if (Number(m[1]) >= base.numLayers) throw new AdapterError(`adapter_model.safetensors has "${key}" for layer ${m[1]}, but ${describeBase(base)} has layers 0…${base.numLayers - 1}${madeFor}`);
    if (!expected.has(name)) {
      throw new AdapterError(`adapter_model.safetensors has "${key}", but adapter_config.json's target_modules ${show(c.target_modules)} do not cover ${m[2]}: the two files do not belong together`);
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
    if (!tensors[n]) throw new AdapterError(`adapter_model.safetensors has no tensor "${PEFT_PREFIX}${n}", which target_modules ${show(c.target_modules)} imply: the file is incomplete or belongs to another adapter_config.json`);
    ordered[n] = tensors[n];
  }
  return { lora, tensors: ordered, baseModel };
}
