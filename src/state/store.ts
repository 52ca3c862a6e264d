/**
 * The studio store: backend, model, playground (the dataset, training and evaluation have their
 * own: datasetStore, trainStore, evalStore). Each slice is a tagged union, so "loading with a result" or
 * "ready with an error" cannot be represented; everything else (what is enabled,
 * why not, the GenerateParams) is derived in selectors.ts.
 */
import { create } from 'zustand';
import type { BackendChoice, BackendInfo, CachedModel, GenerateResult, ModelInfo, ModelRef, ProgressEvent, StorageUsage } from '../protocol/protocol';
import { DEFAULT_BACKEND, DEFAULT_HUB_ENDPOINT, DEFAULT_PROMPT, DEFAULT_REVISION, DEFAULT_SAMPLING, DEFAULT_USE_CACHE } from './defaults';
import type { LocalPick } from './localFiles';
import { HUB_PRESETS, type RandomPresetName } from './presets';
import type { SamplingDraft } from './samplingDraft';

export type BackendState =
  | { status: 'starting' }
  | { status: 'ready'; info: BackendInfo }
  | { status: 'failed'; message: string };

export type LoadProgress = Pick<ProgressEvent, 'stage' | 'file' | 'loaded' | 'total'>;

export type ModelState =
  /** `note` says why nothing is loaded when that is news (a cancelled load, a backend switch). */
  | { status: 'none'; note: string | null }
  | { status: 'loading'; label: string; progress: LoadProgress | null }
  /** `refused`: a newer load failed or was cancelled, and this model (loaded before it) is still the one in use. */
  | { status: 'ready'; info: ModelInfo; refused?: string }
  | { status: 'failed'; message: string };

export interface RunStats {
  tokens: number;
  tokensPerSecond: number;
  reason: GenerateResult['reason'];
}

export type RunState =
  | { status: 'idle' }
  | { status: 'running'; prompt: string; text: string; tokens: number; startedAt: number; lastTokenAt: number }
  | { status: 'done'; prompt: string; text: string; stats: RunStats }
  | { status: 'failed'; prompt: string; text: string; message: string };

/** What the model panel's inputs hold; read when a load button is pressed. */
export interface ModelForm {
  preset: string;
  repo: string;
  revision: string;
  randomPreset: RandomPresetName;
  randomSeed: string;
}

export interface StudioState {
  backendChoice: BackendChoice;
  hubEndpoint: string;
  backend: BackendState;
  /** The GPU device's loss message; nothing runs on this engine until it is re-created. */
  deviceLost: string | null;
  model: ModelState;
  /** What the last local-files pick sends and ignores, shown beside the drop zone. */
  localPick: LocalPick | null;
  modelForm: ModelForm;
  prompt: string;
  sampling: SamplingDraft;
  useCache: boolean;
  /** Send the prompt as a chat turn in the model's chat template (only where the model has one). */
  chat: boolean;
  /** Which weights the playground runs: the loaded model, or a training run's (see modelChoices). */
  generateWith: ModelRef;
  run: RunState;
  /** The models kept in this browser's Hub cache ("Models in this browser"). */
  cachedModels: CachedModelsState;
}

export type CachedModelsState =
  | { status: 'idle' }
  | { status: 'loading' }
  | { status: 'ready'; models: CachedModel[]; usage: StorageUsage | null }
  | { status: 'failed'; message: string };

export const initialState = (): StudioState => ({
  backendChoice: DEFAULT_BACKEND,
  hubEndpoint: DEFAULT_HUB_ENDPOINT,
  backend: { status: 'starting' },
  deviceLost: null,
  model: { status: 'none', note: null },
  localPick: null,
  modelForm: { preset: HUB_PRESETS[0].repo, repo: '', revision: DEFAULT_REVISION, randomPreset: 'tiny', randomSeed: '0' },
  prompt: DEFAULT_PROMPT,
  sampling: { ...DEFAULT_SAMPLING },
  useCache: DEFAULT_USE_CACHE,
  chat: true,
  generateWith: { kind: 'base' },
  run: { status: 'idle' },
  cachedModels: { status: 'idle' },
});

export const useStudio = create<StudioState>()(initialState);
