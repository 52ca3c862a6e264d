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
  /**
   * The token the tokenizer puts before every text (Llama 2 and TinyLlama add <s>: their
   * tokenizer.json's post-processor, or tokenizer_config.json's add_bos_token), or null for the
   * tokenizers that add none (Pythia, SmolLM2, Qwen, GPT-2).
   */
  bosTokenId: number | null;
  /** The ids generation stops at: the EOS, and any other end token the model's files name (generation_config.json's eos_token_id list). */
  stopTokenIds: readonly number[];
  vocabSize: number;
}

/** Pythia's tokenizer has no tokenizer_config.json of note: bos = eos = unk = <|endoftext|>, no BOS added. */
const PYTHIA_DEFAULTS = { bos_token: '<|endoftext|>', eos_token: '<|endoftext|>', unk_token: '<|endoftext|>', add_bos_token: false, add_eos_token: false };

export function tokenizerFromJson(tokenizerJson: unknown, tokenizerConfig?: unknown, opts: { stopTokenIds?: readonly number[] } = {}): Tokenizer {
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
    bosTokenId: addedBos(tok),
    stopTokenIds: [...new Set([tok.eos_token_id ?? 0, ...(opts.stopTokenIds ?? [])])],
    vocabSize: vocab.size,
  };
}

/** The id the tokenizer's own special-token handling puts first, found by asking it (its post-processor and add_bos_token both count). */
function addedBos(tok: PreTrainedTokenizer): number | null {
  const plain = tok.encode('a', { add_special_tokens: false });
  const full = tok.encode('a', { add_special_tokens: true });
  return full.length > plain.length && full[0] !== plain[0] ? full[0] : null;
}

const isId = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const count = (n: number): string => n.toLocaleString('en-US');
/** An id as a message quotes it; never JSON.stringify on the file's values (a nested one overflows the stack). */
const quoteId = (v: unknown): string =>
  typeof v === 'number' || typeof v === 'boolean' ? String(v) : typeof v === 'string' ? JSON.stringify(v.slice(0, 40)) : v === undefined ? 'that is missing' : `that is ${v === null ? 'null' : Array.isArray(v) ? 'a list' : 'an object'}`;

/**
 * The largest id tokenizer.json can produce: its model.vocab (piece → id, or Unigram's list of
 * [piece, score] whose ids are positions) and its added_tokens. -1 when the file has neither
 * (tokenizerFromJson says what is wrong with it).
 */
export function largestTokenId(tokenizerJson: unknown): number {
  const t = (tokenizerJson ?? {}) as { model?: { vocab?: unknown }; added_tokens?: unknown };
  const vocab = t.model?.vocab;
  let largest = Array.isArray(vocab) ? vocab.length - 1 : -1;
  if (typeof vocab === 'object' && vocab !== null && !Array.isArray(vocab)) {
    for (const [piece, id] of Object.entries(vocab)) {
      if (!isId(id)) throw new Error(`tokenizer.json's model.vocab gives ${JSON.stringify(piece.slice(0, 40))} the id ${quoteId(id)}, not a whole number: use the tokenizer.json from the model repo`);
      if (id > largest) largest = id;
    }
  }
  for (const added of Array.isArray(t.added_tokens) ? (t.added_tokens as { id?: unknown }[]) : []) {
    const id = added?.id;
    if (!isId(id)) throw new Error(`tokenizer.json's added_tokens holds an id ${quoteId(id)}, not a whole number: use the tokenizer.json from the model repo`);
    if (id > largest) largest = id;
  }
  return largest;
}

/**
 * Refuses a tokenizer with ids at or past the model's embedding rows, before the two are put
 * together: a gather past the last row is no error on WebGPU, it silently reads zeros.
 */
export function checkTokenizerFitsModel(tokenizerJson: unknown, vocabSize: number, source: 'model' | 'bundled'): void {
  const largest = largestTokenId(tokenizerJson);
  if (largest < vocabSize) return;
  const rows = `the model's embedding has ${count(vocabSize)} rows (config.json's vocab_size)`;
  throw new Error(
    source === 'bundled'
      ? `the bundled Pythia tokenizer.json has ids up to ${count(largest)} but ${rows}, and the model came without a tokenizer.json: add the tokenizer.json that came with this model`
      : `tokenizer.json has ids up to ${count(largest)} but ${rows}: use the tokenizer that came with this model`,
  );
}
