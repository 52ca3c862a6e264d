/** Starting points: picking one replaces the settings below (the sample prompt is kept). */
import { trainActions, useTrain } from '../../state';
import { TRAIN_PRESETS } from '../../state/trainOptions';
import { Field } from '../parts/Field';

export function PresetPicker({ onApply }: { onApply: () => void }) {
  const presetId = useTrain((s) => s.presetId);
  const preset = TRAIN_PRESETS.find((p) => p.id === presetId);
  return (
    <fieldset className="source" data-testid="train-presets">
      <legend>Preset</legend>
      <Field label="Start from" hint={preset ? preset.description : 'Your own settings. Pick a preset to start over from it.'}>
        {({ id, describedBy }) => (
          <select
            id={id}
            aria-describedby={describedBy}
            data-testid="train-preset"
            value={presetId ?? ''}
            onChange={(e) => {
              trainActions.applyPreset(e.target.value);
              onApply();
            }}
          >
            {presetId === null && <option value="">Custom</option>}
            {TRAIN_PRESETS.map((p) => (
              <option key={p.id} value={p.id}>
                {p.label}
              </option>
            ))}
          </select>
        )}
      </Field>
    </fieldset>
  );
}
