/** One numeric training setting: typed as text (1e-4 works), checked against the whole config, applied when valid. */
import { trainActions, useTrain } from '../../state';
import { Field } from '../parts/Field';
import { useDraft } from '../parts/useDraft';
import { useReportDraftError } from './draftErrors';
import { NUMBER_FIELDS, fieldError, parseNumber, type NumberKey } from './trainFields';

export function NumberField({ field }: { field: NumberKey }) {
  const spec = NUMBER_FIELDS[field];
  const config = useTrain((s) => s.draft);
  const draft = useDraft(
    spec.get(config),
    (text) => fieldError(config, spec, text),
    (text) => trainActions.setDraft(spec.set(useTrain.getState().draft, parseNumber(text))),
  );
  useReportDraftError(spec.label, draft.error);
  return (
    <Field label={spec.label} hint={spec.hint} error={draft.error}>
      {({ id, describedBy }) => (
        <input
          type="text"
          id={id}
          aria-describedby={describedBy || undefined}
          aria-invalid={draft.error !== null}
          data-testid={spec.testId}
          inputMode={spec.whole ? 'numeric' : 'decimal'}
          spellCheck={false}
          autoComplete="off"
          value={draft.text}
          onChange={(e) => draft.onChange(e.target.value)}
          onBlur={draft.onBlur}
        />
      )}
    </Field>
  );
}

/** A grid of numeric settings. */
export function NumberGrid({ fields }: { fields: NumberKey[] }) {
  return (
    <div className="settings-grid">
      {fields.map((f) => (
        <NumberField key={f} field={f} />
      ))}
    </div>
  );
}
