/**
 * The models a person can pick wherever outputs are compared (playground, side by side, batch
 * evaluation, arena, ARC): the loaded base model and every run of it whose weights can be had.
 */
import type { ModelRef } from '../protocol/protocol';
import { isLive, type RunRecord } from './trainStore';

export interface ModelChoice {
  /** Stable key: 'base', a run id, or `${runId}:best`. */
  id: string;
  label: string;
  ref: ModelRef;
}

export const BASE_CHOICE_ID = 'base';

const methodLabel = (r: RunRecord) => (r.config.method === 'lora' ? `LoRA r${r.config.lora.rank}` : 'full');

/**
 * A run is offered when it trained the loaded model, is not training now (requests would queue
 * behind it), and has weights: in the engine's memory or in a checkpoint. Its best checkpoint is a
 * separate choice when it differs from the last one.
 */
export function modelChoices(runs: readonly RunRecord[], model: string | null, inMemoryRunId: string | null): ModelChoice[] {
  if (!model) return [];
  const out: ModelChoice[] = [{ id: BASE_CHOICE_ID, label: `Base (${model})`, ref: { kind: 'base' } }];
  for (const r of runs) {
    if (r.model !== model || isLive(r.status)) continue;
    if (!r.lastCheckpoint && r.id !== inMemoryRunId) continue;
    const step = r.id === inMemoryRunId ? (r.steps.at(-1)?.step ?? 0) : r.lastCheckpoint!.step;
    out.push({ id: r.id, label: `${r.name} (${methodLabel(r)}, step ${step})`, ref: { kind: 'run', runId: r.id, checkpoint: 'last', config: r.config } });
    if (r.bestEval && r.bestEval.step !== step) {
      out.push({
        id: `${r.id}:best`,
        label: `${r.name} best (step ${r.bestEval.step}, eval loss ${r.bestEval.loss.toFixed(3)})`,
        ref: { kind: 'run', runId: r.id, checkpoint: 'best', config: r.config },
      });
    }
  }
  return out;
}

/** The choice with this id, or undefined when it is gone (run deleted, other model loaded). */
export const findChoice = (choices: readonly ModelChoice[], id: string): ModelChoice | undefined => choices.find((c) => c.id === id);
