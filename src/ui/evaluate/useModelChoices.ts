import { useMemo } from 'react';
import { modelChoices, type ModelChoice } from '../../state/modelChoices';
import { selectModelLabel } from '../../state/selectors';
import { useStudio } from '../../state/store';
import { useTrain } from '../../state/trainStore';

/** The models the loaded base offers right now: the base and its runs with weights. */
export function useModelChoices(): ModelChoice[] {
  const runs = useTrain((s) => s.runs);
  const inMemory = useTrain((s) => s.trainedRunId);
  const model = useStudio(selectModelLabel);
  return useMemo(() => modelChoices(runs, model, inMemory), [runs, model, inMemory]);
}
