/**
 * Runs out of and into the studio: a run's weights as a Hugging Face model folder or PEFT adapter
 * (zipped, or written into a folder the person picks), the recipe for bigger hardware, and a PEFT
 * adapter trained elsewhere, imported as a run of the loaded base.
 */
import type { StoreApi } from 'zustand';
import { unzip, zipSync, type UnzipFileFilter } from 'fflate';
import { runInstructions } from '../export/ollama';
import type { EngineApi, ExportDtype, ExportedFile, ModelFormat, ExportKind } from '../protocol/protocol';
import type { TemplateSpec } from '../data/types';
import { DEFAULT_TRAIN } from '../train/presets';
import type { ModelChoice } from './modelChoices';
import type { RunRecord, TrainState } from './trainStore';

/** Where exported files go: a zip download, a folder the person picks, or a Hub repo. */
export type ExportTarget = 'zip' | 'folder' | { hub: HubTarget };

export interface HubTarget {
  repo: string;
  token: string;
  private: boolean;
}

export interface ExportState {
  status: 'idle' | 'working' | 'done' | 'failed';
  message: string | null;
}

export interface ExportEnv {
  engine: () => EngineApi | null;
  /** The loaded model's label (a Hub repo id for Hub models), or null. */
  model: () => string | null;
  choices: () => ModelChoice[];
  /** Saves files: a zip download, into a folder the person picks (where the browser allows it), or to a Hub repo; returns where. */
  save: (name: string, files: ExportedFile[], target: ExportTarget) => Promise<string>;
  /** The model card (README.md) for what is exported, or null when there is nothing to say (the base). */
  card: (choice: ModelChoice, kind: ExportKind) => ExportedFile | null;
  /** How the chosen run's prompts were rendered (null: the base, or a run from before runs kept it). */
  template: (choice: ModelChoice) => TemplateSpec | null;
  /** Lists the imported run with the others (and keeps it). */
  addRun: (run: RunRecord) => void;
  report: (s: ExportState) => void;
  newId?: () => string;
  now?: () => number;
}

/** A file-system-safe name for downloads ("Run 2 (LoRA r8)" → "run-2-lora-r8"). */
export const slug = (s: string): string =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '') || 'model';

export function zipFiles(files: ExportedFile[]): Uint8Array<ArrayBuffer> {
  // fflate allocates the zip on a plain ArrayBuffer; the type says so, so that a download takes it without a copy.
  return zipSync(Object.fromEntries(files.map((f) => [f.name, f.bytes])), { level: 0 }) as Uint8Array<ArrayBuffer>; // weights do not compress
}

/** The files of a PEFT adapter a zip may hold, and the most each may inflate to. */
const ADAPTER_FILES: Record<string, number> = { 'adapter_config.json': 2 ** 20, 'adapter_model.safetensors': 2 ** 31 };

/**
 * fflate's asynchronous unzip: an entry of 512 KB or more (an adapter's weights) inflates in a
 * worker of its own, so a large adapter does not freeze the page; the small JSON files inflate here.
 */
function unzipped(bytes: Uint8Array, filter: UnzipFileFilter): Promise<Record<string, Uint8Array>> {
  return new Promise((resolve, reject) => unzip(bytes, { filter }, (err, out) => (err ? reject(err) : resolve(out))));
}

/**
 * Picked files as the engine takes them: a zip is opened (by its "PK\3\4" signature, whatever its
 * name), so an adapter folder zipped elsewhere imports as it is. Only the adapter's two files are
 * inflated, each under a size cap checked before inflating (a zip bomb stops there), with their
 * folders kept so the import can tell one adapter from several (a trainer's checkpoint-N folders).
 */
export async function readPickedFiles(list: readonly File[]): Promise<ExportedFile[]> {
  const files: ExportedFile[] = [];
  for (const f of list) {
    const bytes = new Uint8Array(await f.arrayBuffer());
    if (!(bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04)) {
      files.push({ name: f.name, bytes });
      continue;
    }
    let oversized: string | null = null;
    let entries: Record<string, Uint8Array>;
    try {
      entries = await unzipped(bytes, (e) => {
        const cap = ADAPTER_FILES[e.name.slice(e.name.lastIndexOf('/') + 1)];
        if (cap === undefined) return false;
        if (e.originalSize > cap) oversized ??= `${e.name} would inflate to ${e.originalSize.toLocaleString('en-US')} bytes, more than an adapter's ${cap.toLocaleString('en-US')}`;
        return e.originalSize <= cap;
      });
    } catch (e) {
      throw new Error(`${f.name} looks like a zip but cannot be opened (${(e as Error).message}): zip the adapter folder again, or pick its files`, { cause: e });
    }
    if (oversized) throw new Error(`${f.name}: ${oversized}: pick the adapter folder's own files`);
    for (const [name, b] of Object.entries(entries)) files.push({ name, bytes: b });
  }
  return files;
}

/** What to export a model as. */
export interface ExportChoice {
  kind: ExportKind;
  format: ModelFormat;
  dtype: ExportDtype;
}

export function createExportActions(store: Pick<StoreApi<TrainState>, 'getState'>, env: ExportEnv) {
  const now = env.now ?? (() => Date.now());
  const newId = env.newId ?? (() => `import-${now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`);

  async function run<T>(job: () => Promise<T>, done: (r: T) => string): Promise<T | null> {
    env.report({ status: 'working', message: null });
    try {
      const r = await job();
      env.report({ status: 'done', message: done(r) });
      return r;
    } catch (e) {
      const err = e as Error;
      // Closing the folder picker is not an error.
      if (err.name === 'AbortError') env.report({ status: 'idle', message: null });
      else env.report({ status: 'failed', message: err.message });
      return null;
    }
  }

  return {
    /**
     * Exports the chosen model (a run's last or best weights, or the base) as Hugging Face files or
     * GGUF to `target`; true once it is saved (or pushed).
     */
    async exportModel(choiceId: string, what: ExportChoice, target: ExportTarget): Promise<boolean> {
      const engine = env.engine();
      const choice = env.choices().find((c) => c.id === choiceId);
      const base = env.model();
      if (!engine || !choice || !base) return false;
      const { kind, format, dtype } = what;
      const name = `${slug(choice.label.replace(/\(.*\)/, ''))}-${kind}${format === 'gguf' ? '-gguf' : ''}${kind === 'adapter' && format === 'hf' ? '' : `-${dtype}`}`;
      const done = await run(
        async () => {
          const { files } = await engine.request('exportRun', { ref: choice.ref, kind, format, dtype, baseModel: base, template: env.template(choice) });
          // A GGUF goes with its Modelfile; the card is about loading the Hugging Face files.
          const card = format === 'hf' ? env.card(choice, kind) : null;
          const all = card ? [...files, card] : files;
          return { files: all, where: await env.save(name, all, target) };
        },
        ({ files, where }) => {
          const saved = `${files.length} files (${(files.reduce((n, f) => n + f.bytes.byteLength, 0) / 1e6).toFixed(1)} MB) saved ${where}.`;
          if (format !== 'gguf') return saved;
          const gguf = files.filter((f) => f.name.endsWith('.gguf')).map((f) => f.name);
          const run = kind === 'adapter' ? runInstructions('base.gguf', gguf[0]) : runInstructions(gguf[0]);
          return `${saved} Run it: ${run.join('  or  ')}${kind === 'adapter' ? ' (export the base model as GGUF into the same folder as base.gguf first)' : ''}.`;
        },
      );
      return done !== null;
    },

    /**
     * A PEFT adapter (adapter_config.json + adapter_model.safetensors) onto the loaded base, listed
     * as a run. `files` may be a reader (of picked files), so that its errors are reported too.
     */
    async importAdapter(files: ExportedFile[] | (() => Promise<ExportedFile[]>), label: string): Promise<void> {
      const engine = env.engine();
      const model = env.model();
      if (!engine || !model) return;
      const runId = newId();
      await run(
        async () => {
          const r = await engine.request('importAdapter', { runId, files: typeof files === 'function' ? await files() : files });
          const n = store.getState().runs.length + 1;
          env.addRun({
            id: runId,
            name: `Run ${n} (imported ${label})`,
            createdAt: now(),
            model,
            dataset: { name: 'trained elsewhere', train: 0, test: 0 },
            config: { ...DEFAULT_TRAIN, method: 'lora', lora: r.lora },
            tokenize: { maxLength: 0, truncation: 'right', padding: 'longest', appendEos: true, lossOn: 'completion' },
            status: 'imported',
            steps: [],
            evals: [],
            samples: [],
            samplePrompt: '',
            totalSteps: 0,
            lastCheckpoint: { step: 0, bytes: r.bytes },
            bestEval: null,
            message: null,
          });
          return r;
        },
        (r) => `Imported a LoRA adapter (r ${r.lora.rank}, alpha ${r.lora.alpha}, ${r.lora.targets.join(', ')}): pick it in the playground or the Evaluate tab.`,
      );
    },

    /** Any files made on the page (the recipe), saved the same way. */
    async saveFiles(name: string, files: () => ExportedFile[], target: ExportTarget): Promise<void> {
      await run(
        async () => {
          const f = files();
          return { f, where: await env.save(name, f, target) };
        },
        ({ f, where }) => `${f.length} files saved ${where}.`,
      );
    },
  };
}

export type ExportActions = ReturnType<typeof createExportActions>;
