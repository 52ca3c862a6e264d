import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenizerFromJson, type Tokenizer } from '../data/tokenizer';
import { tinyConfig } from '../model/tinyConfig';
import { DEFAULT_GENERATE } from '../eval/generateText';
import { toHfConfig } from '../model/config';
import { countParams } from '../model/params';
import { CancelledError, type GenerateParams, type ProgressEvent, type TokenEvent } from '../protocol/protocol';
import { bundledTokenizerJson, filesOfDir, TINY_SPEC, WASM_DIR, writeTinyModelDir } from '../testing/tinyModel';
import { createInProcessEngine } from './inProcess';

const newEngine = () => createInProcessEngine({ wasmPaths: WASM_DIR, bundledTokenizer: async () => bundledTokenizerJson() });
const params = (p: Partial<GenerateParams> = {}): GenerateParams => ({ ...DEFAULT_GENERATE, prompt: 'Once upon a time', maxNewTokens: 10, ...p });

let tokenizer: Tokenizer;
let dir: string;

beforeAll(() => {
  tokenizer = tokenizerFromJson(bundledTokenizerJson());
  dir = mkdtempSync(path.join(tmpdir(), 'neox-inprocess-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('in-process engine, before a model is loaded', () => {
  it('init starts the requested backend and says so', async () => {
    const engine = newEngine();
    const info = await engine.request('init', { backend: 'cpu' });
    expect(info.name).toBe('cpu');
    expect(info.reason).toMatch(/cpu/i);
  });

  it('generating without a model says to load one', async () => {
    const engine = newEngine();
    await engine.request('init', { backend: 'cpu' });
    await expect(engine.request('generate', params())).rejects.toThrow(/no model is loaded: load one/);
  });

  it('loading before the backend starts says to wait', async () => {
    await expect(newEngine().request('loadModel', { source: { kind: 'random', spec: TINY_SPEC } })).rejects.toThrow(/backend is not started/);
  });
});

describe('in-process engine with a tiny random model', () => {
  const engine = newEngine();
  const progress: ProgressEvent[] = [];

  beforeAll(async () => {
    await engine.request('init', { backend: 'cpu' });
  });

  it('loadModel reports the parameter count of the config, and the bundled tokenizer', async () => {
    const info = await engine.request('loadModel', { source: { kind: 'random', spec: TINY_SPEC } }, { onProgress: (e) => progress.push(e) });
    expect(info.paramCount).toBe(countParams(tinyConfig(TINY_SPEC)));
    expect(info.paramCount).toBe(2 * 50304 * 16 + (4 * 16 + 3 * 16 * 16 + 3 * 16 + 16 * 16 + 16 + 2 * (64 * 16) + 64 + 16) + 2 * 16);
    expect(info.config).toEqual(tinyConfig(TINY_SPEC));
    expect(info).toMatchObject({ source: 'random', tokenizer: 'bundled', deviceBytes: info.paramCount * 4, fileBytes: 0 });
    expect(progress.some((e) => e.stage === 'upload')).toBe(true);
  });

  it('streams token events whose deltas concatenate to the result text, the decoded new ids', async () => {
    const events: TokenEvent[] = [];
    const r = await engine.request('generate', params({ maxNewTokens: 16 }), { onToken: (e) => events.push(e) });
    expect(events.length).toBeGreaterThan(0);
    expect(events.map((e) => e.delta).join('')).toBe(r.text);
    expect(r.text).toBe(tokenizer.decode(r.tokenIds));
    expect(new Set(events.map((e) => e.requestId)).size).toBe(1);
    expect(events[events.length - 1].tokenCount).toBe(r.tokenIds.length);
    expect(r.promptTokens).toBe(tokenizer.encode('Once upon a time').length);
  });

  it('respects max new tokens', async () => {
    for (const n of [1, 7]) {
      const r = await engine.request('generate', params({ maxNewTokens: n }));
      if (r.reason === 'eos') expect(r.tokenIds.length).toBeLessThan(n);
      else {
        expect(r.reason).toBe('length');
        expect(r.tokenIds).toHaveLength(n);
      }
    }
  });

  it('greedy gives the same tokens on every call', async () => {
    const a = await engine.request('generate', params({ maxNewTokens: 12 }));
    const b = await engine.request('generate', params({ maxNewTokens: 12 }));
    expect(b.tokenIds).toEqual(a.tokenIds);
    expect(b.text).toBe(a.text);
  });

  it('cancelling mid-generation rejects with CancelledError, and the next generate still works', async () => {
    const controller = new AbortController();
    let tokens = 0;
    const cancelled = engine.request('generate', params({ maxNewTokens: 200 }), {
      signal: controller.signal,
      onToken: () => {
        if (++tokens === 2) controller.abort();
      },
    });
    await expect(cancelled).rejects.toBeInstanceOf(CancelledError);
    expect(tokens).toBeGreaterThanOrEqual(2);
    expect(tokens).toBeLessThan(200);
    const r = await engine.request('generate', params({ maxNewTokens: 5 }));
    expect(r.tokenIds).toHaveLength(5);
  });

  it('a request whose signal is already aborted is cancelled without running', async () => {
    const controller = new AbortController();
    controller.abort();
    const events: TokenEvent[] = [];
    await expect(engine.request('generate', params(), { signal: controller.signal, onToken: (e) => events.push(e) })).rejects.toBeInstanceOf(CancelledError);
    expect(events).toEqual([]);
  });

  it('a stop string cuts the text', async () => {
    const free = await engine.request('generate', params({ maxNewTokens: 24 }));
    const mid = Math.floor(free.text.length / 2);
    const stop = free.text.slice(mid, mid + 2);
    const events: TokenEvent[] = [];
    const r = await engine.request('generate', params({ maxNewTokens: 24, stopStrings: [stop] }), { onToken: (e) => events.push(e) });
    expect(r.reason).toBe('stop');
    expect(r.text).toBe(free.text.slice(0, free.text.indexOf(stop)));
    expect(events.map((e) => e.delta).join('')).toBe(r.text);
  });

  it('invalid sampling settings reject with a message naming the setting', async () => {
    await expect(engine.request('generate', params({ temperature: -1 }))).rejects.toThrow(/temperature must be ≥ 0/);
    await expect(engine.request('generate', params({ topP: 0 }))).rejects.toThrow(/top-p must be in \(0, 1\]/);
  });
});

describe('in-process engine with model files', () => {
  const engine = newEngine();

  beforeAll(async () => {
    await engine.request('init', { backend: 'cpu' });
  });

  it('loads a folder of config.json, model.safetensors and tokenizer.json', async () => {
    const config = writeTinyModelDir(path.join(dir, 'ok'));
    const info = await engine.request('loadModel', { source: { kind: 'files', files: filesOfDir(path.join(dir, 'ok')) } });
    expect(info.config).toEqual(config);
    expect(info.paramCount).toBe(countParams(config));
    expect(info).toMatchObject({ source: 'files', tokenizer: 'model' });
    const r = await engine.request('generate', params({ maxNewTokens: 4 }));
    expect(r.tokenIds).toHaveLength(4);
  });

  it('a broken config.json rejects with the config error', async () => {
    const bad = path.join(dir, 'bad');
    writeTinyModelDir(bad, { tokenizer: false });
    writeFileSync(path.join(bad, 'config.json'), JSON.stringify({ model_type: 'mistral', hidden_size: 16 }));
    await expect(engine.request('loadModel', { source: { kind: 'files', files: filesOfDir(bad) } })).rejects.toThrow(/model_type "mistral".*gpt_neox.*llama.*qwen2.*qwen3.*gpt2/);
    writeFileSync(path.join(bad, 'config.json'), JSON.stringify({ model_type: 'llama', hidden_size: 16 }));
    await expect(engine.request('loadModel', { source: { kind: 'files', files: filesOfDir(bad) } })).rejects.toThrow(/config\.json is missing "num_attention_heads"/);
    writeFileSync(path.join(bad, 'config.json'), '{"model_type": "gpt_neox", ');
    await expect(engine.request('loadModel', { source: { kind: 'files', files: filesOfDir(bad) } })).rejects.toThrow(/config\.json is not valid JSON/);
  });

  it('weights that do not match config.json are named', async () => {
    const mismatched = path.join(dir, 'mismatched');
    writeTinyModelDir(mismatched, { tokenizer: false });
    writeFileSync(path.join(mismatched, 'config.json'), JSON.stringify({ ...toHfConfig(tinyConfig(TINY_SPEC)), hidden_size: 32 }));
    await expect(engine.request('loadModel', { source: { kind: 'files', files: filesOfDir(mismatched) } })).rejects.toThrow(
      /tensor "gpt_neox\.embed_in\.weight" has shape \[50304,16\] but config\.json implies \[50304,32\]/,
    );
  });
});
