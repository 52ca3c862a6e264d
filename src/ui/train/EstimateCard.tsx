/** What the settings will cost on this model and device: memory (with a verdict), work per step, steps, time. */
import { useState } from 'react';
import type { TrainEstimate } from '../../protocol/protocol';
import { selectExamplesPerStep, selectTryAnyway, trainActions, useTrain } from '../../state';
import { formatBytes, formatCount, formatInt, plural } from '../format';
import { RecipeButton } from './RecipeButton';
import { currentRun, predictedTime } from './runView';
import type { EstimateInputs } from './useEstimateSync';
import { formatDuration, formatFlops, sentence } from './trainFormat';

type Verdict = 'fits' | 'tight' | 'wont-fit';
const VERDICT: Record<Verdict, string> = { fits: 'fits', tight: 'tight', 'wont-fit': 'won’t fit' };

const PARTS = [
  { key: 'weights', label: 'Weights' },
  { key: 'gradients', label: 'Gradients' },
  { key: 'optimizer', label: 'Optimizer state' },
  { key: 'activations', label: 'Activations' },
] as const;

export function EstimateCard({ inputs }: { inputs: EstimateInputs }) {
  const estimate = useTrain((s) => s.estimate);
  // Keep the last answer on screen while a new one is computed, so the card does not blink per keystroke.
  const [shown, setShown] = useState<TrainEstimate | null>(null);
  const next = estimate.status === 'ready' ? estimate.value : estimate.status === 'loading' ? shown : null;
  if (next !== shown) setShown(next);
  return (
    <section className="estimate" data-testid="estimate" data-verdict={shown?.memory.verdict ?? estimate.status} aria-labelledby="estimate-heading" aria-busy={estimate.status === 'loading'}>
      <h3 id="estimate-heading">
        Estimate {estimate.status === 'loading' && <small className="muted">updating…</small>}
      </h3>
      {estimate.status === 'idle' && <p className="hint">{estimate.reason}</p>}
      {estimate.status === 'failed' && (
        <p className="field-error" data-testid="estimate-error">
          No estimate: {estimate.message}
        </p>
      )}
      {estimate.status === 'loading' && !shown && <p className="hint">Estimating…</p>}
      {shown && <EstimateBody value={shown} inputs={inputs} />}
    </section>
  );
}

function EstimateBody({ value, inputs }: { value: TrainEstimate; inputs: EstimateInputs }) {
  const run = useTrain((s) => currentRun(s.runs));
  const examplesPerStep = useTrain(selectExamplesPerStep);
  const { memory } = value;
  const time = predictedTime(run, { totalSteps: value.totalSteps, examplesPerStep });
  return (
    <>
      <div className="estimate-verdict">
        <span className={`badge verdict verdict-${memory.verdict}`} data-testid="estimate-verdict">
          {VERDICT[memory.verdict as Verdict] ?? memory.verdict}
        </span>
        <span data-testid="estimate-total">
          <strong>{formatBytes(memory.total)}</strong> at the step’s peak
        </span>
      </div>
      {memory.reason && <p className="estimate-reason">{sentence(memory.reason)}</p>}
      {memory.verdict === 'wont-fit' && <OutgrowNote />}
      {memory.verdict === 'wont-fit' && <TryAnyway />}
      <MemoryBar memory={memory} />
      <dl className="kv estimate-kv">
        {PARTS.map((p) => (
          <div key={p.key}>
            <dt>
              <span className={`swatch swatch-${p.key}`} aria-hidden="true" /> {p.label}
            </dt>
            <dd data-testid={`estimate-${p.key}`}>{formatBytes(memory[p.key])}</dd>
          </div>
        ))}
        <div>
          <dt>Largest tensor</dt>
          <dd>{formatBytes(memory.largestTensor)}</dd>
        </div>
        <div title="Page memory while a checkpoint is made: the trained weights and the optimizer's moments, copied out of the engine and into one file">
          <dt>Each checkpoint</dt>
          <dd data-testid="estimate-checkpoint">{formatBytes(memory.checkpoint)}</dd>
        </div>
        <div>
          <dt>Trainable parameters</dt>
          <dd data-testid="estimate-trainable">{formatCount(value.trainableParams)}</dd>
        </div>
        <div>
          <dt>Work per step</dt>
          <dd data-testid="estimate-flops">{formatFlops(value.flopsPerStep)}</dd>
        </div>
        <div>
          <dt>Total steps</dt>
          <dd data-testid="estimate-steps">{formatInt(value.totalSteps)}</dd>
        </div>
        {time && (
          <div>
            <dt>{time.live ? 'Time left' : 'Predicted time'}</dt>
            <dd data-testid="estimate-time">{formatDuration(time.ms)}</dd>
          </div>
        )}
      </dl>
      <p className="hint">
        For {plural(inputs.trainExamples, 'training example')} at {formatInt(inputs.seqLen)} tokens per {inputs.packing?.on ? 'row' : 'sequence'} ({inputs.seqBasis}).
        {time && run && (time.live ? ` Time left at ${run.name}’s pace, ${formatDuration(time.perStepMs)} per step.` : ` Time at ${run.name}’s pace per example, ${formatDuration(time.perStepMs)} per step; a different model, method or length changes it.`)}
      </p>
      {value.totalSteps === 0 && <p className="note">No steps: the training split is empty. Load a dataset, or set max steps.</p>}
      {memory.advice.length > 0 && (
        <ul className="estimate-advice" data-testid="estimate-advice">
          {memory.advice.map((a: string) => (
            <li key={a}>{a}</li>
          ))}
        </ul>
      )}
    </>
  );
}

function MemoryBar({ memory }: { memory: TrainEstimate['memory'] }) {
  const total = PARTS.reduce((n, p) => n + memory[p.key], 0);
  if (!(total > 0)) return null;
  return (
    <div className="memory-bar" aria-hidden="true">
      {PARTS.map((p) => (
        <span key={p.key} className={`swatch-${p.key}`} style={{ width: `${(100 * memory[p.key]) / total}%` }} />
      ))}
    </div>
  );
}

/** Too big for a browser tab: the same settings and data as a recipe for GPUs (transformers + peft + accelerate, or axolotl). */
function OutgrowNote() {
  const draft = useTrain((s) => s.draft);
  return (
    <div className="estimate-outgrow" data-testid="estimate-outgrow">
      <p className="hint">Too big for this browser? Take the same data, template, masking and settings to GPUs:</p>
      <RecipeButton name="recipe" config={draft} busy={null} />
    </div>
  );
}

/** Start is blocked while the estimate says "won't fit"; the user can still insist. */
function TryAnyway() {
  const on = useTrain(selectTryAnyway);
  return (
    <label className="check">
      <input type="checkbox" data-testid="train-try-anyway" checked={on} onChange={(e) => trainActions.setTryAnyway(e.target.checked)} /> Try anyway: the run may run out of memory (the page then offers
      to restart the engine, and the run resumes from its last checkpoint)
    </label>
  );
}
