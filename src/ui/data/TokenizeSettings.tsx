/** Max length, truncation, padding, EOS and where the loss goes. Numbers are checked before they apply. */
import { MAX_LENGTH_LIMIT } from '../../data/defaults';
import type { TokenizeSettings as Settings } from '../../data/types';
import { datasetActions, useDataset } from '../../state';
import { Field } from '../parts/Field';
import { useDraft } from '../parts/useDraft';

function checkMaxLength(text: string): string | null {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isInteger(n)) return 'A whole number of tokens.';
  if (n < 2 || n > MAX_LENGTH_LIMIT) return `Between 2 and ${MAX_LENGTH_LIMIT} (Pythia's context length).`;
  return null;
}

export function TokenizeSettings({ settings }: { settings: Settings }) {
  const tokenizer = useDataset((s) => s.tokenizer);
  const maxLength = useDraft(settings.maxLength, checkMaxLength, (t) => datasetActions.setTokenize({ maxLength: Number(t) }));
  return (
    <fieldset className="source" data-testid="tokenize-settings">
      <legend>Tokens</legend>
      <p className="hint" data-testid="tokenizer-source">
        {tokenizer === 'model' ? 'Counted with the loaded model\'s own tokenizer, as training will.' : 'Counted with the bundled Pythia (GPT-NeoX-20B) tokenizer, which every Pythia model and the random models share; a model with its own tokenizer replaces it when it loads.'}
      </p>
      <div className="settings-grid">
      <Field label="Max length" hint="Tokens per example, end-of-text included; longer ones are truncated." error={maxLength.error}>
        {({ id, describedBy }) => (
          <input
            id={id}
            aria-describedby={describedBy}
            type="text"
            data-testid="max-length"
            inputMode="numeric"
            value={maxLength.text}
            onChange={(e) => maxLength.onChange(e.target.value)}
            onBlur={maxLength.onBlur}
          />
        )}
      </Field>
      <Field label="Truncation" hint="Right cuts the end (maybe the answer); left cuts the start of the prompt.">
        {({ id, describedBy }) => (
          <select id={id} aria-describedby={describedBy} data-testid="truncation" value={settings.truncation} onChange={(e) => datasetActions.setTokenize({ truncation: e.target.value as Settings['truncation'] })}>
            <option value="right">Right (keep the start)</option>
            <option value="left">Left (keep the end)</option>
          </select>
        )}
      </Field>
      <Field label="Padding" hint="Pad each batch to its longest example, or every example to max length.">
        {({ id, describedBy }) => (
          <select id={id} aria-describedby={describedBy} data-testid="padding" value={settings.padding} onChange={(e) => datasetActions.setTokenize({ padding: e.target.value as Settings['padding'] })}>
            <option value="longest">Longest in batch</option>
            <option value="max_length">Max length</option>
          </select>
        )}
      </Field>
      <Field label="Loss on" hint="The answer only (the prompt is read but not learned), or the whole text.">
        {({ id, describedBy }) => (
          <select id={id} aria-describedby={describedBy} data-testid="loss-on" value={settings.lossOn} onChange={(e) => datasetActions.setTokenize({ lossOn: e.target.value as Settings['lossOn'] })}>
            <option value="completion">Answer only</option>
            <option value="all">Whole text</option>
          </select>
        )}
      </Field>
      </div>
      <label className="checkbox">
        <input type="checkbox" data-testid="append-eos" checked={settings.appendEos} onChange={(e) => datasetActions.setTokenize({ appendEos: e.target.checked })} />
        <span>
          Append end-of-text{' '}
          <small className="hint">teaches the model to stop. Masks come from lengths, so this token is learned even though Pythia pads with the same id.</small>
        </span>
      </label>
    </fieldset>
  );
}
