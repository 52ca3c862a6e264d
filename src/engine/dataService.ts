/**
 * What the data worker does: parse files and tokenize examples. The tokenizer is the loaded
 * model's (useTokenizer), or the bundled Pythia one, loaded on first use; token counts are memoised per segment text, so re-measuring after an edit or a settings
 * change only tokenizes what changed (up to MEMO_LIMIT distinct segments; beyond, it starts over).
 */
import { VIEW_DROPPED_TOKENS, type DataEvent, type DataRequests, type TokenView } from '../protocol/dataProtocol';
import type { JobContext } from '../protocol/rpc';
import { semanticSimilarity } from '../eval/similarity';
import { encodeSegments } from '../data/encode';
import { parseDataset } from '../data/parse';
import { chatTemplateOf, trialRender } from '../data/chatTemplate';
import { tokenizerFromJson, type Tokenizer } from '../data/tokenizer';
import type { Segment, TokenizeSettings } from '../data/types';

type Ctx = JobContext<DataEvent>;

/** Distinct segment texts remembered: two per row for a 1,000,000-row Q&A set. */
const MEMO_LIMIT = 2_000_000;
const PROGRESS_EVERY = 2_000;

export class DataService {
  private tokenizer: Promise<Tokenizer> | null = null;
  private readonly memo = new Map<string, number>();

  constructor(private readonly loadTokenizer: () => Promise<Tokenizer>) {}

  handle<K extends keyof DataRequests>(kind: K, params: DataRequests[K]['params'], ctx: Ctx): Promise<DataRequests[K]['result']> {
    const jobs: { [P in keyof DataRequests]: (p: DataRequests[P]['params'], c: Ctx) => Promise<DataRequests[P]['result']> } = {
      parse: (p, c) =>
        parseDataset(p.source, {
          name: p.name,
          format: p.format,
          signal: c.signal,
          onProgress: (progress) => c.emit({ type: 'parseProgress', requestId: c.requestId, progress }),
        }),
      measure: (p, c) => this.measure(p.items, c),
      tokenView: (p) => this.tokenView(p.segments, p.settings),
      similarity: (p, c) => semanticSimilarity(p.outputs, p.targets, { signal: c.signal }),
      useTokenizer: async (p) => {
        // Counts remembered for the old tokenizer would be wrong for the new one.
        this.memo.clear();
        this.tokenizer = p.source ? Promise.resolve(tokenizerFromJson(p.source.tokenizerJson, p.source.tokenizerConfig)) : null;
        const chat = p.source ? chatTemplateOf(p.source.tokenizerConfig) : null;
        const chatProblem = chat ? trialRender(chat) : null;
        return { chat: chatProblem ? null : chat, chatProblem };
      },
    };
    return (jobs[kind] as (p: DataRequests[K]['params'], c: Ctx) => Promise<DataRequests[K]['result']>)(params, ctx);
  }

  private tok(): Promise<Tokenizer> {
    this.tokenizer ??= this.loadTokenizer().catch((e) => {
      this.tokenizer = null; // let the next request try again
      throw new Error(`the tokenizer did not load (${(e as Error).message}): reload the page`);
    });
    return this.tokenizer;
  }

  private async measure(items: Segment[][], ctx: Ctx): Promise<{ lengths: Int32Array }> {
    const tok = await this.tok();
    const lengths = new Int32Array(items.length); // (N) tokens per example, EOS not counted
    for (let i = 0; i < items.length; i++) {
      let n = 0;
      for (const s of items[i]) {
        let k = this.memo.get(s.text);
        if (k === undefined) {
          k = tok.encode(s.text).length;
          if (this.memo.size >= MEMO_LIMIT) this.memo.clear();
          this.memo.set(s.text, k);
        }
        n += k;
      }
      lengths[i] = n;
      if ((i + 1) % PROGRESS_EVERY === 0) {
        ctx.emit({ type: 'measureProgress', requestId: ctx.requestId, done: i + 1, total: items.length });
        await yieldToCancel(ctx.signal);
      }
    }
    return { lengths };
  }

  private async tokenView(segments: Segment[], settings: TokenizeSettings): Promise<TokenView> {
    const tok = await this.tok();
    const full = encodeSegments(segments, tok, { ...settings, maxLength: Number.MAX_SAFE_INTEGER });
    const kept = encodeSegments(segments, tok, settings);
    // Kept tokens are a contiguous run of the full sequence: its head (right truncation) or its tail (left).
    const offset = settings.truncation === 'left' ? full.ids.length - kept.ids.length : 0;
    // Only VIEW_DROPPED_TOKENS dropped tokens next to the cut travel; the far ones are counted.
    const from = Math.max(0, offset - VIEW_DROPPED_TOKENS);
    const to = Math.min(full.ids.length, offset + kept.ids.length + VIEW_DROPPED_TOKENS);
    const ids = full.ids.slice(from, to);
    const pieces = tok.pieces(ids);
    return {
      tokens: ids.map((id, j) => {
        const k = from + j - offset;
        const isKept = k >= 0 && k < kept.ids.length;
        const piece = pieces[j];
        return { id, text: tok.decode([id]), piece, special: id === tok.eosTokenId || /^<\|.*\|>$/.test(piece), loss: isKept && kept.loss[k] === 1, kept: isKept };
      }),
      omitted: full.ids.length - ids.length,
      fullLength: full.ids.length,
      truncated: kept.truncated,
    };
  }
}

/** Lets a cancel message in between chunks of work. */
async function yieldToCancel(signal: AbortSignal): Promise<void> {
  await new Promise((r) => setTimeout(r, 0));
  if (signal.aborted) throw new DOMException('cancelled', 'AbortError');
}
