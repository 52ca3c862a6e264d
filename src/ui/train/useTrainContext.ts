/** What a run needs from the rest of the page (engine, model, dataset), kept current as they change. */
import { useMemo } from 'react';
import { DEFAULT_TOKENIZE } from '../../data/defaults';
import { actions, selectAnyLive, selectBackend, selectElsewhere, selectModelFingerprint, selectModelLabel, startBlocker, trainingData, useDataset, useStudio, useTrain } from '../../state';
import { selectDraftBlocker, useDraftErrors } from './draftErrors';
import type { TrainContext } from './runView';

/** Whether the Data tab's data can train, and whether they are preference pairs (what DPO needs). */
function useDataCheck(): { problem: string | null; pairs: boolean } {
  const dataset = useDataset((s) => s.dataset);
  // Rendering and splitting every row is not free: once per dataset change, not per training step.
  return useMemo(() => {
    if (!dataset) return { problem: 'Load a dataset in the Data tab first.', pairs: false };
    const d = trainingData();
    return 'problem' in d ? { problem: d.problem, pairs: false } : { problem: null, pairs: d.data.rejected !== undefined };
  }, [dataset]);
}

export function useTrainContext(): TrainContext {
  useStudio(selectBackend); // the engine is (re)started with the backend: re-read it then
  const model = useStudio(selectModelLabel);
  const dataProblem = useDataCheck().problem;
  const anyLive = useTrain(selectAnyLive);
  const elsewhere = useTrain(selectElsewhere);
  const fingerprint = useStudio(selectModelFingerprint);
  return { engineReady: actions.engine() !== null, model, dataProblem, anyLive, elsewhere, fingerprint };
}

/** Why Start is disabled now, or null: the state layer's own check over the context above, then half-typed fields. */
export function useStartBlocker(): string | null {
  const ctx = useTrainContext();
  const { pairs } = useDataCheck();
  const typed = useDraftErrors(selectDraftBlocker);
  const blocker = useTrain((s) =>
    startBlocker(s, {
      engine: () => (ctx.engineReady ? actions.engine() : null),
      model: () => ctx.model,
      // startBlocker only asks whether the data can train and whether they are pairs; the rows are read when Start is pressed.
      data: () => (ctx.dataProblem ? { problem: ctx.dataProblem } : { name: '', data: { train: [], test: [], tokenize: DEFAULT_TOKENIZE, ...(pairs ? { rejected: { train: [], test: [] } } : {}) } }),
    }),
  );
  // The state's reasons first (no model, no data…), then text typed into a field that is not valid yet.
  return blocker ?? typed;
}
