/** What the UI uses from state: the store hook, its selectors, the actions and the few pure helpers it shows. */
export { actions } from './actions';
export * from './selectors';
export { useStudio, type BackendState, type LoadProgress, type ModelState, type RunState, type RunStats } from './store';
export { HUB_PRESETS, RANDOM_PRESETS, approxParamCount, findHubPreset, isRandomPresetName, type HubPreset, type RandomPresetName } from './presets';
export { BACKEND_CHOICES, isBackendChoice, parseStartOptions } from './urlOptions';
export type { LocalFileInput } from './createActions';
export type { DraftField } from './samplingDraft';
export { DEFAULT_HUB_ENDPOINT } from './defaults';
export { datasetActions } from './datasetApp';
export { useDataset, type Dataset, type DataRow, type ImportState, type RowFilter } from './datasetStore';
export { useDerivedDataset, type DatasetView } from './datasetHooks';
export { selectRowIndex, selectRowProblems, selectVisibleRows, type DerivedDataset } from './datasetDerived';
export { SAMPLE_NAME } from './createDatasetActions';
export { trainActions, trainingData } from './trainApp';
export { useTrain, isLive, canResume, resumeBlocker, type RunRecord, type RunStatus, type EstimateState, type TrainContext } from './trainStore';
export { startBlocker } from './createTrainActions';
