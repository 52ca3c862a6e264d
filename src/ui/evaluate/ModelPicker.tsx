/** Which models side by side, batch evaluation and ARC use: the base and any run with weights. */
import { useEffect } from 'react';
import { evalActions, useEval } from '../../state';
import { useModelChoices } from './useModelChoices';

export function ModelPicker() {
  const choices = useModelChoices();
  const selected = useEval((s) => s.selected);
  useEffect(() => evalActions.selectDefault(choices), [choices]);
  if (choices.length === 0) return <p className="hint">Load a model in the Model & playground tab; after a training run, its weights can be compared with the base here.</p>;
  return (
    <fieldset className="model-picker" data-testid="model-picker">
      <legend>Models</legend>
      {choices.map((c) => (
        <label key={c.id} className="checkbox">
          <input type="checkbox" data-testid="pick-model" data-model-id={c.id} checked={selected.includes(c.id)} onChange={() => evalActions.toggleSelected(c.id)} />
          {c.label}
        </label>
      ))}
      {choices.length === 1 && <p className="hint">Only the base model so far: train a run in the Train tab to compare it with the base.</p>}
    </fieldset>
  );
}
