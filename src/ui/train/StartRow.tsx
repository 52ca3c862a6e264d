/** The Start button and, when it is disabled, why. */
import { trainActions } from '../../state';
import { ActionButton } from '../parts/ActionButton';
import { useStartBlocker } from './useTrainContext';

export function StartRow() {
  const blocker = useStartBlocker();
  return (
    <div className="row actions train-start-row">
      <ActionButton blocker={blocker} variant="primary" data-testid="train-start" onClick={() => void trainActions.start()}>
        Start training
      </ActionButton>
      {blocker && (
        <small className="hint" data-testid="train-start-blocked">
          {blocker}
        </small>
      )}
    </div>
  );
}
