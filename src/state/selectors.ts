/**
 * Named selectors. Each returns a value already in the store or a primitive, so
 * components re-render only when what they show changes (zustand compares with Object.is).
 */
import type { BackendInfo, ModelInfo } from '../protocol/protocol';
import { DEFAULT_HUB_ENDPOINT } from './defaults';
import { checkSamplingDraft, type DraftField } from './samplingDraft';
import type { StudioState } from './store';
import { isLive, type TrainState } from './trainStore';
import { checkTrainConfig } from '../train/presets';

export const selectBackendChoice = (s: StudioState) => s.backendChoice;
export const selectBackend = (s: StudioState) => s.backend;
export const selectBackendInfo = (s: StudioState): BackendInfo | null => (s.backend.status === 'ready' ? s.backend.info : null);
export const selectDeviceLost = (s: StudioState) => s.deviceLost;
export const selectHubEndpoint = (s: StudioState) => s.hubEndpoint;
/** The endpoint, only when it is a mirror (the panel names it then). */
export const selectHubMirror = (s: StudioState): string | null => (s.hubEndpoint === DEFAULT_HUB_ENDPOINT ? null : s.hubEndpoint);

export const selectModel = (s: StudioState) => s.model;
export const selectModelInfo = (s: StudioState): ModelInfo | null => (s.model.status === 'ready' ? s.model.info : null);
/** The loaded model's label ("EleutherAI/pythia-70m"), or null while none is ready. */
export const selectModelLabel = (s: StudioState): string | null => (s.model.status === 'ready' ? s.model.info.label : null);
export const selectModelFingerprint = (s: StudioState): string | null => (s.model.status === 'ready' ? s.model.info.fingerprint : null);
export const selectModelForm = (s: StudioState) => s.modelForm;
export const selectLocalPick = (s: StudioState) => s.localPick;
export const selectIsLoading = (s: StudioState) => s.model.status === 'loading';

export const selectPrompt = (s: StudioState) => s.prompt;
export const selectSampling = (s: StudioState) => s.sampling;
export const selectUseCache = (s: StudioState) => s.useCache;
/** Whether the playground sends its prompt as a chat turn: asked for, and the loaded model has a chat template. */
export const selectChatMode = (s: StudioState): boolean => s.chat && s.model.status === 'ready' && s.model.info.chatTemplate;
export const selectRun = (s: StudioState) => s.run;
export const selectIsGenerating = (s: StudioState) => s.run.status === 'running';

/** One field's validation message, or null. */
export const selectSamplingError =
  (field: DraftField) =>
  (s: StudioState): string | null => {
    const r = checkSamplingDraft(s.sampling);
    return r.ok ? null : (r.errors[field] ?? null);
  };

/** Why the engine cannot take work now, or null when it can. */
export function selectEngineBlocker(s: StudioState): string | null {
  if (s.deviceLost !== null) return 'The GPU device was lost: restart on WASM (banner above).';
  if (s.backend.status === 'starting') return 'The compute backend is still starting.';
  if (s.backend.status === 'failed') return 'The compute backend failed to start: pick another backend in the header.';
  return null;
}

/** Why no model can be loaded now, or null. Shown as the load buttons' tooltip. */
export function selectLoadBlocker(s: StudioState): string | null {
  return (
    selectEngineBlocker(s) ??
    (s.model.status === 'loading' ? 'A model is loading: wait, or cancel it.' : null) ??
    (s.run.status === 'running' ? 'Text is being generated: stop it first.' : null)
  );
}

/** Why Generate is disabled, or null. */
export function selectGenerateBlocker(s: StudioState): string | null {
  const engine = selectEngineBlocker(s);
  if (engine) return engine;
  if (s.model.status === 'loading') return 'The model is still loading.';
  if (s.model.status !== 'ready') return 'Load a model first (left panel).';
  if (s.run.status === 'running') return 'Already generating: press Stop to end it.';
  if (s.prompt.length === 0) return 'Type a prompt first.';
  const draft = checkSamplingDraft(s.sampling);
  if (!draft.ok) return `Fix the settings: ${Object.values(draft.errors)[0]}`;
  return null;
}

/** Runs another tab of the studio owns. */
export const selectElsewhere = (s: TrainState) => s.elsewhere;
/** Why runs are not being saved in this browser, or null. */
export const selectRunStorageProblem = (s: TrainState) => s.storageProblem;

/** The "Models in this browser" list's state. */
export const selectCachedModels = (s: StudioState) => s.cachedModels;
/** The training watchdog's finding: the live run has been quiet too long, or null. */
export const selectStalled = (s: TrainState) => s.stalled;
/** Whether Start ignores a "won't fit" estimate. */
export const selectTryAnyway = (s: TrainState) => s.tryAnyway;
/** The LoRA target list's error in the draft, or null (checked per draft, so the panel does no work). */
export const selectLoraTargetsError = (s: TrainState): string | null => checkTrainConfig(s.draft).loraTargets ?? null;
/** Whether any run is live (running, pausing or stopping), in this tab or another. */
export const selectAnyLive = (s: TrainState): boolean => s.runs.some((r) => isLive(r.status));
/** Examples in one optimizer step: batch size × gradient accumulation. */
export const selectExamplesPerStep = (s: TrainState): number => s.draft.batchSize * s.draft.gradAccum;
