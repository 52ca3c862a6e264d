/**
 * `npm run cli -- arc`: ARC multiple-choice accuracy (lm-evaluation-harness's log-likelihood
 * scoring, see src/eval/arc.ts) of a model folder on an ai2_arc JSONL file. Prints one JSON line.
 */
import { existsSync, readFileSync } from 'node:fs';
import { evaluateArc, parseArc } from '../eval/arc';
import { int, readModelDir, readTokenizer, UsageError } from './common';

export const ARC_USAGE = '  npm run cli -- arc --model DIR --data FILE.jsonl [--limit N]   (ai2_arc rows: id, question, choices {text, label}, answerKey)';

export const ARC_OPTIONS = ['limit'];

export async function arcCmd(v: Record<string, string | undefined>): Promise<void> {
  if (!v.data) throw new UsageError('--data FILE.jsonl is required (ai2_arc rows: id, question, choices {text, label}, answerKey)');
  const limit = v.limit === undefined ? undefined : int(v.limit, '--limit', 0);
  if (limit !== undefined && limit < 1) throw new UsageError(`--limit must be at least 1, got "${v.limit}"`);
  if (!existsSync(v.data)) throw new Error(`data file ${v.data} does not exist`);
  const { docs, problems } = parseArc(readFileSync(v.data, 'utf8'));
  // Skipping a doc changes what the accuracy means: refuse rather than score a different set.
  if (problems.length) throw new Error(`${v.data}: ${problems.length} bad line(s), the first ${problems[0]}: fix or remove them`);
  const model = readModelDir(v.model);
  const tokenizer = readTokenizer(v.model!, model.config.vocabSize);
  const r = await evaluateArc(model, tokenizer, docs, { limit });
  process.stdout.write(`${JSON.stringify({ acc: r.acc, acc_norm: r.acc_norm, n: r.n })}\n`);
}
