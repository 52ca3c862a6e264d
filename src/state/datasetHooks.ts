import { deriveDataset } from './datasetDerived';
import { useDataset } from './datasetStore';

/** The dataset with everything derived from it (memoised), or null before one is loaded. */
export function useDerivedDataset() {
  const dataset = useDataset((s) => s.dataset);
  const measure = useDataset((s) => s.measure);
  return dataset ? { dataset, ...deriveDataset(dataset, measure) } : null;
}

/** A dataset and its derived views, as the data panels receive it. */
export type DatasetView = NonNullable<ReturnType<typeof useDerivedDataset>>;
