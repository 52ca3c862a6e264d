/**
 * Runs in and out of the engine as Hugging Face files: a model folder (the run's weights, or LoRA
 * merged into the base) or a PEFT adapter; and a PEFT adapter trained elsewhere, stored as a run's
 * checkpoint so every place that takes a run (playground, compare, evaluate, export) takes it too.
 */
import type { ModelConfig } from '../model/config';
import type { ForwardContext } from '../model/forward';
import type { ExportedFile, ExportParams } from '../protocol/protocol';
import type { CheckpointStore } from '../train/checkpointStore';
import { adapterParams, peftAdapterFiles, runModelFolderFiles } from '../train/exportModel';
import { parsePeftAdapter } from '../train/importAdapter';
import { snapshotToBytes } from '../train/snapshotBytes';
import type { LoraConfig } from '../train/types';

export async function exportFiles(ctx: ForwardContext, p: ExportParams, tokenizerFiles: ExportedFile[]): Promise<ExportedFile[]> {
  const lora = p.ref.kind === 'run' && p.ref.config.method === 'lora' ? p.ref.config.lora : null;
  if (p.kind === 'adapter') {
    if (!lora) throw new Error('only a LoRA run has an adapter: export the model instead');
    return peftAdapterFiles(adapterParams(ctx.params), lora, p.baseModel);
  }
  if (!lora && p.kind === 'merged') throw new Error('only a LoRA run can be merged: export the model instead');
  // A LoRA run's model folder is always the merged one.
  return runModelFolderFiles(ctx.config, ctx.params, lora, tokenizerFiles, { dtype: p.dtype });
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
