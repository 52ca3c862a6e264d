/** The sampling knobs, each with what it does and what value turns it off. */
import { actions, selectSampling, selectSamplingError, selectUseCache, useStudio, type DraftField } from '../../state';
import { Field } from '../parts/Field';

interface NumberSetting {
  field: Exclude<DraftField, 'stopStrings'>;
  testId: string;
  label: string;
  hint: string;
  step: string;
  min: number;
  max?: number;
}

const NUMBER_SETTINGS: NumberSetting[] = [
  { field: 'maxNewTokens', testId: 'max-new-tokens', label: 'Max new tokens', hint: 'The most tokens to add.', step: '1', min: 1 },
  { field: 'temperature', testId: 'temperature', label: 'Temperature', hint: '0 = greedy (always the likeliest token); higher = more varied.', step: '0.1', min: 0 },
  { field: 'topK', testId: 'top-k', label: 'Top-k', hint: 'Sample only among the k likeliest tokens. 0 = off.', step: '1', min: 0 },
  { field: 'topP', testId: 'top-p', label: 'Top-p', hint: 'Sample among the likeliest tokens that add up to p. 1 = off.', step: '0.05', min: 0, max: 1 },
  { field: 'repetitionPenalty', testId: 'repetition-penalty', label: 'Repetition penalty', hint: 'Above 1 makes tokens already in the text less likely. 1 = off.', step: '0.05', min: 0 },
  { field: 'seed', testId: 'seed', label: 'Seed', hint: 'Same seed and settings give the same sample.', step: '1', min: 0 },
];

function NumberInput({ setting }: { setting: NumberSetting }) {
  const value = useStudio((s) => selectSampling(s)[setting.field]);
  const error = useStudio(selectSamplingError(setting.field));
  return (
    <Field label={setting.label} hint={setting.hint} error={error}>
      {({ id, describedBy }) => (
        <input
          id={id}
          data-testid={setting.testId}
          type="number"
          inputMode="decimal"
          step={setting.step}
          min={setting.min}
          max={setting.max}
          value={value}
          aria-invalid={error !== null}
          aria-describedby={describedBy || undefined}
          onChange={(e) => actions.setSampling({ [setting.field]: e.target.value })}
        />
      )}
    </Field>
  );
}

export function SamplingSettings() {
  const stopStrings = useStudio((s) => selectSampling(s).stopStrings);
  const greedy = useStudio((s) => Number(selectSampling(s).temperature) === 0);
  const useCache = useStudio(selectUseCache);
  return (
    <fieldset className="settings">
      <legend>Sampling</legend>
      <div className="settings-grid">
        {NUMBER_SETTINGS.map((s) => (
          <NumberInput key={s.field} setting={s} />
        ))}
      </div>
      {greedy && <p className="note">Temperature 0 is greedy decoding: top-k, top-p and the seed have no effect.</p>}
      <Field label="Stop strings" hint="Stop when one of these appears. Separate with commas or new lines; write \n for a line break.">
        {({ id, describedBy }) => (
          <textarea
            id={id}
            data-testid="stop-strings"
            rows={2}
            spellCheck={false}
            placeholder="e.g. ### Question:"
            value={stopStrings}
            aria-describedby={describedBy || undefined}
            onChange={(e) => actions.setSampling({ stopStrings: e.target.value })}
          />
        )}
      </Field>
      <label className="checkbox">
        <input type="checkbox" data-testid="use-cache" checked={useCache} onChange={(e) => actions.setUseCache(e.target.checked)} />
        <span>
          Use the KV cache <small className="hint">keeps each token's keys and values, so a step costs one token, not the whole text. Same output, faster.</small>
        </span>
      </label>
    </fieldset>
  );
}
