/** What a run optimises: supervised fine-tuning on the answers, or DPO on preference pairs. */
import { trainActions, useDataset, useTrain } from '../../state';
import type { TrainObjective } from '../../state/trainOptions';
import { NumberGrid } from './NumberField';

const OBJECTIVES: { id: TrainObjective; label: string; hint: string }[] = [
  { id: 'sft', label: 'Supervised (SFT)', hint: 'learns to write the answers: the next-token loss on each example’s answer.' },
  { id: 'dpo', label: 'Preference (DPO)', hint: 'learns to prefer the chosen answer of each pair over the rejected one, staying near the base model.' },
];

export function ObjectiveSettings() {
  const objective = useTrain((s) => s.draft.objective ?? 'sft');
  const pairs = useDataset((s) => s.dataset?.mapping?.kind === 'preference');
  return (
    <fieldset className="source" data-testid="train-objective">
      <legend>Objective</legend>
      <div className="method-options" role="radiogroup" aria-label="Objective">
        {OBJECTIVES.map((o) => (
          <label key={o.id} className="checkbox">
            <input type="radio" name="train-objective" value={o.id} data-testid={`train-objective-${o.id}`} checked={objective === o.id} onChange={() => trainActions.setDraft({ objective: o.id })} />
            <span>
              {o.label} <small className="hint">{o.hint}</small>
            </span>
          </label>
        ))}
      </div>
      {objective === 'dpo' && <NumberGrid fields={['dpoBeta', 'dpoLabelSmoothing']} />}
      {objective === 'dpo' && !pairs && (
        <p className="note" data-testid="train-dpo-no-pairs">
          DPO needs preference pairs: load a dataset with prompt / chosen / rejected fields in the Data tab, or export your arena votes from the Evaluate tab.
        </p>
      )}
      {objective === 'sft' && pairs && (
        <p className="hint" data-testid="train-pairs-hint">
          This dataset holds preference pairs: SFT trains on the chosen answers only; DPO uses both.
        </p>
      )}
      {objective === 'dpo' && (
        <p className="hint">
          The reference is the loaded base model itself (LoRA switches its adapters off; a full fine-tune keeps the base weights), so it costs no second copy. Each step scores every pair under both.
        </p>
      )}
    </fieldset>
  );
}
