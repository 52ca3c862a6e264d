/** Edit a row's fields: text fields as text, anything else (chat messages, numbers) as JSON. */
import { useState } from 'react';
import type { Row } from '../../data/types';

interface Props {
  /** The fields to show, in order (a new row gets the mapping's fields, empty). */
  initial: Row;
  saveLabel: string;
  onSave: (data: Row) => void;
  onCancel?: () => void;
  testId: string;
}

const asText = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v, null, 2));

export function RowEditor({ initial, saveLabel, onSave, onCancel, testId }: Props) {
  const [draft, setDraft] = useState<Record<string, string>>(() => Object.fromEntries(Object.entries(initial).map(([k, v]) => [k, asText(v)])));
  const isJson = (k: string) => typeof initial[k] !== 'string';
  const errors: Record<string, string> = {};
  for (const k of Object.keys(draft)) {
    if (!isJson(k)) continue;
    try {
      JSON.parse(draft[k]);
    } catch (e) {
      errors[k] = `Not valid JSON (${(e as Error).message}).`;
    }
  }
  const invalid = Object.keys(errors).length > 0;
  return (
    <form
      className="row-editor"
      data-testid={testId}
      onSubmit={(e) => {
        e.preventDefault();
        if (!invalid) onSave(Object.fromEntries(Object.entries(draft).map(([k, v]) => [k, isJson(k) ? JSON.parse(v) : v])));
      }}
    >
      {Object.keys(draft).map((k) => (
        <div className={errors[k] ? 'field field-invalid' : 'field'} key={k}>
          <label htmlFor={`${testId}-${k}`}>
            {k}
            {isJson(k) && <small className="hint"> (JSON)</small>}
          </label>
          <textarea
            id={`${testId}-${k}`}
            data-testid={`${testId}-field-${k}`}
            rows={Math.min(8, Math.max(2, Math.ceil(draft[k].length / 70)))}
            spellCheck={!isJson(k)}
            value={draft[k]}
            onChange={(e) => setDraft({ ...draft, [k]: e.target.value })}
          />
          {errors[k] && <small className="field-error">{errors[k]}</small>}
        </div>
      ))}
      <div className="row">
        <button type="submit" className="btn btn-primary" disabled={invalid} data-testid={`${testId}-save`}>
          {saveLabel}
        </button>
        {onCancel && (
          <button type="button" className="btn btn-secondary" onClick={onCancel}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}
