/** The app's dataset actions: the data worker, IndexedDB, the bundled sample and a download link. */
import { createDataClient } from '../client/dataClient';
import { createDatasetActions } from './createDatasetActions';
import { indexedDbStorage } from './datasetStorage';
import { useDataset } from './datasetStore';

export const datasetActions = createDatasetActions(useDataset, {
  data: createDataClient(),
  storage: indexedDbStorage(),
  loadSample: async () => {
    const res = await fetch(`${import.meta.env.BASE_URL}datasets/studio-help.jsonl`);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return res.text();
  },
  download: (name, text) => {
    const url = URL.createObjectURL(new Blob([text], { type: 'application/jsonl' }));
    const a = Object.assign(document.createElement('a'), { href: url, download: name });
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  },
});

// A closed tab must not lose the last edit: save on hide, when the page may not come back.
addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'hidden') void datasetActions.flush();
});
