/**
 * The command line, run as a user runs it: `tsx src/cli/main.ts …` in a child process.
 * Each process costs 1–3 s of start-up, so every run is started at most once and they share a small pool.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInProcessEngine } from '../client/inProcess';
import { DEFAULT_GENERATE } from '../eval/generateText';
import { checkpointBytes } from '../model/checkpoint';
import { parseConfig } from '../model/config';
import { paramSpecs } from '../model/params';
import { readHeader, readSafetensors } from '../model/safetensors';
import { loadFixture, relError, type Fixture } from '../testing/fixtures';
import { bundledTokenizerJson, filesOfDir, REPO_ROOT, WASM_DIR, writeTinyModelDir } from '../testing/tinyModel';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

const TSX = path.join(REPO_ROOT, 'node_modules/.bin/tsx');
const SLOTS = Math.max(2, Math.min(6, availableParallelism()));
let active = 0;
const waiting: (() => void)[] = [];

/** Run the CLI with `args` (at most SLOTS at once); resolves with its exit code and output, never rejects. */
async function cli(...args: string[]): Promise<Run> {
  if (active >= SLOTS) await new Promise<void>((r) => waiting.push(r));
  active++;
  try {
    return await new Promise<Run>((resolve) => {
      execFile(TSX, ['src/cli/main.ts', ...args], { cwd: REPO_ROOT, timeout: 60_000, encoding: 'utf8' }, (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      });
    });
  } finally {
    active--;
    waiting.shift()?.();
  }
}

const describeRun = (r: Run): string => `exit ${r.code}\nstdout: ${r.stdout.slice(0, 500)}\nstderr: ${r.stderr}`;

let tmp: string;
const runs: Record<string, Promise<Run>> = {};
/** Start a named run once; tests await it. */
const start = (key: string, ...args: string[]): Promise<Run> => (runs[key] ??= cli(...args));

const FORWARD_CASES = ['parallel-rot025-f32', 'sequential-rot050-bf16'] as const;
const PROMPT = 'Once upon a time';
const MAX_NEW = 12;

beforeAll(() => {
  tmp = mkdtempSync(path.join(tmpdir(), 'neox-cli-'));
  // Model folders the error cases need.
  const noTok = path.join(tmp, 'no-tokenizer');
  writeTinyModelDir(noTok, { tokenizer: false });
  const pickle = path.join(tmp, 'pickle');
  mkdirSync(pickle);
  copyFileSync(path.join(noTok, 'config.json'), path.join(pickle, 'config.json'));
  writeFileSync(path.join(pickle, 'pytorch_model.bin'), new Uint8Array(64));
  const pickleOnly = path.join(tmp, 'pickle-only');
  mkdirSync(pickleOnly);
  writeFileSync(path.join(pickleOnly, 'pytorch_model.bin'), new Uint8Array(64));
  // A tiny random model with the real vocabulary and tokenizer, for generate.
  writeTinyModelDir(path.join(tmp, 'tiny'), { std: 0.2 });

  // Start everything that does not depend on another run's output, so the pool stays busy.
  for (const name of FORWARD_CASES) {
    const ids = loadFixture(name).golden.ids[0].join(',');
    start(`forward:${name}`, 'forward', '--model', `fixtures/${name}`, '--ids', ids, '--out', path.join(tmp, `${name}.json`), '--grads', path.join(tmp, `${name}.grads.safetensors`));
  }
  const webgpuIds = loadFixture(FORWARD_CASES[0]).golden.ids[0].join(',');
  start('forward:webgpu', 'forward', '--backend', 'webgpu', '--model', `fixtures/${FORWARD_CASES[0]}`, '--ids', webgpuIds, '--out', path.join(tmp, 'webgpu.json'), '--grads', path.join(tmp, 'webgpu.grads.safetensors'));
  for (const i of [1, 2]) start(`generate:${i}`, 'generate', '--model', path.join(tmp, 'tiny'), '--prompt', PROMPT, '--max-new-tokens', String(MAX_NEW));
  start('unknown', 'frobnicate', '--model', 'fixtures/parallel-rot025-f32');
  start('no-model', 'forward', '--ids', '1,2,3', '--out', path.join(tmp, 'x.json'));
  start('bad-ids', 'forward', '--model', 'fixtures/parallel-rot025-f32', '--ids', '1,two,3', '--out', path.join(tmp, 'x.json'));
  start('no-tokenizer', 'generate', '--model', noTok, '--prompt', 'hi');
  start('pickle', 'generate', '--model', pickle, '--prompt', 'hi');
  start('pickle-only', 'forward', '--model', pickleOnly, '--ids', '1,2', '--out', path.join(tmp, 'x.json'));
});

afterAll(async () => {
  await Promise.allSettled(Object.values(runs));
  rmSync(tmp, { recursive: true, force: true });
});

const TIMEOUT = 120_000;

describe('cli forward --backend webgpu (Dawn for Node, the fused kernels)', () => {
  it(
    'says which adapter it got, and gives the CPU run\'s logits, loss and gradients',
    async () => {
      const [gpu, cpu] = await Promise.all([runs['forward:webgpu'], runs[`forward:${FORWARD_CASES[0]}`]]);
      expect(gpu.code, describeRun(gpu)).toBe(0);
      expect(gpu.stderr).toMatch(/^webgpu: Dawn (native|opengles) adapter, \S/m);
      expect(cpu.code, describeRun(cpu)).toBe(0);
      const [a, b] = ['webgpu', FORWARD_CASES[0]].map((n) => JSON.parse(readFileSync(path.join(tmp, `${n}.json`), 'utf8')) as { logits: number[][]; loss: number });
      expect(relError(a.logits.flat(), b.logits.flat())).toBeLessThan(1e-4);
      expect(Math.abs(a.loss - b.loss) / b.loss).toBeLessThan(1e-4);
      const [ga, gb] = ['webgpu', FORWARD_CASES[0]].map((n) => readSafetensors(readFileSync(path.join(tmp, `${n}.grads.safetensors`))).tensors);
      for (const [name, t] of gb) expect(relError(ga.get(name)!.data, t.data), name).toBeLessThan(1e-3);
    },
    TIMEOUT,
  );
});

describe.each(FORWARD_CASES)('cli forward on %s', (name) => {
  let f: Fixture;
  let out: { logits: number[][]; loss: number };
  let grads: ReturnType<typeof readSafetensors>['tensors'];

  beforeAll(async () => {
    f = loadFixture(name);
    const r = await runs[`forward:${name}`];
    expect(r.code, describeRun(r)).toBe(0);
    out = JSON.parse(readFileSync(path.join(tmp, `${name}.json`), 'utf8'));
    grads = readSafetensors(readFileSync(path.join(tmp, `${name}.grads.safetensors`))).tensors;
  }, TIMEOUT);

  it('logits equal the golden row 0 within 1e-4 relative', () => {
    const T = f.golden.ids[0].length;
    const V = parseConfig(f.configJson).vocabSize;
    expect(out.logits).toHaveLength(T);
    expect(out.logits.every((row) => row.length === V)).toBe(true);
    const golden = f.expected.get('logits')!.data.subarray(0, T * V); // (2, T, V): row 0
    expect(relError(out.logits.flat(), golden)).toBeLessThan(1e-4);
  });

  it('loss equals the golden loss_row0 within 1e-4 relative', () => {
    expect(Math.abs(out.loss - f.golden.loss_row0) / f.golden.loss_row0).toBeLessThan(1e-4);
  });

  it('writes one gradient per checkpoint parameter, named and shaped like it', () => {
    const checkpoint = readHeader(f.weights).entries;
    expect([...grads.keys()].sort()).toEqual(checkpoint.map((e) => e.name).sort());
    for (const e of checkpoint) expect(grads.get(e.name)!.shape, e.name).toEqual(e.shape);
  });

  it(
    'gradients agree with central differences of the CLI loss (3 entries in different tensors)',
    async () => {
      const config = parseConfig(f.configJson);
      const weights = new Map([...readSafetensors(f.weights).tensors].map(([n, t]) => [n, t.data]));
      const picks = ['embed_out.weight', 'gpt_neox.layers.0.attention.query_key_value.weight', 'gpt_neox.layers.1.mlp.dense_h_to_4h.bias'].map((tensor) => {
        const g = grads.get(tensor)!.data;
        let at = 0;
        for (let i = 1; i < g.length; i++) if (Math.abs(g[i]) > Math.abs(g[at])) at = i;
        return { tensor, at, grad: g[at] };
      });
      const h = 1e-2;
      const lossWith = async (tensor: string, at: number, delta: number, tag: string): Promise<{ loss: number; w: number }> => {
        const dir = path.join(tmp, `${name}-${tag}`);
        mkdirSync(dir, { recursive: true });
        const data = new Map(weights);
        const w = Float32Array.from(weights.get(tensor)!);
        w[at] += delta;
        data.set(tensor, w);
        copyFileSync(path.join(f.dir, 'config.json'), path.join(dir, 'config.json'));
        writeFileSync(path.join(dir, 'model.safetensors'), checkpointBytes(config, data)); // F32: the bf16 values are exact in it
        const r = await cli('forward', '--model', dir, '--ids', f.golden.ids[0].join(','), '--out', path.join(dir, 'out.json'));
        expect(r.code, describeRun(r)).toBe(0);
        return { loss: JSON.parse(readFileSync(path.join(dir, 'out.json'), 'utf8')).loss, w: w[at] };
      };
      const results = await Promise.all(
        picks.map(async (p, k) => {
          const [plus, minus] = await Promise.all([lossWith(p.tensor, p.at, h, `${k}p`), lossWith(p.tensor, p.at, -h, `${k}m`)]);
          return { ...p, fd: (plus.loss - minus.loss) / (plus.w - minus.w) };
        }),
      );
      for (const r of results) {
        expect(Math.abs(r.grad), `${r.tensor}[${r.at}] gradient is too small to test`).toBeGreaterThan(1e-2);
        const err = Math.abs(r.fd - r.grad);
        expect(err <= 0.02 * Math.abs(r.grad) || err <= 1e-4, `${r.tensor}[${r.at}]: grad ${r.grad}, central difference ${r.fd}`).toBe(true);
      }
      expect(paramSpecs(config).some((s) => s.name === picks[2].tensor)).toBe(true);
    },
    TIMEOUT,
  );
});

describe('cli generate', () => {
  it(
    'greedy output is deterministic and equals the in-process engine on the same folder',
    async () => {
      const [a, b] = await Promise.all([runs['generate:1'], runs['generate:2']]);
      expect(a.code, describeRun(a)).toBe(0);
      expect(b.stdout).toBe(a.stdout);
      expect(a.stderr).toBe('');

      const engine = createInProcessEngine({ wasmPaths: WASM_DIR, bundledTokenizer: async () => bundledTokenizerJson() });
      await engine.request('init', { backend: 'cpu' });
      const info = await engine.request('loadModel', { source: { kind: 'files', files: filesOfDir(path.join(tmp, 'tiny')) } });
      expect(info.tokenizer).toBe('model');
      const r = await engine.request('generate', { ...DEFAULT_GENERATE, prompt: PROMPT, maxNewTokens: MAX_NEW });
      expect(r.tokenIds).toHaveLength(MAX_NEW);
      expect(r.text.length).toBeGreaterThan(0);
      expect(a.stdout).toBe(`${r.text}\n`);
    },
    TIMEOUT,
  );
});

describe('cli errors: one "error:" line on stderr and an exit code', () => {
  const expectError = async (key: string, code: number, message: RegExp) => {
    const r = await runs[key];
    expect(r.code, describeRun(r)).toBe(code);
    const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^error: /);
    expect(lines[0]).toMatch(message);
  };

  it('unknown command → 2', () => expectError('unknown', 2, /unknown command "frobnicate".*help/), TIMEOUT);
  it('missing --model → 2', () => expectError('no-model', 2, /--model DIR is required/), TIMEOUT);
  it('--ids with a non-number → 2', () => expectError('bad-ids', 2, /--ids must be comma-separated token ids, got "two"/), TIMEOUT);
  it('generate in a folder without tokenizer.json → 1, naming tokenizer.json', () => expectError('no-tokenizer', 1, /has no tokenizer\.json/), TIMEOUT);
  it('config.json with pytorch_model.bin → 1, refusing the pickle and pointing to safetensors', () =>
    expectError('pickle', 1, /only safetensors checkpoints can be loaded: pytorch_model\.bin is a Python pickle/), TIMEOUT);
  it('a folder with only pytorch_model.bin → 1, mentioning safetensors', () => expectError('pickle-only', 1, /safetensors/), TIMEOUT);
});
