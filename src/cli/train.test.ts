/** `npm run cli -- train`, run as a user runs it, in a child process. */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors } from '../model/safetensors';
import { REPO_ROOT, TINY_CHAT_TEMPLATE, writeTinyModelDir } from '../testing/tinyModel';

const TSX = path.join(REPO_ROOT, 'node_modules/.bin/tsx');
const cli = (...args: string[]) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(TSX, ['src/cli/main.ts', ...args], { cwd: REPO_ROOT, timeout: 120_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
const lines = (stdout: string) => stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);

let dir: string;
let model: string;
let data: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'neox-train-cli-'));
  model = path.join(dir, 'model');
  writeTinyModelDir(model, { spec: { hiddenSize: 32, numLayers: 2, numHeads: 4, seed: 5 } });
  data = path.join(dir, 'lamini.jsonl');
  const rows = readFileSync(path.join(REPO_ROOT, 'fixtures/data/course/lamini_docs.jsonl'), 'utf8').split('\n').slice(0, 80);
  writeFileSync(data, `${rows.join('\n')}\n`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('cli train', () => {
  it('full fine-tune: one JSON line per step and per eval, and a model folder that loads and generates', async () => {
    const out = path.join(dir, 'full');
    const r = await cli('train', '--model', model, '--data', data, '--out', out, '--steps', '6', '--batch-size', '4', '--eval-every', '3', '--max-length', '48', '--lr', '1e-2');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out1 = lines(r.stdout);
    const steps = out1.filter((l) => 'loss' in l);
    const evals = out1.filter((l) => 'eval_loss' in l);
    expect(steps.map((l) => l.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(evals.map((l) => l.step)).toEqual([0, 3, 6]);
    expect(evals[2].eval_loss).toBeLessThan(evals[0].eval_loss);
    for (const f of ['config.json', 'model.safetensors', 'tokenizer.json']) expect(existsSync(path.join(out, f)), f).toBe(true);
    const before = readSafetensors(readFileSync(path.join(model, 'model.safetensors'))).tensors;
    const after = readSafetensors(readFileSync(path.join(out, 'model.safetensors'))).tensors;
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    expect(after.get('embed_out.weight')!.data).not.toEqual(before.get('embed_out.weight')!.data);
    const g = await cli('generate', '--model', out, '--prompt', '### Question:\nWhat is Lamini?\n\n### Answer:', '--max-new-tokens', '4');
    expect(g.code).toBe(0);
  });

  it('a Qwen2 model with its chat template: --template model trains LoRA on PEFT\'s default targets, and a folder without a template is told so', async () => {
    const qwen = path.join(dir, 'qwen');
    writeTinyModelDir(qwen, { spec: { hiddenSize: 32, numLayers: 2, numHeads: 4, seed: 6, family: 'qwen2' }, tokenizerConfig: { chat_template: TINY_CHAT_TEMPLATE, eos_token: '<|endoftext|>' } });
    const chats = path.join(dir, 'chats.jsonl');
    const turn = (q: string, a: string) => JSON.stringify({ messages: [{ role: 'user', content: q }, { role: 'assistant', content: a }] });
    writeFileSync(chats, Array.from({ length: 12 }, (_, i) => turn(`Question ${i}?`, `Answer ${i}.`)).join('\n'));
    const out = path.join(dir, 'qwen-lora');
    const r = await cli('train', '--model', qwen, '--data', chats, '--template', 'model', '--out', out, '--method', 'lora', '--steps', '2', '--batch-size', '4', '--eval-every', '0');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(lines(r.stdout).filter((l) => 'loss' in l)).toHaveLength(2);
    const config = JSON.parse(readFileSync(path.join(out, 'adapter/adapter_config.json'), 'utf8'));
    expect(config.target_modules).toEqual(['q_proj', 'v_proj']);
    expect(JSON.parse(readFileSync(path.join(out, 'config.json'), 'utf8')).model_type).toBe('qwen2');
    const bad = await cli('train', '--model', model, '--data', chats, '--template', 'model', '--out', path.join(dir, 'no-template'), '--steps', '1');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--template model: .* has no chat template/);
    const targets = await cli('train', '--model', qwen, '--data', chats, '--out', path.join(dir, 'bad-target'), '--method', 'lora', '--lora-targets', 'query_key_value', '--steps', '1');
    expect(targets.stderr).toMatch(/--lora-targets: "query_key_value" is not a linear of this Qwen2 model: choose from self_attn\.q_proj/);
  });

  // With --rslora, so that one run checks both the merge and rsLoRA's scale (alpha/r is checked in-process by lora.test.ts).
  it('LoRA: the merged model is base + (alpha/√r, with --rslora)·B·A, and the PEFT adapter sits in adapter/', async () => {
    const scale = 8 / Math.sqrt(4);
    const out = path.join(dir, 'lora');
    const r = await cli('train', '--model', model, '--data', data, '--out', out, '--method', 'lora', '--lora-rank', '4', '--lora-alpha', '8', '--lora-targets', 'query_key_value,dense', '--rslora', '--steps', '3', '--batch-size', '4', '--max-length', '48', '--lr', '1e-2', '--eval-every', '0');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const config = JSON.parse(readFileSync(path.join(out, 'adapter/adapter_config.json'), 'utf8'));
    expect(config).toMatchObject({ peft_type: 'LORA', task_type: 'CAUSAL_LM', r: 4, lora_alpha: 8, target_modules: ['query_key_value', 'dense'], bias: 'none', use_rslora: true });
    const adapter = readSafetensors(readFileSync(path.join(out, 'adapter/adapter_model.safetensors'))).tensors;
    expect([...adapter.keys()].filter((k) => k.includes('layers.0.'))).toEqual([
      'base_model.model.gpt_neox.layers.0.attention.dense.lora_A.weight',
      'base_model.model.gpt_neox.layers.0.attention.dense.lora_B.weight',
      'base_model.model.gpt_neox.layers.0.attention.query_key_value.lora_A.weight',
      'base_model.model.gpt_neox.layers.0.attention.query_key_value.lora_B.weight',
    ]);
    // Merge by hand in float64 and compare with the written model.
    const name = 'gpt_neox.layers.1.attention.query_key_value';
    const A = adapter.get(`base_model.model.${name}.lora_A.weight`)!; // (r, in)
    const B = adapter.get(`base_model.model.${name}.lora_B.weight`)!; // (out, r)
    expect(A.shape).toEqual([4, 32]);
    expect(B.shape).toEqual([96, 4]);
    const W = readSafetensors(readFileSync(path.join(model, 'model.safetensors'))).tensors.get(`${name}.weight`)!.data;
    const merged = readSafetensors(readFileSync(path.join(out, 'model.safetensors'))).tensors.get(`${name}.weight`)!.data;
    let maxErr = 0;
    let maxDelta = 0;
    for (let o = 0; o < 96; o++) {
      for (let i = 0; i < 32; i++) {
        let ba = 0;
        for (let k = 0; k < 4; k++) ba += B.data[o * 4 + k] * A.data[k * 32 + i];
        const want = W[o * 32 + i] + scale * ba;
        maxErr = Math.max(maxErr, Math.abs(merged[o * 32 + i] - want));
        maxDelta = Math.max(maxDelta, Math.abs(scale * ba));
      }
    }
    expect(maxDelta).toBeGreaterThan(1e-4); // the adapter did learn something
    expect(maxErr).toBeLessThan(1e-6);
  });

  it('switches take no value: --freeze-embeddings keeps embed_in, --checkpointing leaves the losses as they were', async () => {
    const args = (out: string) => ['train', '--model', model, '--data', data, '--out', path.join(dir, out), '--steps', '3', '--batch-size', '4', '--max-length', '48', '--lr', '1e-2', '--eval-every', '0', '--freeze-embeddings'];
    const plain = await cli(...args('frozen'));
    const ckpt = await cli(...args('frozen-ckpt'), '--checkpointing');
    expect(ckpt.stderr).toBe('');
    expect(ckpt.code).toBe(0);
    const losses = (r: { stdout: string }) => lines(r.stdout).filter((l) => 'loss' in l).map((l) => l.loss);
    expect(losses(ckpt)).toHaveLength(3);
    losses(ckpt).forEach((l, i) => expect(l).toBeCloseTo(losses(plain)[i], 4));
    const embed = (d: string) => readSafetensors(readFileSync(path.join(d, 'model.safetensors'))).tensors.get('gpt_neox.embed_in.weight')!.data;
    expect(embed(path.join(dir, 'frozen-ckpt'))).toEqual(embed(model));
  });

  it('prints the estimate first, and refuses a run it says will not fit unless --force', async () => {
    const out = path.join(dir, 'estimate');
    const ok = await cli('train', '--model', model, '--data', data, '--out', out, '--steps', '1', '--batch-size', '2', '--max-length', '32', '--eval-every', '0');
    expect(ok.code).toBe(0);
    expect(lines(ok.stdout)[0]).toMatchObject({ estimate_verdict: 'fits', activation_checkpointing: false });
    expect(lines(ok.stdout)[0]).not.toHaveProperty('checkpointing_auto');
    expect(lines(ok.stdout)[0].estimate_bytes).toBeGreaterThan(0);
    // 2,048 rows of 1,024 tokens at once: far past the WASM heap.
    const big = await cli('train', '--model', model, '--data', data, '--out', path.join(dir, 'big'), '--steps', '1', '--batch-size', '2048', '--max-length', '1024', '--eval-every', '0');
    expect(big.code).toBe(1);
    expect(big.stderr).toMatch(/^error: the estimate says this run will not fit \(.+\).*; or add --force to try anyway\n$/);
    // Neither switch given: checkpointing was turned on for it (it still does not fit, with less to spare).
    expect(lines(big.stdout)[0]).toMatchObject({ activation_checkpointing: true, checkpointing_auto: true });
    const off = await cli('train', '--model', model, '--data', data, '--out', path.join(dir, 'big'), '--steps', '1', '--batch-size', '2048', '--max-length', '1024', '--eval-every', '0', '--no-checkpointing');
    expect(lines(off.stdout)[0]).toMatchObject({ activation_checkpointing: false });
    expect(lines(off.stdout)[0].estimate_bytes).toBeGreaterThan(lines(big.stdout)[0].estimate_bytes);
    expect(existsSync(path.join(dir, 'big'))).toBe(false); // refused before anything was written
  });

  it('--out is never the model folder, and a folder with files in it only with --force; no partial files are left', async () => {
    const same = await cli('train', '--model', model, '--data', data, '--out', model, '--steps', '1');
    expect(same.code).toBe(2);
    expect(same.stderr).toMatch(/--out is the --model folder/);
    const full = path.join(dir, 'nonempty');
    mkdirSync(full, { recursive: true });
    writeFileSync(path.join(full, 'notes.txt'), 'keep me');
    const refused = await cli('train', '--model', model, '--data', data, '--out', full, '--steps', '1', '--batch-size', '2', '--max-length', '32', '--eval-every', '0');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--out .*nonempty is not empty: choose an empty or new folder, or add --force/);
    const forced = await cli('train', '--model', model, '--data', data, '--out', full, '--steps', '1', '--batch-size', '2', '--max-length', '32', '--eval-every', '0', '--force');
    expect(forced.code).toBe(0);
    expect(readdirSync(full)).toEqual(expect.arrayContaining(['config.json', 'model.safetensors', 'tokenizer.json', 'notes.txt'])); // written beside what was there
    expect(readdirSync(full).some((f) => f.includes('.partial-'))).toBe(false);
  });

  it('bad arguments say what to do', async () => {
    const noData = await cli('train', '--model', model, '--out', path.join(dir, 'x'));
    expect(noData.code).toBe(2);
    expect(noData.stderr).toMatch(/--data FILE is required/);
    const badMethod = await cli('train', '--model', model, '--data', data, '--out', path.join(dir, 'x'), '--method', 'qlora');
    expect(badMethod.code).toBe(2);
    expect(badMethod.stderr).toMatch(/--method must be one of full, lora/);
    const both = await cli('train', '--model', model, '--data', data, '--out', path.join(dir, 'x'), '--checkpointing', '--no-checkpointing');
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--checkpointing and --no-checkpointing: give one of them, or neither/);
    const odd = path.join(dir, 'odd.jsonl');
    writeFileSync(odd, '{"foo": "bar"}\n');
    const noFields = await cli('train', '--model', model, '--data', odd, '--out', path.join(dir, 'x'));
    expect(noFields.code).toBe(1);
    expect(noFields.stderr).toMatch(/no known fields/);
  });
});

describe('cli train: packing and DPO', () => {
  it('--packing packs short examples into rows and says how many', async () => {
    const out = path.join(dir, 'packed');
    const r = await cli('train', '--model', model, '--data', data, '--out', out, '--steps', '2', '--batch-size', '2', '--eval-every', '0', '--max-length', '256', '--packing');
    expect(r.code).toBe(0);
    const [estimate] = lines(r.stdout);
    expect(estimate.packing).toBe(true);
    expect(estimate.packed_rows).toBeLessThan(72); // 72 train examples, several to a row
    expect(estimate.packing_gain).toBeGreaterThan(1);
  });

  it('--objective dpo trains on preference pairs: ln 2 at the first step, rewards and margin on every line', async () => {
    const pairs = path.join(dir, 'pairs.jsonl');
    const qa = readFileSync(data, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { question: string; answer: string });
    writeFileSync(pairs, qa.slice(0, 20).map((r, i) => JSON.stringify({ prompt: r.question, chosen: r.answer, rejected: qa[i + 1].answer })).join('\n'));
    const r = await cli('train', '--model', model, '--data', pairs, '--out', path.join(dir, 'dpo'), '--objective', 'dpo', '--beta', '0.2', '--method', 'lora', '--lora-dropout', '0', '--steps', '3', '--batch-size', '2', '--eval-every', '3', '--max-length', '48');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const steps = lines(r.stdout).filter((l) => 'loss' in l);
    expect(steps[0].loss).toBeCloseTo(Math.LN2, 4);
    for (const s of steps) for (const k of ['chosen_reward', 'rejected_reward', 'margin', 'accuracy']) expect(s[k], k).toBeTypeOf('number');
    expect(lines(r.stdout).filter((l) => 'eval_loss' in l)[0].eval_margin).toBe(0);
    const wrong = await cli('train', '--model', model, '--data', data, '--out', path.join(dir, 'dpo2'), '--objective', 'dpo');
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/DPO trains on preference pairs: give a file with prompt \/ chosen \/ rejected fields/);
    const stray = await cli('train', '--model', model, '--data', pairs, '--out', path.join(dir, 'dpo3'), '--beta', '0.2');
    expect(stray.stderr).toMatch(/--beta and --label-smoothing are DPO settings: add --objective dpo/);
  });
});
