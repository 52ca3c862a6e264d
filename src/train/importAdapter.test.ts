import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../model/config';
import { disposeParams, linearNames, type Params } from '../model/params';
import { mulberry32, normalSampler } from '../model/random';
import { f32ToF16, writeSafetensors } from '../model/safetensors';
import { loadFixture, startTestBackend } from '../testing/fixtures';
import { peftAdapterFiles, type OutFile } from './exportModel';
import { AdapterError, parsePeftAdapter, targetPatternMatcher } from './importAdapter';
import { createLoraParams } from './lora';
import type { LoraConfig } from './types';

// vocab 96, hidden 64, intermediate 128, 2 layers.
const base = parseConfig(loadFixture('parallel-rot025-f32').configJson);
const BLOCK_LINEARS = linearNames(base);
const LORA: LoraConfig = { rank: 4, alpha: 8, dropout: 0.1, targets: ['attention.dense', 'attention.query_key_value', 'mlp.dense_4h_to_h'] };

/** Adapters with a non-zero B (a trained-looking adapter), as the trainer holds them. */
function adapters(lora: LoraConfig, seed = 1, config = base): Params {
  const p = createLoraParams(config, lora, seed);
  const normal = normalSampler(mulberry32(seed + 1));
  for (const n of Object.keys(p).filter((k) => k.endsWith('.lora_B.weight'))) {
    const shape = p[n].shape as [number, number]; // (out, r)
    p[n].dispose();
    p[n] = tf.tensor(Float32Array.from({ length: shape[0] * shape[1] }, () => normal() * 0.1), shape);
  }
  return p;
}

let files: OutFile[];
let source: Params;
beforeAll(async () => {
  await startTestBackend('cpu');
  source = adapters(LORA);
  files = await peftAdapterFiles(source, LORA, 'EleutherAI/pythia-70m');
});
afterAll(() => disposeParams(source));

const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const configOf = (f: OutFile[]) => JSON.parse(new TextDecoder().decode(f.find((x) => x.name === 'adapter_config.json')!.bytes)) as Record<string, unknown>;
const withConfig = (patch: Record<string, unknown>): OutFile[] => [{ name: 'adapter_config.json', bytes: enc({ ...configOf(files), ...patch }) }, files[1]];
const stored = () => Object.fromEntries(Object.entries(source).map(([n, t]) => [`base_model.model.${n}`, { shape: t.shape, data: t.dataSync() as Float32Array }]));
const withTensors = (t: Record<string, { shape: number[]; data: Float32Array }>): OutFile[] => [
  files[0],
  { name: 'adapter_model.safetensors', bytes: writeSafetensors(Object.entries(t).map(([name, v]) => ({ name, ...v }))) },
];

/** safetensors with BF16 tensors (writeSafetensors writes F32/F16 only): the upper 16 bits, rounded to nearest even. */
function bf16File(t: Record<string, { shape: number[]; data: Float32Array }>): Uint8Array {
  const header: Record<string, unknown> = {};
  let off = 0;
  for (const [n, v] of Object.entries(t)) {
    header[n] = { dtype: 'BF16', shape: v.shape, data_offsets: [off, off + 2 * v.data.length] };
    off += 2 * v.data.length;
  }
  const json = new TextEncoder().encode(JSON.stringify(header).padEnd(Math.ceil(JSON.stringify(header).length / 8) * 8, ' '));
  const out = new Uint8Array(8 + json.length + off);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  const bits = new Uint16Array(out.buffer, 8 + json.length, off / 2);
  let i = 0;
  for (const v of Object.values(t)) {
    const u = new Uint32Array(Float32Array.from(v.data).buffer);
    for (const x of u) bits[i++] = (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
  }
  return out;
}

describe('parsePeftAdapter', () => {
  it('round trip: peftAdapterFiles → parsePeftAdapter gives the same tensors (bit for bit, studio names) and LoraConfig', () => {
    const r = parsePeftAdapter(files, base);
    expect(r.lora).toEqual(LORA);
    expect(r.baseModel).toBe('EleutherAI/pythia-70m');
    expect(Object.keys(r.tensors).sort()).toEqual(Object.keys(source).sort());
    expect(Object.keys(r.tensors)[0]).toBe('gpt_neox.layers.0.attention.query_key_value.lora_A.weight');
    for (const [n, t] of Object.entries(source)) {
      expect(r.tensors[n].shape, n).toEqual(t.shape);
      expect(r.tensors[n].data, n).toEqual(t.dataSync());
    }
  });

  it('rsLoRA round trips: use_rslora is written and read back (an adapter trained with it elsewhere imports too)', async () => {
    const rs = { ...LORA, rslora: true };
    const written = await peftAdapterFiles(source, rs, 'EleutherAI/pythia-70m');
    expect(configOf(written).use_rslora).toBe(true);
    expect(parsePeftAdapter(written, base).lora).toEqual(rs);
    expect(configOf(files).use_rslora).toBe(false);
  });

  it('reads F16 and BF16 adapters as float32, and files inside a folder', () => {
    const t = stored();
    const half = parsePeftAdapter(
      [
        { name: 'my-adapter/adapter_config.json', bytes: files[0].bytes },
        { name: 'my-adapter/adapter_model.safetensors', bytes: writeSafetensors(Object.entries(t).map(([name, v]) => ({ name, ...v })), { dtype: 'F16' }) },
      ],
      base,
    );
    const bf = parsePeftAdapter([files[0], { name: 'adapter_model.safetensors', bytes: bf16File(t) }], base);
    for (const [key, v] of Object.entries(t)) {
      const n = key.slice('base_model.model.'.length);
      expect(f32ToF16(half.tensors[n].data), n).toEqual(f32ToF16(v.data));
      let worst = 0;
      for (let i = 0; i < v.data.length; i++) {
        worst = Math.max(worst, Math.abs(bf.tensors[n].data[i] - v.data[i]) / (Math.abs(v.data[i]) || 1));
        expect(new Uint32Array(Float32Array.of(bf.tensors[n].data[i]).buffer)[0] & 0xffff).toBe(0); // exact bf16 values
      }
      expect(worst).toBeLessThanOrEqual(2 ** -8);
    }
  });

  it('target_modules as PEFT reads them: suffixes, dotted names, a full-match pattern, "all-linear"', () => {
    const all = adapters({ ...LORA, targets: [...BLOCK_LINEARS] }, 3);
    return peftAdapterFiles(all, { ...LORA, targets: [...BLOCK_LINEARS] }, 'x').then((f) => {
      const cfg = configOf(f);
      const parse = (target_modules: unknown) => parsePeftAdapter([{ name: 'adapter_config.json', bytes: enc({ ...cfg, target_modules }) }, f[1]], base).lora.targets;
      expect(parse(['attention.query_key_value', 'mlp.dense_h_to_4h', 'dense', 'dense_4h_to_h'])).toEqual(['attention.query_key_value', 'mlp.dense_h_to_4h', 'attention.dense', 'mlp.dense_4h_to_h']);
      expect(parse('all-linear')).toEqual([...BLOCK_LINEARS]);
      expect(parse(String.raw`gpt_neox\.layers\.\d+\.(attention|mlp)\..*`)).toEqual([...BLOCK_LINEARS]);
      expect(() => parse(String.raw`.*\.layers\.0\..*`)).toThrow(/in some layers only \(not in layer 1\)/);
      expect(() => parse(['query_key_value'])).toThrow(/target_modules \["query_key_value"\] do not cover attention.dense/);
      disposeParams(all);
    });
  });

  it.each([
    [{ peft_type: 'IA3' }, /peft_type "IA3": only LoRA adapters/],
    [{ task_type: 'SEQ_CLS' }, /task_type "SEQ_CLS": only causal language model adapters/],
    [{ fan_in_fan_out: true }, /fan_in_fan_out true: its weights are stored transposed/],
    [{ use_dora: true }, /use_dora true: DoRA/],
    [{ modules_to_save: ['embed_out'] }, /modules_to_save \["embed_out"\]: it also replaces whole modules/],
    [{ bias: 'all' }, /bias "all": the adapter also trains the base model's biases/],
    [{ bias: 'lora_only' }, /bias "lora_only"/],
    [{ rank_pattern: { dense: 8 } }, /rank_pattern/],
    [{ layers_to_transform: [0] }, /layers_to_transform \[0\]: the studio applies adapters to every layer/],
    [{ target_modules: ['embed_out'] }, /puts LoRA on embed_out: the studio applies adapters to query_key_value, dense, dense_h_to_4h, dense_4h_to_h/],
    [{ target_modules: ['q_proj', 'v_proj'] }, /"q_proj" matches none of GPT-NeoX's linear layers/],
    [{ target_modules: [] }, /target_modules must be a list/],
    [{ r: 0 }, /r must be a positive integer/],
    [{ lora_dropout: 1 }, /lora_dropout must be a number in \[0, 1\)/],
  ])('refuses %j', (patch, message) => {
    expect(() => parsePeftAdapter(withConfig(patch), base)).toThrow(AdapterError);
    expect(() => parsePeftAdapter(withConfig(patch), base)).toThrow(message);
  });

  it('accepts what PEFT writes by default (layers_to_transform null, empty rank_pattern, layers listed in full)', () => {
    expect(parsePeftAdapter(withConfig({ layers_to_transform: null, rank_pattern: {}, alpha_pattern: {}, modules_to_save: null, use_dora: false, lora_bias: false }), base).lora).toEqual(LORA);
    expect(parsePeftAdapter(withConfig({ layers_to_transform: [1, 0] }), base).lora).toEqual(LORA);
  });

  it('says which file is missing, and refuses pickles', () => {
    expect(() => parsePeftAdapter([files[1]], base)).toThrow(/no adapter_config.json among the files/);
    expect(() => parsePeftAdapter([files[0]], base)).toThrow(/no adapter_model.safetensors among the files/);
    expect(() => parsePeftAdapter([files[0], { name: 'adapter_model.bin', bytes: new Uint8Array(8) }], base)).toThrow(/adapter_model.bin cannot be read: only safetensors/);
    expect(() => parsePeftAdapter([{ name: 'adapter_config.json', bytes: enc('nope').subarray(1) }, files[1]], base)).toThrow(/adapter_config.json is not valid JSON/);
  });

  it('checks every tensor against the base model, naming the tensor and the base', async () => {
    // An adapter made for a narrower model (hidden 32) does not fit this 64-wide base.
    const narrow = parseConfig({ ...(loadFixture('parallel-rot025-f32').configJson as object), hidden_size: 32, intermediate_size: 64 });
    const other = adapters(LORA, 5, narrow);
    const f = await peftAdapterFiles(other, LORA, 'EleutherAI/pythia-14m');
    expect(() => parsePeftAdapter(f, base)).toThrow(
      'tensor "base_model.model.gpt_neox.layers.0.attention.dense.lora_A.weight" is [4,32] but this base model (hidden_size 64, intermediate_size 128, 2 layers) with r = 4 needs [4,64]: the adapter was made for a different base model (adapter_config.json says it was trained on "EleutherAI/pythia-14m"), or adapter_config.json\'s r is wrong',
    );
    disposeParams(other);
    // r in the config must match the tensors' rank.
    expect(() => parsePeftAdapter(withConfig({ r: 8 }), base)).toThrow(/is \[4,64\] but this base model .* with r = 8 needs \[8,64\]/);

    const t = stored();
    const A0 = 'base_model.model.gpt_neox.layers.0.attention.dense.lora_A.weight';
    const { [A0]: dropped, ...rest } = t;
    expect(dropped).toBeDefined();
    expect(() => parsePeftAdapter(withTensors(rest), base)).toThrow(`adapter_model.safetensors has no tensor "${A0}", which target_modules`);
    expect(() => parsePeftAdapter(withTensors({ ...t, 'base_model.model.gpt_neox.layers.2.attention.dense.lora_A.weight': t[A0] }), base)).toThrow(/for layer 2, but this base model .* has layers 0…1/);
    expect(() => parsePeftAdapter(withTensors({ ...t, 'base_model.model.gpt_neox.layers.0.attention.dense.lora_magnitude_vector': { shape: [64], data: new Float32Array(64) } }), base)).toThrow(/\(a DoRA magnitude\)/);
    expect(() => parsePeftAdapter(withTensors({ ...t, 'base_model.model.embed_out.weight': { shape: [96, 64], data: new Float32Array(96 * 64) } }), base)).toThrow(/"base_model.model.embed_out.weight" that is not a LoRA A\/B weight/);
    expect(() => parsePeftAdapter(withTensors({ ...t, 'base_model.model.gpt_neox.layers.0.mlp.dense_h_to_4h.lora_A.weight': { shape: [4, 64], data: new Float32Array(256) } }), base)).toThrow(/do not cover mlp.dense_h_to_4h: the two files do not belong together/);
    const unprefixed = Object.fromEntries(Object.entries(t).map(([k, v]) => [k.slice('base_model.model.'.length), v]));
    expect(() => parsePeftAdapter(withTensors(unprefixed), base)).toThrow(/not a LoRA A\/B weight of a GPT-NeoX block linear under "base_model.model."/);
  });

  it('refuses a config of megabytes, nested past what JSON.stringify can show, or two adapters mixed together', () => {
    const big = { name: 'adapter_config.json', bytes: enc({ ...configOf(files), pad: 'x'.repeat(1_100_000) }) };
    expect(() => parsePeftAdapter([big, files[1]], base)).toThrow('adapter_config.json is 1.1 MB, and PEFT writes one of a few KB: pick the adapter_config.json saved with the adapter');
    // 100,000 levels parse (V8's JSON.parse does not recurse) but overflow JSON.stringify: the message must not.
    const deep = new TextEncoder().encode(`{"peft_type": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`);
    expect(() => parsePeftAdapter([{ name: 'adapter_config.json', bytes: deep }, files[1]], base)).toThrow('adapter_config.json has peft_type (a value nested too deep to show): only LoRA adapters');
    const long = { name: 'adapter_config.json', bytes: enc({ ...configOf(files), r: 'r'.repeat(5000) }) };
    expect(() => parsePeftAdapter([long, files[1]], base)).toThrow(new RegExp(`r must be a positive integer, got "${'r'.repeat(99)}…$`));

    const inFolder = (dir: string, f: OutFile) => ({ name: `${dir}/${f.name}`, bytes: f.bytes });
    expect(() => parsePeftAdapter([inFolder('a', files[0]), inFolder('b', files[1])], base)).toThrow(
      'adapter_model.safetensors is not beside a/adapter_config.json (it is at b/adapter_model.safetensors): the two files must come from the same adapter folder',
    );
    expect(() => parsePeftAdapter([inFolder('out', files[0]), inFolder('out/checkpoint-500', files[0]), inFolder('out', files[1])], base)).toThrow(
      'the files hold 2 adapter_config.json (out/adapter_config.json, out/checkpoint-500/adapter_config.json): pick the folder of one adapter',
    );
    // The weights beside the config are taken, whatever else the folder above holds.
    expect(parsePeftAdapter([inFolder('x', files[1]), inFolder('a', files[0]), inFolder('a', files[1])], base).lora).toEqual(LORA);
  });
});

describe('target_modules as a pattern (never a RegExp)', () => {
  const modules = ['gpt_neox.embed_in', 'embed_out', ...[0, 1, 11].flatMap((i) => BLOCK_LINEARS.map((l) => `gpt_neox.layers.${i}.${l}`))];
  const parse = (target_modules: unknown) => parsePeftAdapter(withConfig({ target_modules }), base).lora.targets;

  it('reads the forms PEFT configs carry, as PEFT does (a full match over module names)', () => {
    expect(parse(String.raw`.*\.(query_key_value|dense|dense_4h_to_h)`)).toEqual(['attention.query_key_value', 'attention.dense', 'mlp.dense_4h_to_h']);
    expect(parse(String.raw`^gpt_neox\.layers\.[0-9]+\.(?:attention\.(?:dense|query_key_value)|mlp\.dense_4h_to_h)$`)).toEqual(['attention.query_key_value', 'attention.dense', 'mlp.dense_4h_to_h']);
    expect(parse(String.raw`.*(query_key_value|attention\.dense|4h_to_h)`)).toEqual(['attention.query_key_value', 'attention.dense', 'mlp.dense_4h_to_h']);
    expect(parse('gpt_neox.layers.0.attention.dense|gpt_neox.layers.1.attention.dense|.*query_key_value|.*dense_4h_to_h')).toEqual(LORA.targets.slice().sort((a, b) => BLOCK_LINEARS.indexOf(a) - BLOCK_LINEARS.indexOf(b)));
    // A full module name is a pattern like any other: this one is in layer 0 only.
    expect(() => parse('gpt_neox.layers.0.attention.dense')).toThrow(/in some layers only \(not in layer 1\)/);
  });

  it('says to write a bare module name as a list, since PEFT would match it against whole names and find none', () => {
    expect(() => parse('query_key_value')).toThrow(
      'adapter_config.json\'s target_modules is the string "query_key_value", which PEFT matches against whole module names (such as gpt_neox.layers.0.attention.query_key_value), so it matches none: write it as a list, ["query_key_value"]',
    );
  });

  it('matches exactly what a full-match RegExp would, for the patterns it reads', () => {
    const patterns = [
      String.raw`.*\.(query_key_value|dense)`,
      String.raw`.*(dense|dense_h_to_4h)`,
      String.raw`gpt_neox\.layers\.\d+\.(attention|mlp)\..*`,
      String.raw`gpt_neox\.layers\.1\d?\..*`,
      String.raw`.*\.[0-9]\.mlp\.dense_.+`,
      String.raw`[a-z_]+\.layers\.\d\.\w+\.dense`,
      String.raw`.*?layers.(0|11).(attention|mlp).dense_?.*`,
      String.raw`embed_out|gpt_neox\.embed_in`,
      'gpt_neox.layers.0.attention.dense$',
      '^.*$',
      'dense',
      '',
    ];
    for (const p of patterns) {
      const mine = targetPatternMatcher(p);
      const re = new RegExp(`^(?:${p})$`); // trusted here: the test's own patterns
      for (const m of modules) expect(mine(m), `${p} on ${m}`).toBe(re.test(m));
    }
  });

  it.each([
    ['(.*.*)*x', 'it repeats a group ("(…)*")'],
    ['(a+)+$', 'it repeats a group ("(…)+")'],
    ['(a|aa)*b', 'it repeats a group ("(…)*")'],
    ['(?=.*dense).*', 'it uses "(?=" (a lookaround, flag or named group)'],
    [String.raw`.*\bdense`, String.raw`it uses "\b"`],
    [String.raw`(dense)\1`, String.raw`it uses "\1"`],
    [String.raw`.*\d{1,}\..*`, 'it uses a counted repetition "{…}"'],
    ['.*[^x]', 'it uses a negated class "[^…]"'],
    ['.**', 'it repeats a repetition ("**")'],
    ['.*(dense', 'a "(" is never closed'],
    ['.*dense)', 'it has a ")" that closes nothing'],
    ['*dense', '"*" where a character was expected'],
    [`${'(a|'.repeat(5)}b${')'.repeat(5)}`, 'it nests groups more than 4 deep'],
    ['.*'.repeat(200), 'it is over 256 characters long'],
  ])('refuses %j fast, saying why and to list the modules', (pattern, why) => {
    const t0 = performance.now();
    expect(() => parse(pattern)).toThrow(AdapterError);
    expect(() => parse(pattern)).toThrow(/^adapter_config\.json's target_modules is the pattern "/);
    expect(() => parse(pattern)).toThrow(`which the studio does not evaluate (${why}): list the modules instead, e.g. ["query_key_value", "dense"]`);
    expect(performance.now() - t0).toBeLessThan(100);
  });

  it('takes linear time on patterns that make a backtracking engine explode', () => {
    // Accepted patterns whose backtracking cost grows as (name length)^(number of .*): a RegExp would take hours here.
    const name = `gpt_neox.layers.0.${'a'.repeat(200)}`;
    const t0 = performance.now();
    expect(targetPatternMatcher(`${'.*'.repeat(60)}x`)(name)).toBe(false);
    expect(targetPatternMatcher(`${'(a|.)'.repeat(40)}.*x`)(name)).toBe(false);
    expect(targetPatternMatcher(`${'a*'.repeat(100)}b`)('a'.repeat(5000))).toBe(false);
    expect(performance.now() - t0).toBeLessThan(500);
  });
});
