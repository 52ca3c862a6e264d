/**
 * The tokenizer as llama.cpp's GGUF metadata, against what convert_hf_to_gguf.py writes: the
 * pre-tokenizer found by the converter's own check (Pythia's tokenizer hashes to the converter's
 * b6dc8df9… entry, whose name is "olmo"), tokens padded to the embedding's rows, token types,
 * merges, special ids and the chat template.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tinyConfig } from '../model/tinyConfig';
import type { GgufValue } from './ggufFile';
import { checkHash, ggufVocab } from './ggufVocab';

const PYTHIA: unknown = JSON.parse(readFileSync(new URL('../../public/tokenizers/pythia/tokenizer.json', import.meta.url), 'utf8'));
const value = (m: Record<string, GgufValue>, k: string) => m[k]?.value;

/** GPT-2's byte → printable character map (bytes_to_unicode), for a small byte-level vocabulary. */
function byteChars(): string[] {
  const keep = [...Array.from({ length: 94 }, (_, i) => 33 + i), ...Array.from({ length: 12 }, (_, i) => 161 + i), ...Array.from({ length: 82 }, (_, i) => 174 + i)];
  let n = 0;
  return Array.from({ length: 256 }, (_, b) => String.fromCodePoint(keep.includes(b) ? b : 256 + n++));
}

/** A tiny byte-level BPE tokenizer with Qwen2's pre-tokenizer and chat tokens. */
function qwenLike(): { json: unknown; config: unknown } {
  const chars = byteChars();
  const vocab: Record<string, number> = Object.fromEntries(chars.map((c, i) => [c, i]));
  vocab['Ġt'] = 256;
  return {
    json: {
      version: '1.0',
      added_tokens: [
        { id: 257, content: '<|endoftext|>', special: true, normalized: false, single_word: false, lstrip: false, rstrip: false },
        { id: 258, content: '<|im_end|>', special: true, normalized: false, single_word: false, lstrip: false, rstrip: false },
        { id: 259, content: 'my word', special: false, normalized: false, single_word: false, lstrip: false, rstrip: false },
      ],
      normalizer: null,
      pre_tokenizer: {
        type: 'Sequence',
        pretokenizers: [
          { type: 'Split', pattern: { Regex: "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+" }, behavior: 'Isolated', invert: false },
          { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
        ],
      },
      post_processor: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
      decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
      model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges: [['Ġ', 't'], ['a b', 'c']] },
    },
    config: { eos_token: '<|im_end|>', pad_token: '<|endoftext|>', bos_token: null, add_bos_token: false, chat_template: "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}" },
  };
}

describe('ggufVocab', () => {
  it('Pythia: the converter\'s pre-tokenizer ("olmo", by its check hash), tokens padded to 50,304 rows, types, merges and specials', async () => {
    const c = tinyConfig({ hiddenSize: 32, numLayers: 1, numHeads: 2, seed: 1 });
    const source = { json: PYTHIA, config: null };
    expect(await checkHash(source)).toBe('b6dc8df998e1cfbdc4eac8243701a65afe638679230920b50d6f17d81c098166');
    const m = await ggufVocab(source, c);
    expect(value(m, 'tokenizer.ggml.model')).toBe('gpt2');
    expect(value(m, 'tokenizer.ggml.pre')).toBe('olmo');
    const tokens = value(m, 'tokenizer.ggml.tokens') as string[];
    const types = value(m, 'tokenizer.ggml.token_type') as number[];
    expect(tokens).toHaveLength(50304);
    expect([tokens[0], tokens[1], tokens[510], tokens[50276], tokens[50277], tokens[50303]]).toEqual(['<|endoftext|>', '<|padding|>', 'The', '  ', '[PAD50277]', '[PAD50303]']);
    expect([types[0], types[1], types[510], types[50276], types[50277]]).toEqual([3, 3, 1, 4, 5]); // control, control, normal, user-defined (a whitespace run), unused
    const merges = value(m, 'tokenizer.ggml.merges') as string[];
    const json = PYTHIA as { model: { merges: string[] } };
    expect(merges).toEqual(json.model.merges);
    // No tokenizer_config.json: the ids come from config.json (bos = eos = 0).
    expect([value(m, 'tokenizer.ggml.bos_token_id'), value(m, 'tokenizer.ggml.eos_token_id')]).toEqual([0, 0]);
    expect(m['tokenizer.chat_template']).toBeUndefined();
  });

  it('a Qwen-style tokenizer: "qwen2" by the shape of its pre-tokenizer, special ids from tokenizer_config.json, pair merges with their spaces as U+0120, the chat template', async () => {
    const c = { ...tinyConfig({ hiddenSize: 32, numLayers: 1, numHeads: 2, seed: 1, family: 'qwen2' }), vocabSize: 262, bosTokenId: 257, eosTokenId: 257 };
    const m = await ggufVocab(qwenLike(), c);
    expect(value(m, 'tokenizer.ggml.pre')).toBe('qwen2');
    expect((value(m, 'tokenizer.ggml.tokens') as string[]).slice(255)).toEqual(['ÿ', 'Ġt', '<|endoftext|>', '<|im_end|>', 'my word', '[PAD260]', '[PAD261]']);
    expect((value(m, 'tokenizer.ggml.token_type') as number[]).slice(255)).toEqual([1, 1, 3, 3, 4, 5, 5]);
    expect(value(m, 'tokenizer.ggml.merges')).toEqual(['Ġ t', 'aĠb c']);
    // eos and pad by name; bos is null in tokenizer_config.json, so config.json's id is used (as SpecialVocab does).
    expect([value(m, 'tokenizer.ggml.eos_token_id'), value(m, 'tokenizer.ggml.padding_token_id'), value(m, 'tokenizer.ggml.bos_token_id')]).toEqual([258, 257, 257]);
    expect(value(m, 'tokenizer.ggml.add_bos_token')).toBe(false);
    expect(value(m, 'tokenizer.chat_template')).toMatch(/^\{% for m in messages %\}<\|im_start\|>/);
  });

  it('refuses a tokenizer llama.cpp cannot imitate, saying what to do instead', async () => {
    const c = { ...tinyConfig({ hiddenSize: 32, numLayers: 1, numHeads: 2, seed: 1 }), vocabSize: 262 };
    const odd = qwenLike();
    (odd.json as { pre_tokenizer: unknown }).pre_tokenizer = { type: 'Whitespace' };
    await expect(ggufVocab(odd, c)).rejects.toThrow(/pre-tokenizer is not one llama\.cpp implements .*export a Hugging Face folder and convert it with llama\.cpp's convert_hf_to_gguf\.py/);
    const wordPiece = { json: { model: { type: 'WordPiece', vocab: {} } }, config: null };
    await expect(ggufVocab(wordPiece, c)).rejects.toThrow(/only byte-level BPE tokenizers/);
  });
});
