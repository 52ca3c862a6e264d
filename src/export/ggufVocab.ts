/**
 * A tokenizer as llama.cpp's GGUF metadata, as convert_hf_to_gguf.py's _set_vocab_gpt2 and
 * gguf-py's SpecialVocab write it for byte-level BPE tokenizers (every family the studio loads):
 * - tokens: every id below the model's vocab_size, the vocabulary's own spelling ("Ġthe"); ids the
 *   tokenizer does not have (Pythia pads 50,277 tokens to 50,304 rows) are "[PAD<id>]", UNUSED;
 * - types: added tokens marked special (or spelled like "<|…|>") CONTROL, other added tokens
 *   USER_DEFINED, the rest NORMAL;
 * - merges as "a b" strings (pairs given as arrays have their spaces written as U+0120);
 * - bos/eos/unk/sep/pad/mask ids from tokenizer_config.json's tokens, else config.json's ids;
 *   add_bos/add_eos from tokenizer_config.json; the chat template as it is.
 *
 * tokenizer.ggml.pre names the pre-tokenizer llama.cpp must imitate. The converter finds it by
 * tokenizing a fixed text and looking the SHA-256 of the ids up in a table; the same is done here
 * with the studio's tokenizer (transformers.js gives the ids transformers does: checked against
 * the converter's own hashes for Pythia and Qwen in ggufVocab.test.ts). A tokenizer not in the
 * table is recognised by the shape of its pre_tokenizer, as a last resort, or refused.
 */
import { tokenizerFromJson } from '../data/tokenizer';
import type { ModelConfig } from '../model/config';
import { bool, str, u32, type GgufValue } from './ggufFile';

/** The converter's check text (convert_hf_to_gguf.py's chktxt), character for character. */
export const CHECK_TEXT = "\n \n\n \n\n\n \t \t\t \t\n  \n   \n    \n     \n\ud83d\ude80 (normal) \ud83d\ude36\u200d\ud83c\udf2b\ufe0f (multiple emojis concatenated) \u2705 \ud83e\udd99\ud83e\udd99 3 33 333 3333 33333 333333 3333333 33333333 3.3 3..3 3...3 \u1780\u17b6\u1793\u17cb\u178f\u17c2\u1796\u17b7\u179f\u17c1\u179f\u17a2\u17b6\u1785\ud83d\ude01 ?\u6211\u60f3\u5728apple\u5de5\u4f5c1314151\u5929\uff5e ------======= \u043d\u0435\u0449\u043e \u043d\u0430 \u0411\u044a\u043b\u0433\u0430\u0440\u0441\u043a\u0438 ''''''```````\"\"\"\"......!!!!!!?????? I've been 'told he's there, 'RE you sure? 'M not sure I'll make it, 'D you like some tea? We'Ve a'lL";

/** chkhsh → tokenizer.ggml.pre, the entries of get_vocab_base_pre for the families the studio loads. */
export const PRE_BY_HASH: Record<string, string> = {
  b6dc8df998e1cfbdc4eac8243701a65afe638679230920b50d6f17d81c098166: 'olmo', // EleutherAI/gpt-neox-20b (Pythia); the converter's last match for this hash
  '3ce83efda5659b07b1ad37ca97ca5797ea4285d9b9ab0dc679e4a720c9da7454': 'gpt-2', // openai-community/gpt2
  '855059429035d75a914d1eda9f10a876752e281a054a7a3d421ef0533e5b6249': 'smollm', // HuggingFaceTB/SmolLM
  e636dc30a262dcc0d8c323492e32ae2b70728f4df7dfe9737d9f920a282b8aea: 'qwen2', // Qwen/Qwen1.5 (and Qwen2.5, Qwen3)
  d4540891389ea895b53b399da6ac824becc30f2fba0e9ddbb98f92e55ca0e97c: 'qwen2', // Qwen/Qwen3-Embedding
};

const TOKEN_TYPE = { normal: 1, control: 3, userDefined: 4, unused: 5 } as const;

export interface TokenizerSource {
  /** tokenizer.json, parsed. */
  json: unknown;
  /** tokenizer_config.json, parsed, or null. */
  config: unknown;
  /** The loaded tokenizer's encode (no special tokens), where the caller has one: else one is built from the files. */
  encode?: (text: string) => number[];
}

interface TokenizerJson {
  model?: { type?: string; vocab?: Record<string, number>; merges?: (string | [string, string])[] };
  added_tokens?: { id: number; content: string; special?: boolean }[];
  pre_tokenizer?: PreTokenizer | null;
}

interface PreTokenizer {
  type?: string;
  pretokenizers?: PreTokenizer[];
  individual_digits?: boolean;
  use_regex?: boolean;
  pattern?: { Regex?: string; String?: string };
}

const hex = (b: ArrayBuffer) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, '0')).join('');

/** The converter's chkhsh: SHA-256 of Python's str() of the check text's ids. */
export async function checkHash(source: TokenizerSource): Promise<string> {
  const ids = (source.encode ?? tokenizerFromJson(source.json, source.config).encode)(CHECK_TEXT);
  return hex(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`[${ids.join(', ')}]`)));
}

const QWEN2_SPLIT = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/** The pre-tokenizers llama.cpp implements, by their shape in tokenizer.json: GPT-2's regex alone; digits split one by one before it (SmolLM); Qwen2's split. */
function preByShape(p: PreTokenizer | null | undefined): string | null {
  if (!p) return null;
  const byteLevel = (x: PreTokenizer | undefined, regex: boolean) => x?.type === 'ByteLevel' && (x.use_regex ?? true) === regex;
  if (byteLevel(p, true)) return 'gpt-2';
  const s = p.type === 'Sequence' ? (p.pretokenizers ?? []) : [];
  if (s.length === 2 && s[0].type === 'Digits' && s[0].individual_digits === true && byteLevel(s[1], true)) return 'smollm';
  if (s.length === 2 && s[0].type === 'Split' && s[0].pattern?.Regex === QWEN2_SPLIT && byteLevel(s[1], false)) return 'qwen2';
  return null;
}

export async function preTokenizerName(source: TokenizerSource): Promise<string> {
  const known = PRE_BY_HASH[await checkHash(source)];
  if (known) return known;
  const shaped = preByShape((source.json as TokenizerJson).pre_tokenizer);
  if (shaped) return shaped;
  throw new Error("GGUF: this tokenizer's pre-tokenizer is not one llama.cpp implements (neither the converter's check nor its shape matches GPT-2, SmolLM or Qwen2): export a Hugging Face folder and convert it with llama.cpp's convert_hf_to_gguf.py");
}

/** The name of a special token in tokenizer_config.json: a string, or an AddedToken object's content. */
function tokenContent(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
  return null;
}

const SPECIAL_KEYS: [string, string][] = [
  ['bos', 'tokenizer.ggml.bos_token_id'],
  ['eos', 'tokenizer.ggml.eos_token_id'],
  ['unk', 'tokenizer.ggml.unknown_token_id'],
  ['sep', 'tokenizer.ggml.seperator_token_id'], // sic: llama.cpp's key
  ['pad', 'tokenizer.ggml.padding_token_id'],
  ['mask', 'tokenizer.ggml.mask_token_id'],
];

/** llama.cpp's tokenizer.* metadata for the model's tokenizer (byte-level BPE only). */
export async function ggufVocab(source: TokenizerSource, c: ModelConfig): Promise<Record<string, GgufValue>> {
  const t = source.json as TokenizerJson;
  if (t.model?.type !== 'BPE' || !t.model.vocab || !Array.isArray(t.model.merges)) {
    throw new Error('GGUF: only byte-level BPE tokenizers (tokenizer.json with a BPE model, its vocab and merges) can be written: export a Hugging Face folder instead');
  }
  const cfg = (source.config ?? {}) as Record<string, unknown>;
  const pieces = new Array<string | undefined>(c.vocabSize);
  const types = new Array<number>(c.vocabSize).fill(TOKEN_TYPE.normal);
  for (const [piece, id] of Object.entries(t.model.vocab)) if (id < c.vocabSize) pieces[id] = piece;
  const added = t.added_tokens ?? [];
  for (const a of added) {
    if (a.id >= c.vocabSize) throw new Error(`GGUF: the tokenizer's "${a.content}" has id ${a.id}, past the model's ${c.vocabSize} embedding rows`);
    pieces[a.id] = a.content;
    const looksSpecial = a.content.startsWith('<|') && a.content.endsWith('|>');
    types[a.id] = a.special || looksSpecial ? TOKEN_TYPE.control : TOKEN_TYPE.userDefined;
  }
  const tokens = Array.from(pieces, (p, i) => {
    if (p !== undefined) return p;
    types[i] = TOKEN_TYPE.unused;
    return `[PAD${i}]`;
  });
  const merges = t.model.merges.map((m) => (typeof m === 'string' ? m : m.map((part) => part.replace(/ /g, '\u0120')).join(' ')));

  const out: Record<string, GgufValue> = {
    'tokenizer.ggml.model': str('gpt2'),
    'tokenizer.ggml.pre': str(await preTokenizerName(source)),
    'tokenizer.ggml.tokens': { type: 'string[]', value: tokens },
    'tokenizer.ggml.token_type': { type: 'i32[]', value: types },
    'tokenizer.ggml.merges': { type: 'string[]', value: merges },
  };
  const fromConfig: Record<string, number> = { bos: c.bosTokenId, eos: c.eosTokenId };
  for (const [kind, key] of SPECIAL_KEYS) {
    const content = tokenContent(cfg[`${kind}_token`]);
    const id = content !== null ? added.find((a) => a.content === content)?.id : undefined;
    const chosen = id ?? fromConfig[kind];
    if (chosen !== undefined && chosen >= 0 && chosen < c.vocabSize) out[key] = u32(chosen);
  }
  for (const kind of ['bos', 'eos']) {
    const flag = cfg[`add_${kind}_token`];
    if (typeof flag === 'boolean') out[`tokenizer.ggml.add_${kind}_token`] = bool(flag);
  }
  // LlamaModel.set_vocab: SmolLM's 49,152-token vocabulary never gets a BOS.
  if (c.modelType === 'llama' && c.vocabSize === 49152) out['tokenizer.ggml.add_bos_token'] = bool(false);
  if (c.modelType === 'llama' && typeof cfg.add_prefix_space === 'boolean') out['tokenizer.ggml.add_space_prefix'] = bool(cfg.add_prefix_space);
  const template = cfg.chat_template;
  if (typeof template === 'string' && template) out['tokenizer.chat_template'] = str(template);
  return out;
}
