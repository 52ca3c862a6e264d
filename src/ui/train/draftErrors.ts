/**
 * Fields whose typed text is invalid right now. The store keeps the last valid value (useDraft),
 * so without this Start would run with a value the user can no longer see.
 */
import { useEffect } from 'react';
import { create } from 'zustand';

export const useDraftErrors = create<Record<string, string>>()(() => ({}));

/** Registers this field's error (label: message) while it shows one; clears it when fixed or unmounted. */
export function useReportDraftError(label: string, error: string | null): void {
  useEffect(() => {
    if (!error) return;
    useDraftErrors.setState({ [label]: error });
    return () => {
      const rest = { ...useDraftErrors.getState() };
      delete rest[label];
      useDraftErrors.setState(rest, true);
    };
  }, [label, error]);
}

/** The first invalid field, as a Start blocker: "Fix Batch size: A whole number …", or null. */
export const selectDraftBlocker = (s: Record<string, string>): string | null => {
  const first = Object.entries(s)[0];
  return first ? `Fix ${first[0]}: ${first[1]}` : null;
};
