import { useId, type ReactNode } from 'react';

interface Props {
  label: string;
  /** One line on what the setting does. */
  hint?: ReactNode;
  error?: string | null;
  /** Renders the control, wired to the label, hint and error. */
  children: (ids: { id: string; describedBy: string }) => ReactNode;
}

/** A labelled control with its explanation and validation message. */
export function Field({ label, hint, error, children }: Props) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const describedBy = [hint ? hintId : null, error ? errorId : null].filter(Boolean).join(' ');
  return (
    <div className={error ? 'field field-invalid' : 'field'}>
      <label htmlFor={id}>{label}</label>
      {children({ id, describedBy })}
      {hint && (
        <small className="hint" id={hintId}>
          {hint}
        </small>
      )}
      {error && (
        <small className="field-error" id={errorId}>
          {error}
        </small>
      )}
    </div>
  );
}
