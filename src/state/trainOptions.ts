/**
 * What the Train tab's panels need from the training and model layers, passed through state so
 * that ui/ never imports train/ or model/ (see the layer rule in eslint.config.js). Free of side
 * effects, unlike the state index (which starts the app's workers), so pure ui modules and their
 * tests import it directly.
 */
export { checkTrainConfig, DEFAULT_TRAIN, TRAIN_PRESETS } from '../train/presets';
export { fitLoraTargets, linearNames, type BlockLinear } from '../model/params';
export { FAMILY_NAMES } from '../model/config';
export type { EvalMetrics, PreferenceMetrics, ScheduleKind, StepMetrics, TrainConfig, TrainMethod, TrainObjective } from '../train/types';
export { DEFAULT_DPO } from '../train/types';
export { estimateSeqLen } from '../train/estimate';
export { planPacking, resolvePacking, type PackingPlan } from '../train/batchPlan';
