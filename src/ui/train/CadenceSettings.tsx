/** What happens between steps: evals, samples, checkpoints, early stopping, and the sample prompt. */
import { trainActions, useTrain } from '../../state';
import { NumberGrid } from './NumberField';

export function CadenceSettings() {
  const prompt = useTrain((s) => s.draft.samplePrompt);
  return (
    <fieldset className="source" data-testid="train-cadence">
      <legend>Evals, samples &amp; checkpoints</legend>
      <NumberGrid fields={['evalEvery', 'sampleEvery', 'checkpointEvery', 'earlyStopPatience', 'sampleMaxTokens']} />
      <label htmlFor="train-sample-prompt">Sample prompt</label>
      <textarea
        id="train-sample-prompt"
        data-testid="train-sample-prompt"
        rows={3}
        spellCheck={false}
        value={prompt}
        placeholder="Empty: the first test example’s prompt is used."
        aria-describedby="train-sample-prompt-hint"
        onChange={(e) => trainActions.setDraft({ samplePrompt: e.target.value })}
      />
      <small className="hint" id="train-sample-prompt-hint">
        Answered greedily at every sample step, so you can watch the answer change as the model learns. Write it in the dataset’s template to see what it learned.
      </small>
    </fieldset>
  );
}
