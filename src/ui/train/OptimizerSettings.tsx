/** AdamW's knobs and the learning-rate schedule. */
import { trainActions, useTrain } from '../../state';
import type { ScheduleKind } from '../../state/trainOptions';
import { Field } from '../parts/Field';
import { NumberField } from './NumberField';

const SCHEDULES: { id: ScheduleKind; label: string }[] = [
  { id: 'constant', label: 'Constant' },
  { id: 'linear', label: 'Linear decay' },
  { id: 'cosine', label: 'Cosine decay' },
];

export function OptimizerSettings() {
  const schedule = useTrain((s) => s.draft.schedule);
  return (
    <fieldset className="source" data-testid="train-optimizer">
      <legend>Optimizer &amp; schedule</legend>
      <div className="settings-grid">
        <NumberField field="lr" />
        <Field label="Schedule" hint="How the learning rate changes after warmup: stays, falls in a line to 0, or falls along a cosine to 0.">
          {({ id, describedBy }) => (
            <select
              id={id}
              aria-describedby={describedBy}
              data-testid="train-schedule"
              value={schedule.kind}
              onChange={(e) => trainActions.setDraft({ schedule: { ...useTrain.getState().draft.schedule, kind: e.target.value as ScheduleKind } })}
            >
              {SCHEDULES.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.label}
                </option>
              ))}
            </select>
          )}
        </Field>
        <NumberField field="warmupSteps" />
        <NumberField field="weightDecay" />
        <NumberField field="maxGradNorm" />
        <NumberField field="neftuneAlpha" />
      </div>
    </fieldset>
  );
}
