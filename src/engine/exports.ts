/**
 * Runs in and out of the engine: as Hugging Face files (a model folder, the run's weights or LoRA
 * merged into the base, or a PEFT adapter) or as llama.cpp's GGUF (the model, or a LoRA adapter
 * for --lora) with an Ollama Modelfile; and a PEFT adapter trained elsewhere, stored as a run's
 * checkpoint so every place that takes a run (playground, compare, evaluate, export) takes it too.
 */
import { ggufAdapterFile, ggufModelFile, type GgufDtype } from '../export/ggufModel';
import { ollamaModelfile } from '../export/ollama';
import type { TokenizerSource } from '../export/ggufVocab';
import type { ModelConfig } from '../model/config';
import type { ForwardContext } from '../model/forward';
import type { ExportedFile, ExportParams } from '../protocol/protocol';
import type { CheckpointStore } from '../train/checkpointStore';
import { adapterParams, peftAdapterFiles, runModelFolderFiles, runWeights } from '../train/exportModel';
import { parsePeftAdapter } from '../train/importAdapter';
import { loraScale } from '../train/lora';
import { snapshotToBytes } from '../train/snapshotBytes';
import type { LoraConfig } from '../train/types';

/** What an export writes about the loaded model beyond its weights: its tokenizer and generation config. */
export interface ExportSource {
  /** tokenizer.json (and tokenizer_config.json, and the model's generation_config.json) as loaded, copied into model folders. */
  files: ExportedFile[];
  /** The tokenizer, parsed, for GGUF's tokenizer metadata. */
  source: TokenizerSource;
  /** The text of the end-of-sequence token (the Modelfile's stop). */
  eosToken: string;
}

const GGUF_DTYPE: Record<ExportParams['dtype'], GgufDtype> = { float32: 'f32', float16: 'f16', q8_0: 'q8_0' };

export const GGUF_MODEL_FILE = 'model.gguf';
export const GGUF_ADAPTER_FILE = 'adapter.gguf';
/** What an adapter's Modelfile expects beside it: the base exported as GGUF. */
export const GGUF_BASE_FILE = 'base.gguf';

export async function exportFiles(ctx: ForwardContext, p: ExportParams, source: ExportSource): Promise<ExportedFile[]> {
  const lora = p.ref.kind === 'run' && p.ref.config.method === 'lora' ? p.ref.config.lora : null;
  if (p.kind === 'adapter' && !lora) throw new Error('only a LoRA run has an adapter: export the model instead');
  if (!lora && p.kind === 'merged') throw new Error('only a LoRA run can be merged: export the model instead');
  if (p.format === 'gguf') return ggufFiles(ctx, p, lora, source);
  if (p.dtype === 'q8_0') throw new Error('Q8_0 is a GGUF type: choose GGUF, or float32 or float16 for a Hugging Face folder');
  if (p.kind === 'adapter') return peftAdapterFiles(adapterParams(ctx.params), lora!, p.baseModel);
  // A LoRA run's model folder is always the merged one.
  return runModelFolderFiles(ctx.config, ctx.params, lora, source.files, { dtype: p.dtype });
}

async function ggufFiles(ctx: ForwardContext, p: ExportParams, lora: LoraConfig | null, source: ExportSource): Promise<ExportedFile[]> {
  const name = p.baseModel;
  if (p.kind === 'adapter') {
    const adapters = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const [n, t] of Object.entries(adapterParams(ctx.params))) adapters.set(n, { shape: t.shape, data: (await t.data()) as Float32Array }); // GPU→CPU read
    return [
      { name: GGUF_ADAPTER_FILE, bytes: ggufAdapterFile({ config: ctx.config, adapters, scale: loraScale(lora!), name }) },
      { name: 'Modelfile', bytes: new TextEncoder().encode(ollamaModelfile({ template: p.template ?? null, eosToken: source.eosToken, modelFile: GGUF_BASE_FILE, adapterFile: GGUF_ADAPTER_FILE })) },
    ];
  }
  const data = await runWeights(ctx.config, ctx.params, lora);
  const bytes = await ggufModelFile({ config: ctx.config, data, tokenizer: source.source, dtype: GGUF_DTYPE[p.dtype], name });
  return [
    { name: GGUF_MODEL_FILE, bytes },
    { name: 'Modelfile', bytes: new TextEncoder().encode(ollamaModelfile({ template: p.template ?? null, eosToken: source.eosToken, modelFile: GGUF_MODEL_FILE })) },
  ];
}

/** Checks the adapter against the base, then saves it as the run's last checkpoint (step 0, no optimizer history). */
export async function importAdapterFiles(store: CheckpointStore, runId: string, files: ExportedFile[], base: ModelConfig): Promise<{ lora: LoraConfig; bytes: number }> {
  const { lora, tensors } = parsePeftAdapter(files, base);
  const zeros = Object.fromEntries(Object.entries(tensors).map(([n, t]) => [n, new Float32Array(t.data.length)]));
  const bytes = snapshotToBytes({
    state: { step: 0, tokensSeen: 0, history: { steps: [], evals: [] }, bestEval: null, evalsSinceBest: 0, elapsedMs: 0 },
    trainable: tensors,
    optimizer: { step: 0, m: zeros, v: zeros },
  });
  await store.save(runId, 'last', bytes);
  return { lora, bytes: bytes.byteLength };
}
