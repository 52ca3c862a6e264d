/**
 * The page's own defaults: backend, Hub, playground prompt and sampling. (A run's settings have
 * theirs in train/presets.ts, DEFAULT_TRAIN; the Data tab's in data/defaults.ts.)
 */
import type { BackendChoice } from '../protocol/protocol';

export const DEFAULT_BACKEND: BackendChoice = 'auto';

/** The public Hub; `?hub=<url>` points at a mirror instead (tests use a local server). */
export { DEFAULT_HUB_ENDPOINT, DEFAULT_REVISION } from '../hub/endpoint';

/** The course's Q&A template, so a base model's reply can be compared with a fine-tuned one later. */
export const DEFAULT_PROMPT = '### Question:\nWhat does this studio do?\n\n### Answer:';

/**
 * Sampling defaults, as the text the form holds. Each "off" value makes the setting
 * a no-op, so the default run is plain greedy decoding: deterministic, and the same
 * with or without the KV cache.
 */
export const DEFAULT_SAMPLING = {
  maxNewTokens: '64',
  temperature: '0', // 0 = greedy: always take the most likely token
  topK: '0', // 0 = off
  topP: '1', // 1 = off
  repetitionPenalty: '1', // 1 = off
  seed: '0',
  stopStrings: '', // comma or newline separated
};

/** Reusing keys/values of earlier tokens gives the same tokens, much faster. */
export const DEFAULT_USE_CACHE = true;
