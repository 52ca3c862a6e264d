/**
 * The contract between the page and the data worker, which parses dataset files and tokenizes
 * examples off the main thread (a 200 MB file must not freeze the page). Bump
 * DATA_PROTOCOL_VERSION on any change.
 */
import type { Similarity } from '../eval/similarity';
import type { ParseProgress, ParseResult, Segment, SourceFormat, TokenizeSettings } from '../data/types';
import type { TokenizerSource } from './protocol';
import type { ChatTemplate } from '../data/chatTemplate';

export const DATA_PROTOCOL_VERSION = 3;

/** Dropped tokens shown on the far side of a truncation cut. */
export const VIEW_DROPPED_TOKENS = 64;

/** One token of the token view. */
export interface ViewToken {
  id: number;
  /** The token decoded on its own (a multi-byte character split across tokens shows as �). */
  text: string;
  /** The vocabulary's spelling (byte-level: Ġ for a space, Ċ for a newline). */
  piece: string;
  special: boolean;
  /** This token is a target that carries loss. */
  loss: boolean;
  /** Kept after truncation (false: truncation drops it). */
  kept: boolean;
}

export interface TokenView {
  /** The tokens before truncation, in order; `kept` says which survive. Only the dropped tokens
   * next to the cut are listed (a 1 MB line would be 250,000 chips): `omitted` counts the rest. */
  tokens: ViewToken[];
  omitted: number;
  fullLength: number;
  truncated: number;
}

export type DataRequests = {
  parse: { params: { source: Blob | string; name?: string; format?: SourceFormat }; result: ParseResult };
  /** Tokens per example before truncation, EOS not counted (the page adds it per its settings). */
  measure: { params: { items: Segment[][] }; result: { lengths: Int32Array } };
  tokenView: { params: { segments: Segment[]; settings: TokenizeSettings }; result: TokenView };
  /** Output/target similarity from a sentence-embedding model (downloaded on first use; unavailable offline). */
  similarity: { params: { outputs: string[]; targets: string[] }; result: Similarity };
  /**
   * Tokenize with this tokenizer from now on (the loaded model's), or with the bundled Pythia one
   * (null). Returns its chat template once it rendered a trial conversation here, or why not.
   */
  useTokenizer: { params: { source: TokenizerSource | null }; result: { chat: ChatTemplate | null; chatProblem: string | null } };
};

export type DataEvent =
  | { type: 'parseProgress'; requestId: number; progress: ParseProgress }
  | { type: 'measureProgress'; requestId: number; done: number; total: number };
