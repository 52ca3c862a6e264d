import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInProcessEngine } from './inProcess';
import { noteModuleOutput } from '../backend/xnnStatus';
import { checkpointBytes } from '../model/checkpoint';
import { toHfConfig } from '../model/config';
import { initRandomData } from '../model/params';
import { bundledTokenizerJson, filesOfDir, TINY_SPEC, WASM_DIR } from '../testing/tinyModel';
import { DEFAULT_GENERATE } from '../eval/generateText';
import { tinyConfig } from '../model/tinyConfig';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'neox-engine-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A tiny model folder whose embedding has `vocabSize` rows, with `tokenizer` as its tokenizer.json (none when null). */
function modelDir(name: string, vocabSize: number, tokenizer: unknown | null) {
  const d = path.join(dir, name);
  mkdirSync(d, { recursive: true });
  const config = { ...tinyConfig(TINY_SPEC), vocabSize };
  writeFileSync(path.join(d, 'config.json'), JSON.stringify(toHfConfig(config)));
  writeFileSync(path.join(d, 'model.safetensors'), checkpointBytes(config, initRandomData(config, 1)));
  if (tokenizer !== null) writeFileSync(path.join(d, 'tokenizer.json'), JSON.stringify(tokenizer));
  return { kind: 'files' as const, files: filesOfDir(d) };
}

describe('loading a model with a tokenizer whose ids pass its embedding rows', () => {
  const engine = createInProcessEngine({ wasmPaths: WASM_DIR, bundledTokenizer: async () => bundledTokenizerJson() });
  beforeAll(async () => {
    await engine.request('init', { backend: 'cpu' });
  });

  it('refuses it, naming the file and vocab_size, and leaves the loaded model in place', async () => {
    expect(await engine.request('loadedModel', {})).toBeNull();
    const loaded = await engine.request('loadModel', { source: { kind: 'random', spec: TINY_SPEC } });
    // 25 added tokens past 50,254 pieces: 50,280 ids in all (the old count of tokens passed this), but one of them is 50,300.
    const pythia = bundledTokenizerJson() as { added_tokens: { id: number }[] };
    const extra = { ...pythia, added_tokens: [...pythia.added_tokens, { id: 50300, content: '<|extra|>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }] };
    await expect(engine.request('loadModel', { source: modelDir('extra', 50280, extra) })).rejects.toThrow(
      "tokenizer.json has ids up to 50,300 but the model's embedding has 50,280 rows (config.json's vocab_size): use the tokenizer that came with this model",
    );
    await expect(engine.request('loadModel', { source: modelDir('bundled', 50000, null) })).rejects.toThrow(
      /^the bundled Pythia tokenizer\.json has ids up to 50,276 but the model's embedding has 50,000 rows .*: add the tokenizer\.json that came with this model$/,
    );
    // The page asks which model is still there, and keeps showing it.
    expect(await engine.request('loadedModel', {})).toEqual(loaded);
    const r = await engine.request('generate', { ...DEFAULT_GENERATE, prompt: 'Hello', maxNewTokens: 3 });
    expect(r.tokenIds).toHaveLength(3);
  });

  it('loads one whose largest id is the last row', async () => {
    const info = await engine.request('loadModel', { source: modelDir('fits', 50277, bundledTokenizerJson()) });
    expect(info).toMatchObject({ tokenizer: 'model', config: { vocabSize: 50277 } });
  });
});

describe('loading a model whose weights hold NaN', () => {
  const engine = createInProcessEngine({ wasmPaths: WASM_DIR, bundledTokenizer: async () => bundledTokenizerJson() });
  beforeAll(async () => {
    await engine.request('init', { backend: 'cpu' });
  });

  it('loads it, and the model card gets one warning naming the file and the tensor', async () => {
    const d = path.join(dir, 'nan');
    mkdirSync(d, { recursive: true });
    const config = tinyConfig(TINY_SPEC);
    const data = initRandomData(config, 1);
    data.get('gpt_neox.final_layer_norm.weight')![3] = NaN;
    writeFileSync(path.join(d, 'config.json'), JSON.stringify(toHfConfig(config)));
    writeFileSync(path.join(d, 'model.safetensors'), checkpointBytes(config, data));
    const info = await engine.request('loadModel', { source: { kind: 'files', files: filesOfDir(d) } });
    expect(info.warnings).toHaveLength(1);
    expect(info.warnings[0]).toMatch(/model\.safetensors.*gpt_neox\.final_layer_norm\.weight/);
    const clean = await engine.request('loadModel', { source: { kind: 'random', spec: TINY_SPEC } });
    expect(clean.warnings).toEqual([]);
    // The fingerprint: the same files give the same one, other weights another.
    const again = await engine.request('loadModel', { source: { kind: 'files', files: filesOfDir(d) } });
    expect(again.fingerprint).toBe(info.fingerprint);
    expect(clean.fingerprint).not.toBe(info.fingerprint);
    expect((await engine.request('loadModel', { source: { kind: 'random', spec: TINY_SPEC } })).fingerprint).toBe(clean.fingerprint);
  });
});

describe('a job during which XNNPACK failed', () => {
  const engine = createInProcessEngine({ wasmPaths: WASM_DIR, bundledTokenizer: async () => bundledTokenizerJson() });
  beforeAll(async () => {
    await engine.request('init', { backend: 'cpu' });
    await engine.request('loadModel', { source: { kind: 'random', spec: TINY_SPEC } });
  });

  it('fails with the out-of-memory message instead of answering with what the product left, and the next job runs', async () => {
    const ask = () => engine.request('generate', { ...DEFAULT_GENERATE, prompt: 'Hello', maxNewTokens: 2 });
    const job = ask();
    noteModuleOutput('XNN status for xnn_create_fully_connected_nc_f32 is not successful. Got status 6. Use -c dbg to see XNN logs.');
    await expect(job).rejects.toThrow(/^out of memory: .*XNNPACK ran out of memory\)\)\. Train with LoRA/);
    expect((await ask()).tokenIds).toHaveLength(2);
  });
});

describe('end tokens from generation_config.json', () => {
  const engine = createInProcessEngine({ wasmPaths: WASM_DIR, bundledTokenizer: async () => bundledTokenizerJson() });
  beforeAll(async () => {
    await engine.request('init', { backend: 'cpu' });
  });

  it('generation stops at any id in its eos_token_id list (as Qwen\'s instruct models list two), not only at the tokenizer\'s EOS', async () => {
    const source = modelDir('eos-list', tinyConfig(TINY_SPEC).vocabSize, null);
    const d = path.join(dir, 'eos-list');
    const greedy = { ...DEFAULT_GENERATE, prompt: 'The studio', temperature: 0, maxNewTokens: 6 };
    await engine.request('loadModel', { source });
    const free = await engine.request('generate', greedy);
    expect(free.reason).toBe('length');
    expect(free.tokenIds).toHaveLength(6);
    // The third greedy token becomes an end token: generation ends before it.
    writeFileSync(path.join(d, 'generation_config.json'), JSON.stringify({ eos_token_id: [0, free.tokenIds[2]] }));
    await engine.request('loadModel', { source: { kind: 'files', files: filesOfDir(d) } });
    const stopped = await engine.request('generate', greedy);
    expect(stopped.reason).toBe('eos');
    expect(stopped.tokenIds).toEqual(free.tokenIds.slice(0, 2));
    // The exported model folder keeps the list, so transformers' generate stops where the studio did.
    const { files } = await engine.request('exportRun', { ref: { kind: 'base' }, kind: 'model', format: 'hf', dtype: 'float32', baseModel: 'eos-list' });
    const gen = files.find((f) => f.name === 'generation_config.json')!;
    expect(JSON.parse(new TextDecoder().decode(gen.bytes))).toEqual({ eos_token_id: [0, free.tokenIds[2]] });
  });
});
