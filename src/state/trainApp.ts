/** The app's training actions: the studio's engine, the Data tab's dataset, runs kept in IndexedDB. */
import { createStore, del, entries, get, set, setMany } from 'idb-keyval';
import type { TrainData } from '../protocol/protocol';
import { actions } from './actions';
import { createTrainActions, type RunStorage } from './createTrainActions';
import { deriveDataset, splitSegments } from './datasetDerived';
import { useDataset } from './datasetStore';
import { useStudio } from './store';
import { selectModelFingerprint, selectModelLabel } from './selectors';
import { modelChoices } from './modelChoices';
import { appTabs } from './tabs';
import { fitLoraTargets } from './trainOptions';
import { useTrain, type RunRecord } from './trainStore';

const runsDb = createStore('neox-studio-runs', 'runs');
const RUN = 'run:';
/**
 * Each run under its own key ("run:<id>"), so two tabs writing different runs never overwrite each
 * other. Older studios kept one "runs" array: it is split into keys the first time it is read.
 */
const runStorage: RunStorage = {
  async load() {
    const legacy = (await get('runs', runsDb)) as RunRecord[] | undefined;
    if (legacy) {
      await setMany(legacy.map((r) => [`${RUN}${r.id}`, r]), runsDb);
      await del('runs', runsDb);
    }
    return ((await entries(runsDb)) as [IDBValidKey, RunRecord][]).filter(([k]) => String(k).startsWith(RUN)).map(([, r]) => r).sort((a, b) => a.createdAt - b.createdAt);
  },
  get: async (id) => ((await get(`${RUN}${id}`, runsDb)) as RunRecord | undefined) ?? null,
  put: (run) => set(`${RUN}${run.id}`, run, runsDb),
  delete: (id) => del(`${RUN}${id}`, runsDb),
  loadDraft: async () => (await get('draft', runsDb)) ?? null,
  saveDraft: (d) => set('draft', d, runsDb),
};

/** The Data tab's examples, rendered and split, as the engine trains on them. */
export function trainingData(): { name: string; data: TrainData; template: RunRecord['template'] } | { problem: string } {
  const { dataset, measure } = useDataset.getState();
  if (!dataset) return { problem: 'Load a dataset in the Data tab first.' };
  const view = deriveDataset(dataset, measure);
  if (view.usable.length === 0) return { problem: 'The dataset has no usable examples: fix the fields or the template in the Data tab.' };
  if (view.split.error) return { problem: view.split.error };
  const pairs = view.rendered.rejected ? { rejected: { train: splitSegments(dataset, view, 'train', 'rejected'), test: splitSegments(dataset, view, 'test', 'rejected') } } : {};
  return {
    name: dataset.name,
    data: { train: splitSegments(dataset, view, 'train'), test: splitSegments(dataset, view, 'test'), tokenize: dataset.tokenize, ...pairs },
    template: { spec: dataset.template, mapping: dataset.mapping },
  };
}

export const trainActions = createTrainActions(useTrain, {
  engine: () => actions.engine(),
  model: () => selectModelLabel(useStudio.getState()),
  fingerprint: () => selectModelFingerprint(useStudio.getState()),
  data: trainingData,
  storage: runStorage,
  tabs: appTabs(),
  // Without it the browser may evict checkpoints under storage pressure; it answers silently (Chromium) or asks once.
  persist: () => void navigator.storage?.persist?.().catch(() => false),
});

// A new model or a restarted engine drops the trained weights with the old model; a model of
// another family gets LoRA targets it has (its family's default when it has none of the old ones).
useStudio.subscribe((s, prev) => {
  if (s.model !== prev.model && s.model.status !== 'ready') trainActions.forgetTrained();
  if (s.model !== prev.model && s.model.status === 'ready') {
    const { lora } = useTrain.getState().draft;
    const targets = fitLoraTargets(s.model.info.config, lora.targets);
    if (targets.join() !== lora.targets.join()) trainActions.setDraft({ lora: { ...lora, targets } });
  }
});
// The playground falls back to the base model when its run is deleted or no longer fits the loaded model.
useTrain.subscribe((s) => {
  const g = useStudio.getState().generateWith;
  if (g.kind !== 'run') return;
  const choices = modelChoices(s.runs, selectModelLabel(useStudio.getState()), s.trainedRunId);
  if (!choices.some((c) => c.ref.kind === 'run' && c.ref.runId === g.runId && c.ref.checkpoint === g.checkpoint)) useStudio.setState({ generateWith: { kind: 'base' } });
});
