import { zipSync } from 'fflate';
import { unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { createStore } from 'zustand/vanilla';
import type { EngineApi, ExportedFile, ParamsOf, RequestKind } from '../protocol/protocol';
import { DEFAULT_TRAIN } from '../train/presets';
import { createExportActions, readPickedFiles, slug, zipFiles, type ExportEnv, type ExportState } from './createExportActions';
import type { ModelChoice } from './modelChoices';
import { initialTrainState, type RunRecord, type TrainState } from './trainStore';

const LORA = { ...DEFAULT_TRAIN.lora, rank: 4, alpha: 8 };
const QA = { id: 'qa' as const, custom: '' };
const CHOICES: ModelChoice[] = [
  { id: 'base', label: 'Base (tiny)', ref: { kind: 'base' } },
  { id: 'r1', label: 'Run 1 (LoRA r4, step 6)', ref: { kind: 'run', runId: 'r1', checkpoint: 'last', config: { ...DEFAULT_TRAIN, method: 'lora', lora: LORA } } },
];
const FILES: ExportedFile[] = [
  { name: 'adapter_config.json', bytes: new TextEncoder().encode('{"peft_type":"LORA"}') },
  { name: 'adapter_model.safetensors', bytes: new Uint8Array(2_000_000).fill(7) },
];

function setup(answer: (kind: RequestKind, params: unknown) => Promise<unknown>) {
  const calls: { kind: RequestKind; params: unknown }[] = [];
  const engine = {
    request: (kind: RequestKind, params: unknown) => {
      calls.push({ kind, params });
      return answer(kind, params);
    },
  } as unknown as EngineApi;
  const saved: { name: string; files: ExportedFile[]; target: string }[] = [];
  const reports: ExportState[] = [];
  const added: RunRecord[] = [];
  const store = createStore<TrainState>()(initialTrainState);
  const env: ExportEnv = {
    engine: () => engine,
    model: () => 'EleutherAI/pythia-70m',
    choices: () => CHOICES,
    save: async (name, files, target) => {
      saved.push({ name, files, target: typeof target === 'string' ? target : JSON.stringify(target) });
      return `as ${name}.zip`;
    },
    card: (c, kind) => (c.id === 'base' ? null : { name: 'README.md', bytes: new TextEncoder().encode(`card ${c.id} ${kind}`) }),
    template: (c) => (c.id === 'base' ? null : QA),
    addRun: (r) => added.push(r),
    report: (s) => reports.push(s),
    newId: () => 'import-1',
    now: () => 42,
  };
  return { calls, saved, reports, added, actions: createExportActions(store, env) };
}

describe('export actions', () => {
  it('exports the chosen run as asked, saves the files under a readable name, and reports the size', async () => {
    const t = setup(async () => ({ files: FILES }));
    await t.actions.exportModel('r1', { kind: 'adapter', format: 'hf', dtype: 'float16' }, 'zip');
    expect(t.calls).toEqual([{ kind: 'exportRun', params: { ref: CHOICES[1].ref, kind: 'adapter', format: 'hf', dtype: 'float16', baseModel: 'EleutherAI/pythia-70m', template: QA } satisfies ParamsOf<'exportRun'> }]);
    // The run's model card goes with its files.
    expect(t.saved).toEqual([{ name: 'run-1-adapter', files: [...FILES, { name: 'README.md', bytes: new TextEncoder().encode('card r1 adapter') }], target: 'zip' }]);
    expect(t.reports.map((r) => r.status)).toEqual(['working', 'done']);
    expect(t.reports[1].message).toBe('3 files (2.0 MB) saved as run-1-adapter.zip.');

    // To the Hub: the same files, the target passed on.
    await t.actions.exportModel('r1', { kind: 'adapter', format: 'hf', dtype: 'float32' }, { hub: { repo: 'me/run-1', token: 'hf_x', private: true } });
    expect(t.saved[1].target).toBe('{"hub":{"repo":"me/run-1","token":"hf_x","private":true}}');
    expect(t.saved[1].files.map((f) => f.name)).toEqual(['adapter_config.json', 'adapter_model.safetensors', 'README.md']);
  });

  it('a GGUF export goes with its Modelfile and no model card, is named for its type, and says how to run it', async () => {
    const gguf = [
      { name: 'model.gguf', bytes: new Uint8Array(3_000_000) },
      { name: 'Modelfile', bytes: new TextEncoder().encode('FROM ./model.gguf\n') },
    ];
    const t = setup(async () => ({ files: gguf }));
    await t.actions.exportModel('r1', { kind: 'merged', format: 'gguf', dtype: 'q8_0' }, 'zip');
    expect(t.calls[0].params).toMatchObject({ kind: 'merged', format: 'gguf', dtype: 'q8_0', template: QA });
    expect(t.saved).toEqual([{ name: 'run-1-merged-gguf-q8_0', files: gguf, target: 'zip' }]);
    expect(t.reports.at(-1)?.message).toBe(
      '2 files (3.0 MB) saved as run-1-merged-gguf-q8_0.zip. Run it: ollama create my-model -f Modelfile && ollama run my-model  or  llama-cli -m model.gguf -p "…".',
    );

    const u = setup(async () => ({ files: [{ name: 'adapter.gguf', bytes: new Uint8Array(10) }, gguf[1]] }));
    await u.actions.exportModel('r1', { kind: 'adapter', format: 'gguf', dtype: 'float32' }, 'zip');
    expect(u.reports.at(-1)?.message).toMatch(/llama-cli -m base\.gguf --lora adapter\.gguf .*export the base model as GGUF into the same folder as base\.gguf first/);
  });

  it('a failed export says why; closing the folder picker is not an error', async () => {
    const t = setup(async () => {
      throw new Error('only a LoRA run has an adapter: export the model instead');
    });
    await t.actions.exportModel('base', { kind: 'adapter', format: 'hf', dtype: 'float32' }, 'zip');
    expect(t.reports.at(-1)).toEqual({ status: 'failed', message: 'only a LoRA run has an adapter: export the model instead' });
    expect(t.saved).toEqual([]);

    const u = setup(async () => ({ files: FILES }));
    const picker = new DOMException('The user aborted a request.', 'AbortError');
    const actions = createExportActions(createStore<TrainState>()(initialTrainState), {
      engine: () => ({ request: async () => ({ files: FILES }) }) as unknown as EngineApi,
      model: () => 'm',
      choices: () => CHOICES,
      save: async () => {
        throw picker;
      },
      card: () => null,
      template: () => null,
      addRun: () => {},
      report: (s) => u.reports.push(s),
    });
    await actions.exportModel('base', { kind: 'model', format: 'hf', dtype: 'float32' }, 'folder');
    expect(u.reports.at(-1)).toEqual({ status: 'idle', message: null });
  });

  it('an imported adapter becomes a run of the loaded model with the adapter’s LoRA settings and its checkpoint', async () => {
    const t = setup(async () => ({ lora: LORA, bytes: 1234 }));
    await t.actions.importAdapter(FILES, 'my-adapter.zip');
    expect(t.calls[0]).toEqual({ kind: 'importAdapter', params: { runId: 'import-1', files: FILES } });
    expect(t.added).toHaveLength(1);
    expect(t.added[0]).toMatchObject({ id: 'import-1', name: 'Run 1 (imported my-adapter.zip)', model: 'EleutherAI/pythia-70m', status: 'imported', lastCheckpoint: { step: 0, bytes: 1234 } });
    expect(t.added[0].config.method).toBe('lora');
    expect(t.added[0].config.lora).toEqual(LORA);
    expect(t.reports.at(-1)?.message).toMatch(/^Imported a LoRA adapter \(r 4, alpha 8/);
  });

  it('a refused adapter adds no run and shows the engine’s reason', async () => {
    const t = setup(async () => {
      throw new Error('adapter_model.safetensors: gpt_neox.layers.0.attention.dense.lora_A.weight is 4×32, the loaded model needs 4×64');
    });
    await t.actions.importAdapter(FILES, 'x');
    expect(t.added).toEqual([]);
    expect(t.reports.at(-1)?.status).toBe('failed');
    expect(t.reports.at(-1)?.message).toMatch(/loaded model needs 4×64/);
  });

  it('picked files: a zip is opened by its signature, whatever its name; a broken zip is reported, and no run added', async () => {
    const zipped = new File([new Uint8Array(zipFiles([{ name: 'my-adapter/adapter_config.json', bytes: FILES[0].bytes }, { name: 'my-adapter/adapter_model.safetensors', bytes: FILES[1].bytes }, { name: 'my-adapter/README.md', bytes: new Uint8Array(10) }]))], 'download.bin');
    const plain = new File([new Uint8Array(FILES[1].bytes)], 'adapter_model.safetensors');
    const read = await readPickedFiles([zipped, plain]);
    // Only the adapter's files are inflated, with their folder kept (the import checks they share it).
    expect(read.map((f) => f.name)).toEqual(['my-adapter/adapter_config.json', 'my-adapter/adapter_model.safetensors', 'adapter_model.safetensors']);
    expect(read[0].bytes).toEqual(FILES[0].bytes);
    expect(read[1].bytes).toEqual(FILES[1].bytes);

    const t = setup(async () => ({ lora: LORA, bytes: 1 }));
    const broken = new File([new Uint8Array([0x50, 0x4b, 0x03, 0x04, 1, 2, 3])], 'adapter.zip');
    await t.actions.importAdapter(() => readPickedFiles([broken]), 'adapter.zip');
    expect(t.calls).toEqual([]);
    expect(t.added).toEqual([]);
    expect(t.reports.at(-1)).toMatchObject({ status: 'failed', message: expect.stringMatching(/^adapter\.zip looks like a zip but cannot be opened/) });
  });

  it('a deflated adapter of a few MB (inflated in fflate’s worker) comes back byte for byte', async () => {
    const weights = new Uint8Array(3 * 2 ** 20).map((_, i) => (i * 7) % 13); // compressible, so deflated
    const zipped = zipSync({ 'a/adapter_config.json': FILES[0].bytes, 'a/adapter_model.safetensors': weights }, { level: 6 });
    expect(zipped.byteLength).toBeLessThan(weights.byteLength / 4);
    const read = await readPickedFiles([new File([zipped], 'adapter.zip')]);
    expect(read.map((f) => f.name)).toEqual(['a/adapter_config.json', 'a/adapter_model.safetensors']);
    expect(read[1].bytes).toEqual(weights);
  });

  it('a zip whose adapter file would inflate past its cap is refused before inflating it', async () => {
    // A stored (uncompressed) entry whose header claims 2 MB for adapter_config.json: the cap is 1 MB.
    const big = new File([new Uint8Array(zipFiles([{ name: 'a/adapter_config.json', bytes: new Uint8Array(2 * 2 ** 20) }]))], 'bomb.zip');
    await expect(readPickedFiles([big])).rejects.toThrow(/^bomb\.zip: a\/adapter_config\.json would inflate to 2,097,152 bytes, more than an adapter's 1,048,576: pick the adapter folder's own files$/);
  });

  it('zips files byte for byte, sub-folders included; slugs are file-system safe', () => {
    const files = [...FILES, { name: 'adapter/README.md', bytes: new TextEncoder().encode('# hi') }];
    const back = unzipSync(zipFiles(files));
    expect(Object.keys(back).sort()).toEqual(['adapter/README.md', 'adapter_config.json', 'adapter_model.safetensors']);
    for (const f of files) expect(back[f.name]).toEqual(f.bytes);
    expect(slug('Run 2 (LoRA r8, step 30)')).toBe('run-2-lora-r8-step-30');
    expect(slug('!!!')).toBe('model');
  });
});
