/** The app's dataset actions: the data worker, IndexedDB, the bundled sample and a download link. */
import { createDataClient } from '../client/dataClient';
import { actions } from './actions';
import { useStudio } from './store';
import { downloadText } from './download';
import { createDatasetActions } from './createDatasetActions';
import { indexedDbStorage } from './datasetStorage';
import { appTabs } from './tabs';
import { useDataset } from './datasetStore';

/** The one data worker: parsing, tokenizing, and (for evaluation) sentence embeddings. */
export const dataClient = createDataClient();

export const datasetActions = createDatasetActions(useDataset, {
  data: dataClient,
  storage: indexedDbStorage(),
  tabs: appTabs(),
  loadSample: async () => {
    const res = await fetch(`${import.meta.env.BASE_URL}datasets/studio-help.jsonl`);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return res.text();
  },
  download: (name, text) => downloadText(name, text, 'application/jsonl'),
});

// The Data tab tokenizes with the loaded model's tokenizer, so it shows what training will use.
useStudio.subscribe((s, prev) => {
  if (s.model === prev.model || s.model.status !== 'ready') return;
  const model = s.model;
  void actions
    .engine()
    ?.request('modelTokenizer', {})
    .then((source) => (useStudio.getState().model === model ? datasetActions.useTokenizer(source) : undefined))
    .catch(() => {}); // an engine that went away: its model is gone too, and the next load asks again
});

// A closed tab must not lose the last edit: save on hide, when the page may not come back.
addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'hidden') void datasetActions.flush();
});
