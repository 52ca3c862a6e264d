/** How many examples make a step, how they are laid out in a batch, and how many steps make the run. */
import { selectExamplesPerStep, trainActions, useTrain } from '../../state';
import { formatInt, plural } from '../format';
import { NumberGrid } from './NumberField';
import type { EstimateInputs } from './useEstimateSync';

export function BatchSettings({ packing }: { packing: EstimateInputs['packing'] }) {
  const perStep = useTrain(selectExamplesPerStep);
  const dpo = useTrain((s) => s.draft.objective === 'dpo');
  const on = packing?.on ?? false;
  return (
    <fieldset className="source" data-testid="train-batch">
      <legend>Batch &amp; duration</legend>
      <NumberGrid fields={['batchSize', 'gradAccum', 'epochs', 'maxSteps', 'seed']} />
      {Number.isFinite(perStep) && perStep > 0 && (
        <p className="hint" data-testid="train-per-step">
          {on
            ? `Each optimizer step learns from ${plural(perStep, 'packed row')} of up to the max length (effective batch ${formatInt(perStep)} rows).`
            : `Each optimizer step learns from ${plural(perStep, dpo ? 'preference pair' : 'example')} (effective batch ${formatInt(perStep)}).`}
        </p>
      )}
      {packing && <PackingToggle packing={packing} />}
    </fieldset>
  );
}

/** Sequence packing: short examples share a row, each still seeing only itself. */
function PackingToggle({ packing }: { packing: EstimateInputs['packing'] }) {
  const asked = useTrain((s) => s.draft.packing);
  const gain = packing ? packing.plan.gain : null;
  return (
    <label className="checkbox">
      <input type="checkbox" data-testid="train-packing" checked={packing?.on ?? asked ?? false} onChange={(e) => trainActions.setDraft({ packing: e.target.checked })} />
      <span>
        Pack examples into rows{' '}
        {packing?.auto && packing.on && (
          <small className="badge" data-testid="train-packing-auto">
            on by itself
          </small>
        )}{' '}
        <small className="hint" data-testid="train-packing-hint">
          puts several short examples in each row of up to the max length, each attending only to itself with its own positions: the same loss per example, far less padding. Left alone, it turns on for runs measured in epochs (max steps 0), which then end sooner; with max steps set, each step would learn from several examples per row and take longer.
          {gain !== null && ` On this split: ${gain >= 1.05 ? `${formatGain(gain)} fewer tokens computed per epoch` : 'hardly fewer tokens computed'} (${formatInt(packing!.plan.examples)} examples in ${formatInt(packing!.plan.packedRows)} rows). The batch size then counts rows.`}
        </small>
      </span>
    </label>
  );
}

const formatGain = (g: number): string => `${g.toFixed(g < 10 ? 1 : 0)}×`;
