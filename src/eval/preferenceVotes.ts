/**
 * The arena's votes as a preference dataset: each vote with a winner is a pair (the prompt both
 * models answered, the preferred answer, the other), in the prompt / chosen / rejected fields the
 * Data tab detects as preference pairs and DPO trains on. Ties say nothing about which is better
 * and make no pair.
 */

export interface PreferencePair {
  /** The prompt as both models were asked it (the test example in the Data tab's template). */
  prompt: string;
  chosen: string;
  rejected: string;
  /** Which models gave the answers (labels at the time of the vote), for the record. */
  chosenModel: string;
  rejectedModel: string;
}

/** The pairs as JSONL rows of prompt / chosen / rejected (and the models, as extra fields). */
export function preferenceJsonl(pairs: readonly PreferencePair[]): string {
  return pairs.map((p) => JSON.stringify({ prompt: p.prompt, chosen: p.chosen, rejected: p.rejected, chosen_model: p.chosenModel, rejected_model: p.rejectedModel })).join('\n') + (pairs.length ? '\n' : '');
}

/** The smallest number of pairs a DPO run can split into train and test. */
export const MIN_PREFERENCE_PAIRS = 2;
