/** After a training run: generate with the base model or with the run's weights. */
import { actions, useStudio, useTrain } from '../../state';

export function GenerateWith() {
  const trainedRunId = useTrain((s) => s.trainedRunId);
  const run = useTrain((s) => s.runs.find((r) => r.id === s.trainedRunId));
  const value = useStudio((s) => s.generateWith);
  if (!trainedRunId || !run) return null;
  return (
    <div className="row">
      <label htmlFor="generate-with">Generate with</label>
      <select id="generate-with" data-testid="generate-with" value={value} onChange={(e) => actions.setGenerateWith(e.target.value as 'base' | 'trained')}>
        <option value="base">the base model</option>
        <option value="trained">
          {run.name} ({run.config.method === 'lora' ? `LoRA r${run.config.lora.rank}` : 'full fine-tune'}, step {run.steps.at(-1)?.step ?? 0})
        </option>
      </select>
    </div>
  );
}
