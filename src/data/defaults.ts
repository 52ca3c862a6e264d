/** Defaults for the data pipeline's settings (the UI starts from these). */
import type { SplitSettings, TokenizeSettings } from './types';

export const DEFAULT_TOKENIZE: TokenizeSettings = { maxLength: 512, truncation: 'right', padding: 'longest', appendEos: true, lossOn: 'completion' };

export const DEFAULT_SPLIT: SplitSettings = { seed: 42, testFraction: 0.1 };

/** Pythia's max_position_embeddings: no example can be longer. */
export const MAX_LENGTH_LIMIT = 2048;
