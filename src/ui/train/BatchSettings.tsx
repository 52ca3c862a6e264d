/** How many examples make a step, and how many steps make the run. */
import { selectExamplesPerStep, useTrain } from '../../state';
import { formatInt, plural } from '../format';
import { NumberGrid } from './NumberField';

export function BatchSettings() {
  const perStep = useTrain(selectExamplesPerStep);
  return (
    <fieldset className="source" data-testid="train-batch">
      <legend>Batch &amp; duration</legend>
      <NumberGrid fields={['batchSize', 'gradAccum', 'epochs', 'maxSteps', 'seed']} />
      {Number.isFinite(perStep) && perStep > 0 && (
        <p className="hint" data-testid="train-per-step">
          Each optimizer step learns from {plural(perStep, 'example')} (effective batch {formatInt(perStep)}).
        </p>
      )}
    </fieldset>
  );
}
