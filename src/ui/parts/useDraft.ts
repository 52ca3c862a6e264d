import { useState } from 'react';

/**
 * A number field whose text may be invalid while it is typed: the store only ever gets valid
 * values, and the error shows until the text is fixed.
 */
export function useDraft(value: number, check: (text: string) => string | null, apply: (text: string) => void) {
  const [draft, setDraft] = useState<string | null>(null);
  const text = draft ?? String(value);
  const error = draft === null ? null : check(text);
  return {
    text,
    error,
    onChange: (t: string) => {
      setDraft(t);
      if (!check(t)) apply(t);
    },
    onBlur: () => !check(text) && setDraft(null),
  };
}
