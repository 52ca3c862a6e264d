/**
 * The trainer's vocabulary: what a run is configured with, what it reports, what a checkpoint
 * holds. Plain data, so it crosses the worker boundary and goes into storage unchanged.
 */
import type { BlockLinear } from '../model/params';
import type { DpoSettings, PreferenceMetrics } from '../model/preference';

export type { DpoSettings, PreferenceMetrics };

export type TrainMethod = 'full' | 'lora';
/** 'sft': next-token loss on the completions (supervised fine-tuning); 'dpo': preference pairs (model/preference.ts). */
export type TrainObjective = 'sft' | 'dpo';

/** TRL's DPOConfig defaults: β 0.1, no label smoothing. */
export const DEFAULT_DPO: DpoSettings = { beta: 0.1, labelSmoothing: 0 };
export type ScheduleKind = 'constant' | 'linear' | 'cosine';

export interface LoraConfig {
  rank: number;
  alpha: number;
  /** Dropout on the adapter's input, as PEFT's lora_dropout (0 = none). */
  dropout: number;
  /** Which block linears get adapters, by their module names in the block (params.ts blockLinears: 'attention.query_key_value', 'self_attn.q_proj', …). */
  targets: BlockLinear[];
  /** Rank-stabilized LoRA (PEFT's use_rslora): the adapter is scaled by alpha/√rank instead of alpha/rank. Absent: off. */
  rslora?: boolean;
  /** LoRA+ (PEFT's loraplus_lr_ratio): B learns at this many times the learning rate of A. Absent or 1: off. */
  plusRatio?: number;
}

export interface OptimizerConfig {
  lr: number;
  weightDecay: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** Clip the global gradient norm to this; 0 turns clipping off. */
  maxGradNorm: number;
}

export interface ScheduleConfig {
  kind: ScheduleKind;
  warmupSteps: number;
}

export interface TrainConfig {
  method: TrainMethod;
  /**
   * What the run optimises. Absent: 'sft'. 'dpo' trains on the chosen and rejected answers of
   * preference pairs against the reference model, which is the loaded base model itself: with LoRA
   * the adapters switched off, for a full fine-tune the base weights the trainer never changes, so
   * neither needs a second copy.
   */
  objective?: TrainObjective;
  /** DPO's β and label smoothing (objective 'dpo'). Absent: DEFAULT_DPO. */
  dpo?: DpoSettings;
  /** Full fine-tune only: keep gpt_neox.embed_in frozen. */
  freezeEmbeddings: boolean;
  /**
   * Activation checkpointing: keep only each block's input through the forward pass and recompute
   * one block at a time in the backward pass. Far less memory (one layer's activations instead of
   * all of them); its loss also runs in vocabulary blocks and keeps the logits' probabilities when
   * they fit, so on Pythia-70m it does fewer FLOPs, not more, and runs faster on WASM. Absent: the
   * engine decides from the memory estimate (resolveCheckpointing in estimate.ts), on where the run
   * is tight without it.
   */
  activationCheckpointing?: boolean;
  lora: LoraConfig;
  /**
   * Sequence packing: several examples per row of up to max length, attention and positions kept
   * within each (batchPlan.ts). Then batchSize counts rows. Absent: on where it computes
   * PACKING_MIN_GAIN× fewer tokens than the padded buckets, for runs measured in epochs
   * (resolvePacking in batchPlan.ts).
   */
  packing?: boolean;
  /** NEFTune: uniform noise of ±alpha/√(length·hidden) on the token embeddings while training (transformers' neftune_noise_alpha). Absent or 0: off. */
  neftuneAlpha?: number;
  optimizer: OptimizerConfig;
  schedule: ScheduleConfig;
  /** Examples per micro-batch. */
  batchSize: number;
  /** Micro-batches whose gradients are summed into one optimizer step. */
  gradAccum: number;
  epochs: number;
  /** Optimizer steps; 0 means "as many as `epochs` take". */
  maxSteps: number;
  seed: number;
  /** Every N optimizer steps (0 = never). */
  evalEvery: number;
  sampleEvery: number;
  checkpointEvery: number;
  /** Stop when eval loss has not improved for this many evaluations (0 = off). */
  earlyStopPatience: number;
  samplePrompt: string;
  sampleMaxTokens: number;
}

/** One optimizer step's numbers, as the chart and the CLI print them. */
export interface StepMetrics {
  step: number;
  /** Optimizer steps in the whole run. */
  totalSteps: number;
  epoch: number;
  loss: number;
  lr: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  tokens: number;
  tokensPerSecond: number;
  elapsedMs: number;
  etaMs: number | null;
  /** DPO runs: the step's rewards, margin and accuracy (means over its pairs). */
  preference?: PreferenceMetrics;
}

export interface EvalMetrics {
  step: number;
  /** Mean next-token loss on the test split's targets; for DPO, the mean DPO loss of its pairs. */
  loss: number;
  /** exp of the mean next-token loss; for DPO, of the chosen answers under the trained model. */
  perplexity: number;
  /** DPO runs: rewards, margin and accuracy on the test split's pairs. */
  preference?: PreferenceMetrics;
}
