/**
 * `npm run cli -- export`, run as a user runs it (a child process): GGUF files llama.cpp loads and
 * whose bytes are the in-process export's, a Modelfile in the chosen template, the adapter as a
 * GGUF LoRA, merged, or re-written for PEFT, and one line on every mistake.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ggufModelFile } from '../export/ggufModel';
import { loadModel } from '../model/checkpoint';
import { initRandomData, linearNames } from '../model/params';
import { readSafetensors } from '../model/safetensors';
import { tinyConfig } from '../model/tinyConfig';
import { relError, startTestBackend } from '../testing/fixtures';
import { loadGguf } from '../testing/llamaCpp';
import { bundledTokenizerJson, REPO_ROOT, writeTinyModelDir } from '../testing/tinyModel';
import { peftAdapterFiles } from '../train/exportModel';
import { createLoraParams, mergeLora } from '../train/lora';
import type { LoraConfig } from '../train/types';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

const TSX = path.join(REPO_ROOT, 'node_modules/.bin/tsx');
const cli = (...args: string[]): Promise<Run> =>
  new Promise((resolve) =>
    execFile(TSX, ['src/cli/main.ts', ...args], { cwd: REPO_ROOT, timeout: 60_000, encoding: 'utf8' }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    ),
  );

const SPEC = { hiddenSize: 32, numLayers: 1, numHeads: 2, seed: 4, family: 'llama' as const };
const LORA: LoraConfig = { rank: 2, alpha: 4, dropout: 0, targets: [] };

const GENERATION_CONFIG = '{"bos_token_id": 1, "eos_token_id": [2, 0], "do_sample": true, "temperature": 0.2, "top_p": 0.9}\n';

let tmp: string;
let model: string;
let adapter: string;

beforeAll(async () => {
  await startTestBackend('cpu');
  tmp = mkdtempSync(path.join(tmpdir(), 'cli-export-'));
  model = path.join(tmp, 'tiny-llama');
  const config = writeTinyModelDir(model, { spec: SPEC, std: 0.1 });
  // An instruct model's generation config: two end tokens and the authors' sampling defaults.
  writeFileSync(path.join(model, 'generation_config.json'), GENERATION_CONFIG);
  // A PEFT adapter for it, with B non-zero so that merging changes the weights.
  const lora = { ...LORA, targets: linearNames(config) };
  const adapters = createLoraParams(config, lora, 2);
  for (const n of Object.keys(adapters).filter((k) => k.includes('lora_B'))) {
    const shape = adapters[n].shape;
    adapters[n].dispose();
    adapters[n] = tf.randomNormal(shape, 0, 0.2, 'float32', 3);
  }
  adapter = path.join(tmp, 'adapter');
  mkdirSync(adapter);
  for (const f of await peftAdapterFiles(adapters, lora, 'tiny-llama')) writeFileSync(path.join(adapter, f.name), f.bytes);
  tf.dispose(Object.values(adapters));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('npm run cli -- export', () => {
  it('--format gguf writes the file the studio writes, which llama.cpp loads, and an Ollama Modelfile in the --template', async () => {
    const out = path.join(tmp, 'gguf', 'tiny.gguf');
    mkdirSync(path.dirname(out));
    const r = await cli('export', '--model', model, '--format', 'gguf', '--dtype', 'q8_0', '--template', 'qa', '--out', out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/tiny\.gguf: the model, q8_0 \([\d.]+ MB\); .*tiny\.Modelfile: its Ollama Modelfile\nrun it: ollama create my-model -f tiny\.Modelfile && ollama run my-model\n {4}or: llama-cli -m tiny\.gguf -p/);
    const config = tinyConfig(SPEC);
    const expected = await ggufModelFile({ config, data: initRandomData(config, SPEC.seed, 0.1), tokenizer: { json: bundledTokenizerJson(), config: null }, dtype: 'q8_0', name: 'tiny-llama' });
    expect(Buffer.from(readFileSync(out)).equals(Buffer.from(expected))).toBe(true);
    expect(readFileSync(path.join(tmp, 'gguf', 'tiny.Modelfile'), 'utf8')).toBe('# Ollama: ollama create my-model -f Modelfile && ollama run my-model\nFROM ./tiny.gguf\nTEMPLATE """### Question:\n{{ .Prompt }}\n\n### Answer:"""\nPARAMETER stop "<|endoftext|>"\n');
    const m = await loadGguf(out, config.vocabSize);
    expect(await m.greedy([510, 5798], 3)).toHaveLength(3);
    await m.dispose();
  });

  it('--adapter: a GGUF LoRA llama.cpp applies, or with --merge the merged model; --format hf merges into a folder; --format peft re-writes the adapter', async () => {
    const base = path.join(tmp, 'lora', 'tiny-llama.gguf');
    const lora = path.join(tmp, 'lora', 'lora.gguf');
    mkdirSync(path.dirname(base));
    const [b, l, merged, hf, peft] = await Promise.all([
      cli('export', '--model', model, '--format', 'gguf', '--out', base),
      cli('export', '--model', model, '--adapter', adapter, '--format', 'gguf', '--out', lora),
      cli('export', '--model', model, '--adapter', adapter, '--merge', '--format', 'gguf', '--out', path.join(tmp, 'lora', 'merged.gguf')),
      cli('export', '--model', model, '--adapter', adapter, '--format', 'hf', '--out', path.join(tmp, 'hf')),
      cli('export', '--model', model, '--adapter', adapter, '--format', 'peft', '--out', path.join(tmp, 'peft')),
    ]);
    for (const r of [b, l, merged, hf, peft]) expect(r.code, r.stderr).toBe(0);
    expect(l.stdout).toContain('lora.gguf: a LoRA adapter');
    expect(readFileSync(path.join(tmp, 'lora', 'lora.Modelfile'), 'utf8')).toContain('FROM ./tiny-llama.gguf\nADAPTER ./lora.gguf\n');

    // llama.cpp: the base with the adapter gives the merged model's log-probabilities.
    const vocab = tinyConfig(SPEC).vocabSize;
    const withLora = await loadGguf(base, vocab, lora);
    const asMerged = await loadGguf(path.join(tmp, 'lora', 'merged.gguf'), vocab);
    const plain = await loadGguf(base, vocab);
    const ids = [510, 5798, 273, 247];
    const [a] = await withLora.logProbs(ids);
    const [m] = await asMerged.logProbs(ids);
    const [p] = await plain.logProbs(ids);
    const diff = (x: Float64Array, y: Float64Array) => x.reduce((d, v, i) => Math.max(d, Math.abs(v - y[i])), 0);
    expect(diff(a, p)).toBeGreaterThan(0.01);
    expect(diff(a, m)).toBeLessThan(1e-4);
    for (const g of [withLora, asMerged, plain]) await g.dispose();

    // The model folder carries the source's generation config unchanged (both end tokens), and holds W + scale·B·A; the PEFT folder the adapter's own tensors.
    expect(readFileSync(path.join(tmp, 'hf', 'generation_config.json'), 'utf8')).toBe(GENERATION_CONFIG);
    const config = tinyConfig(SPEC);
    const folder = loadModel(JSON.parse(readFileSync(path.join(tmp, 'hf', 'config.json'), 'utf8')), [readFileSync(path.join(tmp, 'hf', 'model.safetensors'))]);
    const original = readSafetensors(readFileSync(path.join(adapter, 'adapter_model.safetensors'))).tensors;
    const again = readSafetensors(readFileSync(path.join(tmp, 'peft', 'adapter_model.safetensors'))).tensors;
    expect([...again.keys()].sort()).toEqual([...original.keys()].sort());
    for (const [n, t] of original) expect(again.get(n)!.data).toEqual(t.data);
    const source = loadModel({ ...JSON.parse(readFileSync(path.join(model, 'config.json'), 'utf8')) }, [readFileSync(path.join(model, 'model.safetensors'))]);
    const adapterTensors = Object.fromEntries([...original].map(([n, t]) => [n.replace('base_model.model.', ''), tf.tensor(t.data, t.shape)]));
    const expected = mergeLora({ ...source.params, ...adapterTensors }, { ...LORA, targets: linearNames(config) });
    // The CLI merged on WASM, this on the CPU backend: the same sums, rounded apart by an ulp or so.
    for (const [n, t] of Object.entries(expected)) expect(relError(folder.params[n].dataSync(), t.dataSync()), n).toBeLessThan(1e-6);
    tf.dispose([...Object.values(expected), ...Object.values(adapterTensors), ...Object.values(folder.params), ...Object.values(source.params)]);
  });

  it('each mistake is one line that says what to do', async () => {
    // A folder whose generation_config.json is broken: an export would carry it into a folder transformers cannot load.
    const broken = path.join(tmp, 'broken-gen');
    mkdirSync(broken);
    for (const n of ['config.json', 'model.safetensors', 'tokenizer.json']) if (existsSync(path.join(model, n))) writeFileSync(path.join(broken, n), readFileSync(path.join(model, n)));
    writeFileSync(path.join(broken, 'generation_config.json'), '{"eos_token_id": [2, ');
    const cases: [string[], RegExp][] = [
      [['--model', broken, '--format', 'hf', '--out', path.join(tmp, 'g')], /broken-gen\/generation_config\.json is not valid JSON \(.*\): fix the file, or remove it/],
      [['--model', model, '--format', 'hf', '--dtype', 'q8_0', '--out', path.join(tmp, 'q')], /--dtype q8_0 is a GGUF type: use --format gguf/],
      [['--model', model, '--format', 'gguf', '--out', path.join(tmp, 'x.bin')], /--out must name a \.gguf file/],
      [['--model', model, '--adapter', path.join(tmp, 'nope'), '--format', 'gguf', '--out', path.join(tmp, 'z.gguf')], /adapter folder .*nope does not exist/],
    ];
    const runs = await Promise.all(cases.map(([args]) => cli('export', ...args)));
    runs.forEach((r, i) => {
      expect(r.code, r.stdout).not.toBe(0);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(cases[i][1]);
    });
    expect(existsSync(path.join(tmp, 'z.gguf'))).toBe(false);
    expect(existsSync(path.join(tmp, 'g'))).toBe(false);
  });
});
