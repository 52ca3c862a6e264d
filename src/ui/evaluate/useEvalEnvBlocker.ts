import { actions, compareBlocker, selectAnyLive, useEval, useStudio, useTrain } from '../../state';
import { useModelChoices } from './useModelChoices';

/** Why comparing cannot start now (no engine, no model, too few models chosen, a run training), or null. */
export function useEvalEnvBlocker(need: number): string | null {
  const choices = useModelChoices();
  const selected = useEval((s) => s.selected);
  const ready = useStudio((s) => s.backend.status === 'ready');
  const training = useTrain(selectAnyLive);
  if (training) return 'A run is training: the engine answers once it pauses or ends.';
  return compareBlocker({ selected }, { engine: () => (ready ? actions.engine() : null), choices: () => choices }, need);
}
