/**
 * Data pipeline benchmarks, run in a worker as the studio's data worker would: parse a JSONL of
 * 50,000 Alpaca-sized rows, then render, tokenize and batch them for training.
 */
import { batchesOf } from '../data/batch';
import { DEFAULT_TOKENIZE } from '../data/defaults';
import { encodeSegments } from '../data/encode';
import { mapRows } from '../data/mapping';
import { parseDataset } from '../data/parse';
import { renderSegments } from '../data/templates';
import type { Tokenizer } from '../data/tokenizer';
import type { EncodedExample, Row } from '../data/types';
import type { BenchLine } from './benchmarks';

export const DATA_BENCH_EXAMPLES = 50_000;
const BATCH = 8;

/**
 * Rows repeated from the fixture, each made unique (a copy number in the instruction) so no
 * whole-text cache can skip work; word-level caches still hit, as they would on real data.
 */
export function repeatedRows(base: Row[], n: number): Row[] {
  return Array.from({ length: n }, (_, i) => {
    const r = base[i % base.length];
    return { ...r, instruction: `${String(r.instruction)} (copy ${Math.floor(i / base.length)})` };
  });
}

export async function runDataBenchmarks(tokenizer: Tokenizer, base: Row[], emit: (line: BenchLine) => void): Promise<void> {
  const rows = repeatedRows(base, DATA_BENCH_EXAMPLES);
  const jsonl = rows.map((r) => JSON.stringify(r)).join('\n');
  const blob = new Blob([jsonl]);

  let t0 = performance.now();
  const parsed = await parseDataset(blob, { name: 'bench.jsonl' });
  const parseS = (performance.now() - t0) / 1000;
  emit({ figure: 'data_parse_jsonl_mb_per_s', value: +(blob.size / 1e6 / parseS).toFixed(1), rows: parsed.rows.length, mb: +(blob.size / 1e6).toFixed(1) });

  t0 = performance.now();
  const { examples } = mapRows(parsed.rows, { kind: 'alpaca', fields: { instruction: 'instruction', input: 'input', output: 'output' } });
  const encoded: EncodedExample[] = [];
  let tokens = 0;
  for (const e of examples) {
    if (!e) continue;
    const enc = encodeSegments(renderSegments(e, { id: 'alpaca', custom: '' }, 'alpaca'), tokenizer, DEFAULT_TOKENIZE);
    tokens += enc.ids.length;
    encoded.push(enc);
  }
  let batches = 0;
  for (const b of batchesOf(encoded, BATCH, tokenizer.eosTokenId, DEFAULT_TOKENIZE)) batches += b.B > 0 ? 1 : 0;
  const s = (performance.now() - t0) / 1000;
  emit({
    figure: 'data_tokenize_batch_examples_per_s',
    value: Math.round(encoded.length / s),
    examples: encoded.length,
    tokens_per_s: Math.round(tokens / s),
    mean_tokens: +(tokens / encoded.length).toFixed(1),
    batches,
    batch_size: BATCH,
    seconds: +s.toFixed(2),
  });
}
