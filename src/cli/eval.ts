/**
 * `npm run cli -- eval`: batch evaluation of a model folder on a data file, as the Evaluate tab
 * runs it: greedy answers scored against the file's answers (exact match, token F1, ROUGE-L, error
 * tags) and the loss of those answers. Prints one JSON line; --out FILE writes one JSONL row per example.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_TOKENIZE } from '../data/defaults';
import { detectMapping, mapRows } from '../data/mapping';
import { parseDataset } from '../data/parse';
import { renderSegments, TEMPLATES } from '../data/templates';
import type { TemplateId, TemplateSpec } from '../data/types';
import { DEFAULT_EVAL_SAMPLING, evaluateExamples, type EvalExample } from '../eval/batchEval';
import { evalExampleOf, guardrailAnswersOf, reportJsonl, summarize } from '../eval/report';
import { decodingModel, int, readModelDir, readTokenizer, templateSpec, UsageError } from './common';

export const EVAL_USAGE = `  npm run cli -- eval --model DIR --data FILE [--template plain|qa|alpaca|llama2|model] [--limit N] [--out FILE.jsonl]
                     [--max-new-tokens N] [--max-length L]`;

/** --limit, --out, --max-new-tokens and the train options it shares are declared by the other commands. */
export const EVAL_OPTIONS = ['data', 'template', 'limit', 'max-length'];

const BUILTIN = TEMPLATES.map((t) => t.id).filter((t) => t !== 'custom');

/**
 * Every usable row of FILE through the Data tab's pipeline (parse, detect the mapping, template),
 * split into prompt and answer; ids are the rows' line numbers in the file. Rows that render with
 * no prompt (plain text) cannot be asked anything and are skipped.
 */
async function readExamples(file: string, template: TemplateSpec): Promise<EvalExample[]> {
  if (!existsSync(file)) throw new Error(`data file ${file} does not exist`);
  const parsed = await parseDataset(new Blob([readFileSync(file)]), { name: path.basename(file) });
  if (parsed.issues.length) {
    const first = parsed.issues[0];
    process.stderr.write(`warning: ${parsed.issues.length} bad line(s) skipped, the first at line ${first.line}: ${first.message}\n`);
  }
  const mapping = detectMapping(parsed.rows);
  if (!mapping) throw new Error(`${file}: no known fields (question/answer, instruction/output, prompt/completion, input/output, messages): rename the fields`);
  if (mapping.kind === 'text') throw new Error(`${file} is plain text: evaluation needs a prompt and an answer per row (question/answer, instruction/output, prompt/completion…)`);
  const { examples, issues } = mapRows(parsed.rows, mapping);
  if (issues.length) process.stderr.write(`warning: ${issues.length} row(s) skipped, e.g. row ${issues[0].row + 1}: ${issues[0].message}\n`);
  const usable = examples.flatMap((e, i) => (e ? [{ e, line: parsed.rowLines[i] }] : []));
  const out = usable.flatMap(({ e, line }) => evalExampleOf(String(line), renderSegments(e, template, mapping.kind)) ?? []);
  if (out.length === 0) throw new Error(`${file}: no row has both a prompt and an answer`);
  if (out.length < usable.length) process.stderr.write(`warning: ${usable.length - out.length} row(s) without a prompt skipped\n`);
  return out;
}

export async function evalCmd(v: Record<string, string | undefined>): Promise<void> {
  if (!v.data) throw new UsageError('--data FILE is required (JSONL, JSON or CSV with prompts and answers)');
  const template = v.template ?? 'qa';
  if (!(BUILTIN as string[]).includes(template)) throw new UsageError(`--template must be one of ${BUILTIN.join(', ')}, got "${template}"`);
  const limit = v.limit === undefined ? undefined : int(v.limit, '--limit', 0);
  if (limit !== undefined && limit < 1) throw new UsageError(`--limit must be at least 1, got "${v.limit}"`);
  const maxNewTokens = int(v['max-new-tokens'], '--max-new-tokens', DEFAULT_EVAL_SAMPLING.maxNewTokens);
  if (maxNewTokens < 1) throw new UsageError(`--max-new-tokens must be at least 1, got "${v['max-new-tokens']}"`);
  const tokenize = { ...DEFAULT_TOKENIZE, maxLength: int(v['max-length'], '--max-length', DEFAULT_TOKENIZE.maxLength) };
  const model = readModelDir(v.model);
  const tokenizer = readTokenizer(v.model!, model.config.vocabSize);
  const all = await readExamples(v.data, templateSpec(template as TemplateId, v.model!));
  // Canned refusals are found in the whole file: a --limit sample may hold too few of each.
  const guardrails = guardrailAnswersOf(all.map((e) => e.target));
  const examples = all.slice(0, limit);
  const ctx = decodingModel(model);
  const outputs = await evaluateExamples(ctx, tokenizer, examples, { sampling: { ...DEFAULT_EVAL_SAMPLING, maxNewTokens }, tokenize });
  const s = summarize(examples, outputs, guardrails);
  if (v.out) writeFileSync(v.out, reportJsonl(examples, { [path.basename(path.resolve(v.model!))]: outputs }, {}, guardrails));
  const summary = {
    n: s.n,
    exact_match: s.exactMatch,
    token_f1: s.tokenF1,
    rouge_l: s.rougeL,
    eval_loss: s.evalLoss,
    perplexity: s.perplexity,
    tokens_per_s: s.tokensPerSecond,
    tags: s.tagCounts,
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}
