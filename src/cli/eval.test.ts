/** `npm run cli -- eval`, run as a user runs it, in a child process. */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TAG_ORDER } from '../eval/errorTags';
import { REPO_ROOT, writeTinyModelDir } from '../testing/tinyModel';

const TSX = path.join(REPO_ROOT, 'node_modules/.bin/tsx');
const cli = (...args: string[]) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(TSX, ['src/cli/main.ts', ...args], { cwd: REPO_ROOT, timeout: 120_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });

const TIMEOUT = 120_000;
let dir: string;
let model: string;
let data: string;
let rows: { question: string; answer: string }[];

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'neox-eval-cli-'));
  model = path.join(dir, 'model');
  writeTinyModelDir(model, { std: 0.2 }); // std 0.2: greedy choices do not hinge on round-off
  data = path.join(dir, 'lamini.jsonl');
  const lines = readFileSync(path.join(REPO_ROOT, 'fixtures/data/course/lamini_docs.jsonl'), 'utf8').split('\n').slice(0, 12);
  rows = lines.map((l) => JSON.parse(l));
  writeFileSync(data, `${lines.join('\n')}\n`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('cli eval', () => {
  it(
    'prints one summary line, writes one JSONL row per example, and answers as the generate command does',
    async () => {
      const out = path.join(dir, 'rows.jsonl');
      const r = await cli('eval', '--model', model, '--data', data, '--limit', '4', '--out', out, '--max-new-tokens', '8');
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines).toHaveLength(1);
      const s = JSON.parse(lines[0]);
      expect(Object.keys(s)).toEqual(['n', 'exact_match', 'token_f1', 'rouge_l', 'eval_loss', 'perplexity', 'tokens_per_s', 'tags']);
      expect(s.n).toBe(4);
      expect(s.eval_loss).toBeGreaterThan(5); // a random model: near ln(50304) ≈ 10.8
      expect(s.perplexity).toBeCloseTo(Math.exp(s.eval_loss), 6);
      expect(Object.keys(s.tags)).toEqual([...TAG_ORDER]);
      expect(s.tags['no-stop']).toBe(4); // 8 tokens are never enough for a random model to stop

      const written = readFileSync(out, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
      expect(written.map((w) => w.id)).toEqual(['1', '2', '3', '4']); // line numbers in the file
      expect(written[0].prompt).toBe(`### Question:\n${rows[0].question}\n\n### Answer:`);
      expect(written.map((w) => w.target)).toEqual(rows.slice(0, 4).map((x) => x.answer));
      const m = written.map((w) => w.models.model);
      expect(m.every((x) => x.new_tokens === 8 && x.stop === 'length' && x.target_tokens > 0)).toBe(true);
      // The summary's loss is the token-weighted mean of the rows'.
      const tokens = m.reduce((n, x) => n + x.target_tokens, 0);
      expect(s.eval_loss).toBeCloseTo(m.reduce((n, x) => n + x.target_loss * x.target_tokens, 0) / tokens, 6);

      const g = await cli('generate', '--model', model, '--prompt', written[0].prompt, '--max-new-tokens', '8');
      expect(g.code).toBe(0);
      expect(g.stdout).toBe(`${m[0].output}\n`);
    },
    TIMEOUT,
  );

  it(
    'applies --template to CSV data too',
    async () => {
      const csv = path.join(dir, 'qa.csv');
      writeFileSync(csv, 'question,answer\n"Capital of France, please?","Paris, of course."\nWho wrote Hamlet?,Shakespeare\n');
      const out = path.join(dir, 'csv.jsonl');
      const r = await cli('eval', '--model', model, '--data', csv, '--template', 'alpaca', '--out', out, '--max-new-tokens', '2');
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).n).toBe(2);
      const written = readFileSync(out, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
      expect(written.map((w) => w.id)).toEqual(['2', '3']); // line 1 is the header
      expect(written[0].prompt).toMatch(/^Below is an instruction.*\n\n### Instruction:\nCapital of France, please\?\n\n### Response:$/s);
      expect(written[0].target).toBe('Paris, of course.');
    },
    TIMEOUT,
  );

  it(
    'bad arguments say what to do',
    async () => {
      const text = path.join(dir, 'notes.txt');
      writeFileSync(text, 'Just some notes.\nNo questions here.\n');
      const [noData, badLimit, badTemplate, badTokens, plain, missing] = await Promise.all([
        cli('eval', '--model', model),
        cli('eval', '--model', model, '--data', data, '--limit', '0'),
        cli('eval', '--model', model, '--data', data, '--template', 'custom'),
        cli('eval', '--model', model, '--data', data, '--max-new-tokens', '0'),
        cli('eval', '--model', model, '--data', text),
        cli('eval', '--model', model, '--data', path.join(dir, 'nope.jsonl')),
      ]);
      expect([noData.code, badLimit.code, badTemplate.code, badTokens.code]).toEqual([2, 2, 2, 2]);
      expect(noData.stderr).toMatch(/--data FILE is required/);
      expect(badLimit.stderr).toMatch(/--limit must be at least 1/);
      expect(badTemplate.stderr).toMatch(/--template must be one of plain, qa, alpaca, llama2, model, got "custom"/);
      expect(badTokens.stderr).toMatch(/--max-new-tokens must be at least 1/);
      expect(plain.code).toBe(1);
      expect(plain.stderr).toMatch(/is plain text: evaluation needs a prompt and an answer per row/);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/data file .*nope\.jsonl does not exist/);
      for (const r of [noData, badLimit, badTemplate, badTokens, plain, missing]) expect(r.stderr.trim().split('\n')).toHaveLength(1);
    },
    TIMEOUT,
  );
});
