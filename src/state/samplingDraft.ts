/**
 * The playground form holds text, exactly as typed (a half-typed "0." must survive a
 * re-render); GenerateParams are derived from it, with a message per invalid field.
 */
import type { GenerateParams } from '../protocol/protocol';

export interface SamplingDraft {
  maxNewTokens: string;
  temperature: string;
  topK: string;
  topP: string;
  repetitionPenalty: string;
  seed: string;
  stopStrings: string;
}

export type DraftField = keyof SamplingDraft;
export type DraftErrors = Partial<Record<DraftField, string>>;

/** Generation beyond this is cut by the model's context (2048 for Pythia) anyway. */
export const MAX_NEW_TOKENS_LIMIT = 2048;

type Check = (n: number) => string | null;

const rules: Record<Exclude<DraftField, 'stopStrings'>, { label: string; integer: boolean; check: Check }> = {
  maxNewTokens: {
    label: 'Max new tokens',
    integer: true,
    check: (n) => (n < 1 || n > MAX_NEW_TOKENS_LIMIT ? `between 1 and ${MAX_NEW_TOKENS_LIMIT}` : null),
  },
  temperature: { label: 'Temperature', integer: false, check: (n) => (n < 0 ? '0 (greedy) or more' : null) },
  topK: { label: 'Top-k', integer: true, check: (n) => (n < 0 ? '0 (off) or more' : null) },
  topP: { label: 'Top-p', integer: false, check: (n) => (n <= 0 || n > 1 ? 'above 0 and at most 1 (1 = off)' : null) },
  repetitionPenalty: { label: 'Repetition penalty', integer: false, check: (n) => (n <= 0 ? 'above 0 (1 = off)' : null) },
  seed: { label: 'Seed', integer: true, check: (n) => (n < 0 || n > 0xffffffff ? 'between 0 and 4294967295' : null) },
};

/**
 * Splits on commas and newlines. A newline cannot be typed as a stop string
 * itself, so `\n` and `\t` are read as escapes (trimmed first, so " \n###" keeps its newline).
 */
export function parseStopStrings(text: string): string[] {
  return text
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => s.replace(/\\n/g, '\n').replace(/\\t/g, '\t'));
}

export type DraftCheck = { ok: true; params: Omit<GenerateParams, 'prompt' | 'useCache'> } | { ok: false; errors: DraftErrors };

export function checkSamplingDraft(d: SamplingDraft): DraftCheck {
  const errors: DraftErrors = {};
  const values: Partial<Record<DraftField, number>> = {};
  for (const [field, rule] of Object.entries(rules) as [keyof typeof rules, (typeof rules)[keyof typeof rules]][]) {
    const text = d[field].trim();
    const n = Number(text);
    if (text === '' || !Number.isFinite(n)) errors[field] = `${rule.label}: enter a number`;
    else if (rule.integer && !Number.isInteger(n)) errors[field] = `${rule.label}: enter a whole number`;
    else {
      const problem = rule.check(n);
      if (problem) errors[field] = `${rule.label}: must be ${problem}`;
      else values[field] = n;
    }
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return {
    ok: true,
    params: {
      maxNewTokens: values.maxNewTokens!,
      temperature: values.temperature!,
      topK: values.topK!,
      topP: values.topP!,
      repetitionPenalty: values.repetitionPenalty!,
      seed: values.seed!,
      stopStrings: parseStopStrings(d.stopStrings),
    },
  };
}
