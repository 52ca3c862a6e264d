/** After a training run: generate with the base model or with any run's weights. */
import { actions, useStudio } from '../../state';
import { useModelChoices } from '../evaluate/useModelChoices';

const choiceId = (r: ReturnType<typeof useStudio.getState>['generateWith']) => (r.kind === 'base' ? 'base' : r.checkpoint === 'best' ? `${r.runId}:best` : r.runId);

export function GenerateWith() {
  const choices = useModelChoices();
  const value = useStudio((s) => s.generateWith);
  if (choices.length < 2) return null;
  return (
    <div className="row">
      <label htmlFor="generate-with">Generate with</label>
      <select
        id="generate-with"
        data-testid="generate-with"
        value={choiceId(value)}
        onChange={(e) => {
          const c = choices.find((x) => x.id === e.target.value);
          if (c) actions.setGenerateWith(c.ref);
        }}
      >
        {choices.map((c) => (
          <option key={c.id} value={c.id}>
            {c.label}
          </option>
        ))}
      </select>
    </div>
  );
}
