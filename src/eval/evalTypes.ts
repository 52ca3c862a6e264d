/** What batch evaluation exchanges between page, worker and CLI (types only, no tensors). */
import type { StopReason } from '../model/generate';
import type { TextGeneration } from './generateText';

export interface EvalExample {
  id: string;
  prompt: string;
  target: string;
}

/** Sampling for every example; greedy (temperature 0) is the default for evaluation. */
export type EvalSampling = Omit<TextGeneration, 'prompt' | 'useCache'>;

/** Greedy, so two models (or two runs) are compared on their most likely answer, not on luck. */
export const DEFAULT_EVAL_SAMPLING: EvalSampling = {
  maxNewTokens: 128,
  temperature: 0,
  topK: 0,
  topP: 1,
  repetitionPenalty: 1,
  seed: 0,
  stopStrings: [],
};

export interface EvalOutput {
  text: string;
  reason: StopReason;
  newTokens: number;
  /** Generation time only (the target loss is not counted), so tokens/s means decoding speed. */
  ms: number;
  /**
   * Mean next-token loss (nats) over the target's trained tokens (EOS included when the settings
   * add it) given the prompt; null when the target has no trained token (truncated away).
   * With lossOn 'all' the prompt's tokens count too, exactly as in training.
   */
  targetLoss: number | null;
  targetTokens: number;
}

