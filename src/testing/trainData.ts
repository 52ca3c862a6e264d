/** The course data, through the real pipeline, encoded for the trainer (unit tests of training). */
import { readFileSync } from 'node:fs';
import { encodeSegments } from '../data/encode';
import { detectMapping, mapRows, rejectedExample } from '../data/mapping';
import { splitIds } from '../data/split';
import { renderSegments } from '../data/templates';
import type { MappedExample, Row } from '../data/types';
import type { EncodedSplits } from '../train/trainer';
import { pythiaTokenizer, repoFile } from './dataTesting';

/** lamini_docs.jsonl → Q&A template → Pythia tokens; `limit` rows, split 90/10 with seed 42. */
export function laminiTrainData(opts: { limit?: number; maxLength?: number } = {}): EncodedSplits {
  const rows = readFileSync(repoFile('fixtures/data/course/lamini_docs.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .slice(0, opts.limit ?? 1400)
    .map((l) => JSON.parse(l) as Row);
  const mapping = detectMapping(rows)!;
  const { examples } = mapRows(rows, mapping);
  const tok = pythiaTokenizer();
  const maxLength = opts.maxLength ?? 64;
  const settings = { maxLength, truncation: 'right' as const, padding: 'longest' as const, appendEos: true, lossOn: 'completion' as const };
  const encoded = examples.map((e) => encodeSegments(renderSegments(e!, { id: 'qa', custom: '' }, mapping.kind), tok, settings));
  const { train, test } = splitIds(
    encoded.map((_, i) => i),
    { seed: 42, testFraction: 0.1 },
  );
  return { train: train.map((i) => encoded[i]), test: test.map((i) => encoded[i]), maxLength, padId: tok.eosTokenId };
}

/**
 * Preference pairs from lamini_docs through the real pipeline (detected as prompt / chosen /
 * rejected, the plain template): each question, its own answer as the chosen one and the next
 * row's answer as the rejected one.
 */
export function laminiPreferenceData(opts: { limit?: number; maxLength?: number } = {}): EncodedSplits {
  const qa = readFileSync(repoFile('fixtures/data/course/lamini_docs.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .slice(0, opts.limit ?? 200)
    .map((l) => JSON.parse(l) as { question: string; answer: string });
  const rows: Row[] = qa.map((r, i) => ({ prompt: `${r.question}\n`, chosen: r.answer, rejected: qa[(i + 1) % qa.length].answer }));
  const mapping = detectMapping(rows)!;
  const { examples } = mapRows(rows, mapping);
  const tok = pythiaTokenizer();
  const maxLength = opts.maxLength ?? 64;
  const settings = { maxLength, truncation: 'right' as const, padding: 'longest' as const, appendEos: true, lossOn: 'completion' as const };
  const spec = { id: 'plain' as const, custom: '' };
  const encode = (e: MappedExample) => encodeSegments(renderSegments(e, spec, mapping.kind), tok, settings);
  const { train, test } = splitIds(
    examples.map((_, i) => i),
    { seed: 42, testFraction: 0.1 },
  );
  const side = (ids: number[], pick: (e: MappedExample) => MappedExample) => ids.map((i) => encode(pick(examples[i]!)));
  return {
    train: side(train, (e) => e),
    test: side(test, (e) => e),
    rejected: { train: side(train, rejectedExample), test: side(test, rejectedExample) },
    maxLength,
    padId: tok.eosTokenId,
  };
}
