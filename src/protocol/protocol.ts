/**
 * The one contract between the page and the compute worker.
 *
 * A request's `kind` fixes its params and result types on both sides; requests are
 * correlated by id; progress and tokens travel as events tagged with the request id;
 * failures come back as their own message. Bump PROTOCOL_VERSION on any change.
 */
import type { CachedModel } from '../hub/cachedModels';
import type { GenerateResult, TextGeneration } from '../eval/generateText';
import type { ModelConfig } from '../model/config';
import type { TinyModelSpec } from '../model/tinyConfig';
import type { Segment, TemplateSpec, TokenizeSettings } from '../data/types';
import type { MemoryEstimate } from '../train/estimate';
import type { RunEnd } from '../train/run';
import type { EvalMetrics, LoraConfig, StepMetrics, TrainConfig } from '../train/types';
import type { ArcDoc, ArcResult } from '../eval/arc';
import type { EvalExample, EvalOutput, EvalSampling } from '../eval/evalTypes';
import type { RpcFromWorker, RpcToWorker } from './rpc';

export { CancelledError } from './rpc';

export const PROTOCOL_VERSION = 3;

export type BackendName = 'webgpu' | 'wasm' | 'cpu';
export type BackendChoice = BackendName | 'auto';

export interface BackendInfo {
  name: BackendName;
  /** Why this backend runs, in words (e.g. "WebGPU unavailable: navigator.gpu is missing"). */
  reason: string;
  adapter: { vendor: string; architecture: string; description: string } | null;
  limits: { maxBufferSize: number; maxStorageBufferBindingSize: number } | null;
  wasmThreads: number | null;
  crossOriginIsolated: boolean;
}

export type { TinyModelSpec };

export type ModelSource =
  | { kind: 'hub'; repo: string; revision?: string; endpoint?: string }
  | { kind: 'files'; files: { name: string; data: ArrayBuffer }[] }
  | { kind: 'random'; spec: TinyModelSpec };

export interface ModelInfo {
  label: string;
  source: ModelSource['kind'];
  config: ModelConfig;
  paramCount: number;
  /** Bytes the weights take on the device (float32). */
  deviceBytes: number;
  /** Bytes downloaded or read from files (0 for a random model). */
  fileBytes: number;
  tokenizer: 'model' | 'bundled';
  /** The tokenizer has a chat template (instruct models): the playground can send prompts as a chat turn. */
  chatTemplate: boolean;
  fromCache: boolean;
  /** What loaded but deserves a look (NaN or infinite weights), one line each. */
  warnings: string[];
  /** SHA-256 of the config and the weight files (model/fingerprint.ts): a run resumes only on the base it trained. */
  fingerprint: string;
}

export interface GenerateParams extends TextGeneration {
  /** Which weights answer (the base when absent). */
  model?: ModelRef;
  /** Send the prompt as one user turn in the model's chat template, ending where the assistant's reply starts. */
  chat?: boolean;
}

export type { GenerateResult };

/**
 * Which weights answer a request: the loaded base model, or a training run on it (its last or best
 * checkpoint). A run's weights come from the engine's memory when it is the run training there,
 * else from its checkpoint; `config` says how to apply them (full weights or LoRA adapters).
 */
export type ModelRef = { kind: 'base' } | { kind: 'run'; runId: string; checkpoint: 'last' | 'best'; config: TrainConfig };

export interface EvaluateParams {
  examples: EvalExample[];
  models: ModelRef[];
  sampling: EvalSampling;
  /** How targets are tokenized for their loss: the run's settings, so the loss matches training's eval loss. */
  tokenize: TokenizeSettings;
}

/** What a run can be exported as: its own weights as a model folder, LoRA merged into the base, or the PEFT adapter. */
export type ExportKind = 'model' | 'merged' | 'adapter';

/** Hugging Face files (a model folder or PEFT adapter), or llama.cpp's GGUF (a model, or a LoRA adapter for --lora) with an Ollama Modelfile. */
export type ModelFormat = 'hf' | 'gguf';

/** How exported weights are stored: float32, float16, or (GGUF only) llama.cpp's 8-bit Q8_0. */
export type ExportDtype = 'float32' | 'float16' | 'q8_0';

export interface ExportParams {
  ref: ModelRef;
  kind: ExportKind;
  format: ModelFormat;
  dtype: ExportDtype;
  /** How the run's prompts were rendered, for the GGUF's Ollama Modelfile (null: the base, prompted as typed). */
  template?: TemplateSpec | null;
  /** The base model's Hub id (or label), written into adapter_config.json and the model card. */
  baseModel: string;
}

export interface ExportedFile {
  name: string;
  bytes: Uint8Array;
}

export interface ArcParams {
  docs: ArcDoc[];
  models: ModelRef[];
}

/** What a run trains on: the Data tab's rendered examples, tokenized in the worker with the model's tokenizer. */
export interface TrainData {
  train: Segment[][];
  test: Segment[][];
  tokenize: TokenizeSettings;
  /** Preference pairs: the rejected answer of each train and test example (train and test then hold the chosen ones). */
  rejected?: { train: Segment[][]; test: Segment[][] };
}

export interface TrainParams {
  runId: string;
  config: TrainConfig;
  data: TrainData;
  /** Continue the run: from memory if it was paused in this worker, else from its last checkpoint. */
  resume: boolean;
}

export interface TrainResult {
  runId: string;
  reason: RunEnd;
  step: number;
  totalSteps: number;
  /** The last checkpoint could not be written (a full quota…); training itself went on. */
  checkpointError: string | null;
}

export interface TrainEstimate {
  memory: MemoryEstimate;
  trainableParams: number;
  /** Forward + backward FLOPs of one optimizer step at the planned batch size and length. */
  flopsPerStep: number;
  /** Optimizer steps the config will run on this data. */
  totalSteps: number;
  /** Activation checkpointing was left to the engine and it turned it on (the run is tight without it); `memory` counts it on. */
  autoCheckpointing: boolean;
}

/** A tokenizer as a repo ships it: tokenizer.json and, when there is one, tokenizer_config.json (parsed). */
export interface TokenizerSource {
  tokenizerJson: unknown;
  tokenizerConfig: unknown | null;
}

/** A type alias, not an interface, so it satisfies RequestMap's index signature. */
export type Requests = {
  init: { params: { backend: BackendChoice }; result: BackendInfo };
  loadModel: { params: { source: ModelSource }; result: ModelInfo };
  /** The model the engine holds now: after a refused or cancelled load, still the one before it (checks run before it is freed). */
  loadedModel: { params: Record<string, never>; result: ModelInfo | null };
  /** The loaded model's own tokenizer files (null: it uses the bundled Pythia tokenizer), for the data worker to tokenize as training will. */
  modelTokenizer: { params: Record<string, never>; result: TokenizerSource | null };
  generate: { params: GenerateParams; result: GenerateResult };
  train: { params: TrainParams; result: TrainResult };
  /** Answered at once, even while `train` runs: the run pauses or stops at its next step boundary. */
  controlTraining: { params: { runId: string; action: 'pause' | 'stop' }; result: { accepted: boolean } };
  estimateTraining: { params: { config: TrainConfig; trainExamples: number; seqLen: number }; result: TrainEstimate };
  /** Forget a run's checkpoints (and its weights, if it is the trained model in memory). */
  deleteRun: { params: { runId: string }; result: null };
  /** Generate for every example with every model (model by model), with the loss of each target. */
  evaluate: { params: EvaluateParams; result: { outputs: EvalOutput[][] } };
  /** A run's weights as files the Hugging Face ecosystem loads. */
  exportRun: { params: ExportParams; result: { files: ExportedFile[] } };
  /** A PEFT adapter trained elsewhere, checked against the loaded base and stored as the run's checkpoint. */
  importAdapter: { params: { runId: string; files: ExportedFile[] }; result: { lora: LoraConfig; bytes: number } };
  /** ARC multiple choice by log-likelihood, one result per model. */
  arc: { params: ArcParams; result: { results: Omit<ArcResult, 'perDoc'>[] } };
  /** The models kept in this browser's Hub cache, with their sizes (they share the storage quota with checkpoints). */
  listCachedModels: { params: Record<string, never>; result: { models: CachedModel[]; usage: StorageUsage | null } };
  /** Removes one cached model (CachedModel.key) from the browser. */
  deleteCachedModel: { params: { key: string }; result: null };
};

/** navigator.storage.estimate(): what this origin uses of what it may use. */
export interface StorageUsage {
  usage: number;
  quota: number;
}

export type { CachedModel };
export type RequestKind = keyof Requests;
export type ParamsOf<K extends RequestKind> = Requests[K]['params'];
export type ResultOf<K extends RequestKind> = Requests[K]['result'];

export interface ProgressEvent {
  type: 'progress';
  requestId: number;
  stage: 'download' | 'read' | 'upload';
  file: string | null;
  loaded: number;
  total: number | null;
}

export interface TokenEvent {
  type: 'token';
  requestId: number;
  /** Text added since the previous event (decoded incrementally, so multi-byte characters arrive whole). */
  delta: string;
  tokenCount: number;
}

export interface DeviceLostEvent {
  type: 'deviceLost';
  message: string;
}

export type TrainEvent =
  | { type: 'trainStep'; requestId: number; runId: string; metrics: StepMetrics }
  | { type: 'trainEval'; requestId: number; runId: string; metrics: EvalMetrics; best: boolean }
  | { type: 'trainSample'; requestId: number; runId: string; step: number; prompt: string; text: string }
  | { type: 'trainCheckpoint'; requestId: number; runId: string; step: number; kind: 'last' | 'best'; bytes: number; error: string | null };

/** Progress of `evaluate` (one event per finished example) and `arc` (per scored doc). */
export type EvalEvent =
  | { type: 'evalRow'; requestId: number; model: number; index: number; output: EvalOutput }
  | { type: 'arcProgress'; requestId: number; model: number; done: number; total: number };

export type EngineEvent = ProgressEvent | TokenEvent | DeviceLostEvent | TrainEvent | EvalEvent;

export type ToWorker = RpcToWorker<Requests>;
export type FromWorker = RpcFromWorker<Requests, EngineEvent>;

/** Per-request callbacks a caller can pass. */
export interface RequestHooks {
  onProgress?: (e: ProgressEvent) => void;
  onToken?: (e: TokenEvent) => void;
  onTrain?: (e: TrainEvent) => void;
  onEval?: (e: EvalEvent) => void;
  signal?: AbortSignal;
}

/** What the UI talks to; a worker client and an in-process engine implement it (web-llm's MLCEngineInterface). */
export interface EngineApi {
  request<K extends RequestKind>(kind: K, params: ParamsOf<K>, hooks?: RequestHooks): Promise<ResultOf<K>>;
  /** Events not tied to a request (a lost GPU device). Returns an unsubscribe function. */
  onEvent(listener: (e: EngineEvent) => void): () => void;
  terminate(): void;
}

