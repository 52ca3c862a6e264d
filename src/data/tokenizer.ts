/**
 * Tokenizers: the only importer of @huggingface/transformers (its runtime is isolated here).
 */
import { PreTrainedTokenizer } from '@huggingface/transformers';

export interface Tokenizer {
  encode(text: string): number[];
  decode(ids: number[]): string;
  /** The text piece of each id, as the vocabulary spells it (for token views). */
  pieces(ids: number[]): string[];
  eosTokenId: number;
  vocabSize: number;
}

/** Pythia's tokenizer has no tokenizer_config.json of note: bos = eos = unk = <|endoftext|>, no BOS added. */
const PYTHIA_DEFAULTS = { bos_token: '<|endoftext|>', eos_token: '<|endoftext|>', unk_token: '<|endoftext|>', add_bos_token: false, add_eos_token: false };

export function tokenizerFromJson(tokenizerJson: unknown, tokenizerConfig?: unknown): Tokenizer {
  if (typeof tokenizerJson !== 'object' || tokenizerJson === null || !('model' in tokenizerJson)) {
    throw new Error('tokenizer.json is not a Hugging Face tokenizers file (no "model" entry): use the tokenizer.json from the model repo');
  }
  const config = { ...PYTHIA_DEFAULTS, ...((tokenizerConfig as Record<string, unknown> | null) ?? {}) };
  const tok = new PreTrainedTokenizer(tokenizerJson, config);
  const vocab = tok.get_vocab();
  const byId = new Map<number, string>();
  for (const [piece, id] of vocab) byId.set(id, piece);
  return {
    encode: (text) => tok.encode(text, { add_special_tokens: false }),
    decode: (ids) => tok.decode(ids, { skip_special_tokens: false }),
    pieces: (ids) => ids.map((id) => byId.get(id) ?? `<${id}>`),
    eosTokenId: tok.eos_token_id ?? 0,
    vocabSize: vocab.size,
  };
}
