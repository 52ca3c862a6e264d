/**
 * Exports against a PyTorch reference of what Hugging Face transformers + PEFT compute from them.
 * fixtures/export/*.json were made by `npx tsx scripts/export_fixtures.ts` (see
 * fixtures/export/README.md): the same seeded runs and exports as makeExports() below, read by
 * scripts/export_reference.py. The SHA-256 of each exported file tells a stale fixture (the bytes
 * changed) apart from a wrong export or forward (same bytes, other logits).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { BASE_DIR, CASES, hashes, makeExports, PROBE_IDS, readExportFixture, sha256, type CaseName, type ExportFixture, type ExportSet } from '../testing/exportRecipe';
import { loadModel } from '../model/checkpoint';
import { hiddenStates, lmHead, type ForwardContext } from '../model/forward';
import { disposeParams, linearNames, linearShape, paramSpecs, type Params } from '../model/params';
import { f32ToF16, readHeader, readSafetensors } from '../model/safetensors';
import { startTestBackend } from '../testing/fixtures';
import { writeTinyModelDir } from '../testing/tinyModel';
import { generationConfig, modelFolderFiles, type OutFile } from './exportModel';
import { parsePeftAdapter } from './importAdapter';
import { loraContext } from './lora';

const REGENERATE = 'npx tsx scripts/export_fixtures.ts (needs /usr/bin/python3 with torch)';
// float32 forward vs the float64 reference on logits of magnitude ~5.5.
const TOL = 1e-4;

let set: ExportSet;
const fixtures = {} as Record<CaseName, ExportFixture>;

beforeAll(async () => {
  await startTestBackend('cpu'); // the fixtures were made on the CPU backend (plain JS arithmetic, deterministic)
  set = await makeExports();
  for (const c of CASES) fixtures[c] = readExportFixture(c);
});
afterAll(() => set?.dispose());

const file = (files: OutFile[], name: string): Uint8Array => {
  const f = files.find((x) => x.name === name);
  if (!f) throw new Error(`no ${name} among ${files.map((x) => x.name).join(', ')}`);
  return f.bytes;
};
const jsonOf = (files: OutFile[], name: string): Record<string, unknown> => JSON.parse(new TextDecoder().decode(file(files, name))) as Record<string, unknown>;
const reimport = (files: OutFile[]) => loadModel(new TextDecoder().decode(file(files, 'config.json')), [file(files, 'model.safetensors')]);

/** The studio's logits (B·T·V, float32) for the probe ids. */
function logitsOf(ctx: ForwardContext, ids: number[][] = PROBE_IDS): Float32Array {
  const [B, T] = [ids.length, ids[0].length];
  const t = tf.tidy(() => lmHead(ctx, hiddenStates(ctx, tf.tensor2d(ids.flat(), [B, T], 'int32')))); // (B·T, V)
  const out = t.dataSync() as Float32Array;
  t.dispose();
  return out;
}

const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return Number.isNaN(m) ? Infinity : m;
};
const refLogits = (c: CaseName): number[] => fixtures[c].reference.logits.flat(2);

/** Fails with a pointer to the generator when the files differ from those the reference read. */
function expectSameBytes(c: CaseName, files: OutFile[]): void {
  const now = hashes(files);
  for (const [name, hash] of Object.entries(fixtures[c].sha256)) {
    if (name.startsWith('base/')) continue;
    expect(now[name], `fixtures/export/${c}.json was made from another ${name}: if training or the export format changed on purpose, regenerate with ${REGENERATE} and review the diff`).toBe(hash);
  }
}

function uploaded(tensors: Record<string, { shape: number[]; data: Float32Array }>): Params {
  return Object.fromEntries(Object.entries(tensors).map(([n, t]) => [n, tf.tensor(t.data, t.shape, 'float32')]));
}

describe('exports match the PyTorch (transformers + PEFT) reference', () => {
  it('the re-created exports are byte for byte those the reference read', () => {
    expectSameBytes('full-f32', set.full.f32);
    expectSameBytes('full-f16', set.full.f16);
    expectSameBytes('lora-adapter', set.lora.adapter);
    expectSameBytes('lora-merged', set.lora.merged);
    for (const name of ['config.json', 'model.safetensors']) {
      expect(sha256(new Uint8Array(readFileSync(path.join(BASE_DIR, name)))), `base/${name}`).toBe(fixtures['lora-adapter'].sha256[`base/${name}`]);
    }
  });

  it('full fine-tune, float32: the trained model and its re-imported folder give the reference logits; the round trip is exact', () => {
    expectSameBytes('full-f32', set.full.f32);
    const trained = logitsOf({ params: set.full.params, config: set.base.config });
    expect(maxAbs(trained, refLogits('full-f32'))).toBeLessThan(TOL);
    const back = reimport(set.full.f32);
    for (const s of paramSpecs(back.config)) expect(back.params[s.name].dataSync(), s.name).toEqual(set.full.params[s.name].dataSync());
    const again = logitsOf(back);
    expect(again).toEqual(trained); // bit for bit
    disposeParams(back.params);
  });

  it('full fine-tune, float16: loads back (F16 → float32), gives the reference logits of the rounded weights, and stays within the rounding effect of float32', () => {
    expectSameBytes('full-f16', set.full.f16);
    const back = reimport(set.full.f16);
    // Every stored value is float32 → half, round to nearest even (the reference checked numpy agrees, bit for bit).
    for (const s of paramSpecs(back.config)) {
      const want = readSafetensors(file(set.full.f32, 'model.safetensors')).tensors.get(s.name)!.data;
      const half = readSafetensors(file(set.full.f16, 'model.safetensors')).tensors.get(s.name)!;
      expect(half.dtype).toBe('F16');
      expect(Array.from(f32ToF16(half.data)), s.name).toEqual(Array.from(f32ToF16(want)));
    }
    const logits = logitsOf(back);
    expect(maxAbs(logits, refLogits('full-f16'))).toBeLessThan(TOL);
    // Bound against the float32 model: the float64 effect of rounding the weights to half (measured
    // by the reference on these weights, 5.3e-3 on logits up to 5.2) plus the float32 tolerance.
    const rounding = fixtures['full-f16'].reference.checks.max_abs_vs_compare as number;
    expect(rounding).toBeGreaterThan(0);
    expect(rounding).toBeLessThan(2e-3 * fixtures['full-f32'].reference.logits_max_abs);
    expect(maxAbs(logits, refLogits('full-f32'))).toBeLessThanOrEqual(rounding + TOL);
    disposeParams(back.params);
  });

  it("LoRA: base + the PEFT adapter, read back by parsePeftAdapter, through the studio's LoRA forward gives PEFT's logits", () => {
    expectSameBytes('lora-adapter', set.lora.adapter);
    const { lora, tensors } = parsePeftAdapter(set.lora.adapter, set.base.config);
    expect(lora).toEqual(set.lora.config);
    const adapters = uploaded(tensors);
    const ctx: ForwardContext = { params: { ...set.base.params, ...adapters }, config: set.base.config, lora: loraContext(lora, 0, false) };
    const viaFiles = logitsOf(ctx);
    expect(maxAbs(viaFiles, refLogits('lora-adapter'))).toBeLessThan(TOL);
    // The trained adapters themselves (before export) give the same numbers: the adapter file is exact.
    const live = logitsOf({ ...ctx, params: { ...set.base.params, ...set.lora.adapters } });
    expect(live).toEqual(viaFiles);
    // And the adapter matters: the run moved the logits well beyond the tolerance.
    expect(maxAbs(viaFiles, logitsOf({ params: set.base.params, config: set.base.config }))).toBeGreaterThan(1e-2);
    disposeParams(adapters);
  });

  it('LoRA merged: the merged folder gives the reference logits, and the adapter logits within 1e-5', () => {
    expectSameBytes('lora-merged', set.lora.merged);
    const back = reimport(set.lora.merged);
    const merged = logitsOf(back);
    expect(maxAbs(merged, refLogits('lora-merged'))).toBeLessThan(TOL);
    const adapter = logitsOf({ params: { ...set.base.params, ...set.lora.adapters }, config: set.base.config, lora: loraContext(set.lora.config, 0, false) });
    expect(maxAbs(merged, adapter)).toBeLessThan(1e-5);
    // The reference agrees: PEFT's adapter forward (float64) vs the merged float32 file.
    expect(fixtures['lora-adapter'].reference.checks.max_abs_vs_compare as number).toBeLessThan(1e-5);
    disposeParams(back.params);
  });
});

describe('what the files hold', () => {
  it("a model folder: config.json (torch_dtype), generation_config.json, model.safetensors with GPTNeoXForCausalLM's names and shapes; no tokenizer invented", () => {
    const config = set.base.config;
    for (const [files, dtype, st] of [
      [set.full.f32, 'float32', 'F32'],
      [set.full.f16, 'float16', 'F16'],
    ] as const) {
      expect(files.map((f) => f.name)).toEqual(['config.json', 'generation_config.json', 'model.safetensors']);
      expect(jsonOf(files, 'config.json')).toMatchObject({ architectures: ['GPTNeoXForCausalLM'], model_type: 'gpt_neox', torch_dtype: dtype, vocab_size: 96, hidden_size: 64 });
      expect(jsonOf(files, 'generation_config.json')).toEqual({ _from_model_config: true, bos_token_id: 0, eos_token_id: 0 });
      const { entries, metadata } = readHeader(file(files, 'model.safetensors'));
      expect(metadata).toEqual({ format: 'pt' });
      const specs = paramSpecs(config);
      expect(entries.map((e) => [e.name, e.dtype, e.shape])).toEqual(specs.map((s) => [s.name, st, s.shape]));
    }
    expect(generationConfig({ ...config, bosTokenId: 1, eosTokenId: 2 })).toEqual({ _from_model_config: true, bos_token_id: 1, eos_token_id: 2 });
  });

  it("the source's tokenizer files and generation config pass through unchanged; a clash with the folder files, a stray file or an unknown dtype is refused", async () => {
    const tok = [{ name: 'tokenizer.json', bytes: new TextEncoder().encode('{"model":{}}') }];
    const files = await modelFolderFiles(set.base.config, set.full.params, tok, { dtype: 'float16' });
    expect(files.map((f) => f.name)).toEqual(['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json']);
    expect(files[3].bytes).toBe(tok[0].bytes);
    expect(hashes(files.slice(0, 3))).toEqual(hashes(set.full.f16));
    // An instruct model's own generation config (an eos_token_id list, sampling defaults) replaces the one made from config.json.
    const gen = { name: 'generation_config.json', bytes: new TextEncoder().encode('{"eos_token_id":[2,0],"temperature":0.2}') };
    const withGen = await modelFolderFiles(set.base.config, set.full.params, [...tok, gen]);
    expect(withGen.map((f) => f.name)).toEqual(['config.json', 'model.safetensors', 'tokenizer.json', 'generation_config.json']);
    expect(jsonOf(withGen, 'generation_config.json')).toEqual({ eos_token_id: [2, 0], temperature: 0.2 });
    await expect(modelFolderFiles(set.base.config, set.full.params, [{ name: 'config.json', bytes: new Uint8Array() }])).rejects.toThrow(/"config.json" is written by the export itself/);
    await expect(modelFolderFiles(set.base.config, set.full.params, [{ name: 'notes.txt', bytes: new Uint8Array() }])).rejects.toThrow(/"notes.txt" is not a file the export carries over/);
    await expect(modelFolderFiles(set.base.config, set.full.params, [], { dtype: 'bfloat16' as 'float16' })).rejects.toThrow(/float32 or float16/);
  });

  it("a PEFT adapter: adapter_config.json has every field PeftModel reads, and the keys are exactly PEFT's", () => {
    const cfg = jsonOf(set.lora.adapter, 'adapter_config.json');
    expect(cfg).toMatchObject({
      peft_type: 'LORA',
      task_type: 'CAUSAL_LM',
      r: 4,
      lora_alpha: 8,
      lora_dropout: 0.05,
      target_modules: ['dense_4h_to_h', 'query_key_value', 'dense', 'dense_h_to_4h'],
      base_model_name_or_path: 'fixtures/parallel-rot025-f32',
      bias: 'none',
      fan_in_fan_out: false,
      use_dora: false,
      use_rslora: false,
      modules_to_save: null,
    });
    const { entries, metadata } = readHeader(file(set.lora.adapter, 'adapter_model.safetensors'));
    expect(metadata).toEqual({ format: 'pt' });
    const want: [string, string, number[]][] = [];
    for (let i = 0; i < set.base.config.numLayers; i++) {
      for (const l of linearNames(set.base.config)) {
        const [out, inp] = linearShape(set.base.config, l);
        want.push([`base_model.model.gpt_neox.layers.${i}.${l}.lora_A.weight`, 'F32', [4, inp]]);
        want.push([`base_model.model.gpt_neox.layers.${i}.${l}.lora_B.weight`, 'F32', [out, 4]]);
      }
    }
    const got = entries.map((e) => [e.name, e.dtype, e.shape]);
    expect(got.sort()).toEqual(want.sort());
    // What the reference saw, independently: it wrapped exactly these modules and consumed every key.
    const ref = fixtures['lora-adapter'].reference.adapter!;
    expect(ref.keys).toEqual(want.map((w) => w[0]).sort());
    expect(ref.wrapped).toHaveLength(4 * set.base.config.numLayers);
  });
});

describe('npm run cli -- train --dtype', () => {
  it('float16 writes an F16 model.safetensors and torch_dtype float16 that loads back; a bad value is refused', async () => {
    const { trainCmd } = await import('../cli/train');
    const dir = mkdtempSync(path.join(tmpdir(), 'neox-export-cli-'));
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      const model = path.join(dir, 'model');
      writeTinyModelDir(model, { spec: { hiddenSize: 16, numLayers: 1, numHeads: 2, seed: 4 } });
      const data = path.join(dir, 'lamini.jsonl');
      writeFileSync(data, `${readFileSync(path.join(BASE_DIR, '../data/course/lamini_docs.jsonl'), 'utf8').split('\n').slice(0, 16).join('\n')}\n`);
      const out = path.join(dir, 'out');
      await trainCmd({ model, data, out, steps: '1', 'batch-size': '2', 'max-length': '24', 'eval-every': '0', dtype: 'float16' });
      const cfg = JSON.parse(readFileSync(path.join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
      expect(cfg.torch_dtype).toBe('float16');
      const bytes = new Uint8Array(readFileSync(path.join(out, 'model.safetensors')));
      expect(new Set(readHeader(bytes).entries.map((e) => e.dtype))).toEqual(new Set(['F16']));
      expect(readFileSync(path.join(out, 'generation_config.json'), 'utf8')).toContain('"_from_model_config": true');
      const back = loadModel(cfg, [bytes]);
      disposeParams(back.params);
      await expect(trainCmd({ model, data, out, dtype: 'bf16' })).rejects.toThrow(/--dtype must be one of float32, float16/);
    } finally {
      write.mockRestore();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
