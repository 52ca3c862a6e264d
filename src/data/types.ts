/**
 * The data pipeline's vocabulary, in the order data flows:
 *
 *   file bytes ─parse→ Row[] (+ ParseIssue[]) ─mapping→ MappedExample ─template→ Segment[]
 *              ─encode→ EncodedExample ─batch→ token batch for the trainer
 *
 * Everything here is plain data (structured-cloneable), so it crosses the worker boundary and
 * goes into IndexedDB unchanged.
 */
import type { ChatTemplate } from './chatTemplate';
import type { Tokenizer } from './tokenizer';

/** A record as it came from the file: JSON values (JSONL/JSON) or strings (CSV, plain text). */
export type Row = Record<string, unknown>;

export type SourceFormat = 'jsonl' | 'json' | 'csv' | 'text';

export type ParseIssueKind =
  | 'invalid-json' // the line (or the whole JSON file) does not parse
  | 'not-object' // valid JSON, but not an object (a string, a number, an array…)
  | 'invalid-utf8' // bytes that are not UTF-8
  | 'line-too-long' // a line over the size limit (skipped without being buffered whole)
  | 'csv' // a CSV row with the wrong number of fields, an unclosed quote…
  | 'empty-file'; // nothing but whitespace

export interface ParseIssue {
  /** 1-based line in the file (for a JSON array: the line where the item starts). */
  line: number;
  kind: ParseIssueKind;
  /** One sentence that says what is wrong and, where it helps, what to do. */
  message: string;
  /** The start of the offending text (at most ~120 characters), for the issue list. */
  excerpt: string;
}

export interface ParseResult {
  format: SourceFormat;
  rows: Row[];
  /** rowLines[i] is the 1-based line where rows[i] starts (so later errors can name it). */
  rowLines: number[];
  issues: ParseIssue[];
  /** Records seen, good and bad (rows.length + records that produced an issue). */
  records: number;
  bytes: number;
}

export interface ParseProgress {
  bytesRead: number;
  totalBytes: number;
  rows: number;
  issues: number;
}

/** How the file's fields map onto what templates need. */
export type MappingKind = 'qa' | 'alpaca' | 'prompt-completion' | 'input-output' | 'text' | 'chat' | 'preference';

/**
 * `fields` maps each slot of the kind to a source field name:
 *   qa: question, answer · alpaca: instruction, input (optional), output · prompt-completion: prompt, completion
 *   input-output: input, output · text: text · chat: messages
 *   preference: prompt (optional when chosen and rejected are conversations), chosen, rejected
 */
export interface FieldMapping {
  kind: MappingKind;
  fields: Record<string, string>;
}

export type MappingIssueKind = 'missing-field' | 'empty-field' | 'wrong-type';

export interface MappingIssue {
  /** Index into the dataset's rows. */
  row: number;
  kind: MappingIssueKind;
  field: string;
  message: string;
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** One example in the roles templates use, whatever the file called them. */
export interface MappedExample {
  /** question / instruction / prompt / input (input-output); '' for plain text. */
  prompt: string;
  /** Alpaca's optional context; '' when absent. */
  input: string;
  /** answer / output / completion / the plain text itself. */
  output: string;
  /** Chat turns (mapping kind 'chat'; for 'preference' pairs given as conversations, the prompt's turns and the chosen reply), else null. */
  messages: ChatMessage[] | null;
  /** Preference pairs (mapping kind 'preference'): the rejected reply; `output` is the chosen one. */
  rejected?: string;
  /** Every string-valued source field, for a custom template's {field} placeholders. */
  fields: Record<string, string>;
}

/** A piece of rendered text; `train` marks completion text (the answer), the rest is prompt. */
export interface Segment {
  text: string;
  train: boolean;
}

export type TemplateId = 'plain' | 'qa' | 'alpaca' | 'llama2' | 'model' | 'custom';

export interface TemplateSpec {
  id: TemplateId;
  /** For 'custom': the prompt text with {field} placeholders; the mapped output follows it. */
  custom: string;
  /** For 'model': the loaded model's chat template (kept with the dataset and each run, so a run says how it was trained); null when that model has none. */
  chat?: ChatTemplate | null;
}

export interface TokenizeSettings {
  /** Tokens per example after truncation, EOS included. */
  maxLength: number;
  /** 'right' drops the end (can cut the answer), 'left' drops the start (keeps the answer). */
  truncation: 'left' | 'right';
  /** 'longest' pads each batch to its longest row; 'max_length' pads every row to maxLength. */
  padding: 'longest' | 'max_length';
  appendEos: boolean;
  /** 'completion': loss on the answer (and EOS) only; 'all': loss on every token. */
  lossOn: 'completion' | 'all';
}

/** The part of the tokenizer (src/data/tokenizer.ts) that encoding needs; tests can pass a fake. */
export type Encoder = Pick<Tokenizer, 'encode' | 'eosTokenId'> & Partial<Pick<Tokenizer, 'bosTokenId'>>;

export interface EncodedExample {
  /** Token ids after truncation (EOS included when appended). */
  ids: number[];
  /** loss[t] = 1 when token t is a target that carries loss (loss[0] is always 0: nothing predicts it). */
  loss: Uint8Array;
  /** Tokens before truncation (EOS included when appended). */
  fullLength: number;
  /** Tokens dropped by truncation (0 when it fits). */
  truncated: number;
  /** Token index in `ids` where the completion starts (ids.length when it was cut off entirely). */
  completionStart: number;
}

/** Padded rows for the trainer; the same shape as the model's TokenBatch. */
export interface EncodedBatch {
  ids: Int32Array; // (B·T) row-major, padded with the pad id
  B: number;
  T: number;
  lengths: Int32Array; // real tokens per row: masks come from these, never from the pad id
  labelMask: Uint8Array; // (B·T): which target positions carry loss
  /** Packed rows only (packBatch): each token's position within its own example, (B·T). */
  positions?: Int32Array;
}

export interface SplitSettings {
  seed: number;
  /** Fraction of examples held out for test, in [0, 1). */
  testFraction: number;
}
