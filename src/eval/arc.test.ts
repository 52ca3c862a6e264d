/**
 * ARC scoring: parsing, lm-eval's pair encoding, the acc/acc_norm choice, the log-likelihoods
 * against the float64 PyTorch reference (scripts/arc_reference.py → fixtures/eval/arc-golden.json),
 * and the `arc` command end to end.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenizerFromJson } from '../data/tokenizer';
import { loadModel, type LoadedModel } from '../model/checkpoint';
import { FIXTURES_DIR, loadFixture, startTestBackend } from '../testing/fixtures';
import { bundledTokenizerJson, REPO_ROOT, writeTinyModelDir } from '../testing/tinyModel';
import { arcContext, arcGold, encodePair, evaluateArc, parseArc, predictions, scoreIds, type ArcDoc } from './arc';

interface TokensDoc {
  id: string;
  context: number[];
  continuations: number[][];
  choices: string[];
  gold: number;
}
interface GoldenDoc {
  id: string;
  scores: number[];
  pred: number;
  pred_norm: number;
  gold: number;
}

const EVAL_DIR = path.join(FIXTURES_DIR, 'eval');
const SAMPLE = path.join(EVAL_DIR, 'arc-easy-sample.jsonl');
const tokens = (JSON.parse(readFileSync(path.join(EVAL_DIR, 'arc-tokens.json'), 'utf8')) as { docs: TokensDoc[] }).docs;
const golden = JSON.parse(readFileSync(path.join(EVAL_DIR, 'arc-golden.json'), 'utf8')) as { acc: number; acc_norm: number; docs: GoldenDoc[] };

describe('parseArc', () => {
  it('reads the sample, numeric labels included, with gold as the index of answerKey', () => {
    const { docs, problems } = parseArc(readFileSync(SAMPLE, 'utf8'));
    expect(problems).toEqual([]);
    expect(docs).toHaveLength(20);
    const numeric = docs.find((d) => d.choices.label[0] === '1')!;
    expect(numeric.id).toBe('NYSEDREGENTS_2014_8_10');
    expect(arcGold(numeric)).toBe(numeric.choices.label.indexOf(numeric.answerKey));
    expect(arcGold(docs[0])).toBe(0); // answerKey "A"
  });

  it('reports every bad line by number and keeps the good ones', () => {
    const good = { id: 'x', question: 'q?', choices: { text: ['a', 'b'], label: ['1', '2'] }, answerKey: '2' };
    const text = [
      JSON.stringify(good),
      '{not json',
      JSON.stringify({ ...good, answerKey: 'C' }),
      '',
      JSON.stringify({ ...good, choices: { text: ['a'], label: ['1', '2'] } }),
    ].join('\n');
    const { docs, problems } = parseArc(text);
    expect(docs).toEqual([good]);
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/^line 2: not valid JSON/);
    expect(problems[1]).toMatch(/^line 3: answerKey "C" is not one of the labels 1, 2/);
    expect(problems[2]).toMatch(/^line 5: "choices"/);
  });
});

describe('encodePair (lm-eval _encode_pair)', () => {
  // A stand-in tokenizer that merges a leading space into the next word, as BPE does: the rule is what is tested.
  const words = { encode: (s: string) => (s.match(/ ?\S+|\s+/g) ?? []).map((w) => w.length) };

  it('moves the context’s trailing whitespace to the start of the continuation', () => {
    expect(encodePair(words, 'Answer: ', 'yes')).toEqual({ context: [7], continuation: [4] }); // "Answer:" | " yes"
    expect(encodePair(words, 'Answer:', ' yes')).toEqual({ context: [7], continuation: [4] });
  });

  it('with the Pythia tokenizer the continuation is the whole encoding after the context’s', () => {
    const tok = tokenizerFromJson(bundledTokenizerJson());
    const { context, continuation } = encodePair(tok, 'Question: Which is hot?\nAnswer:', ' the Sun');
    expect([...context, ...continuation]).toEqual(tok.encode('Question: Which is hot?\nAnswer: the Sun'));
    expect(tok.decode(continuation)).toBe(' the Sun');
  });

  it('reproduces the token ids the reference was given (fixtures/eval/arc-tokens.json)', () => {
    const tok = tokenizerFromJson(bundledTokenizerJson());
    const docs = parseArc(readFileSync(SAMPLE, 'utf8')).docs;
    for (const t of tokens.filter((d) => !d.id.startsWith('truncated:'))) {
      const doc = docs.find((d) => d.id === t.id)!;
      const pairs = doc.choices.text.map((c) => encodePair(tok, arcContext(doc), ` ${c}`));
      expect(pairs.map((p) => p.context)).toEqual(pairs.map(() => t.context));
      expect(pairs.map((p) => p.continuation)).toEqual(t.continuations);
      expect(arcGold(doc)).toBe(t.gold);
    }
  });
});

describe('acc / acc_norm choice', () => {
  it('acc takes the largest sum; acc_norm divides by the choice text’s length in characters', () => {
    // Sums: the short choice wins (-2 > -3); per character the long one does (-3/6 = -0.5 > -2/1).
    expect(predictions([-3, -2], ['aaaaaa', 'b'])).toEqual({ pred: 1, predNorm: 0 });
    // Equal lengths: the normalisation changes nothing.
    expect(predictions([-4, -1, -2], ['ab', 'cd', 'ef'])).toEqual({ pred: 1, predNorm: 1 });
  });

  it('ties go to the first choice (numpy argmax), and length counts code points as Python does', () => {
    expect(predictions([-1, -1], ['a', 'b'])).toEqual({ pred: 0, predNorm: 0 });
    // "🌍" is 2 UTF-16 units but 1 character: -2/1 < -3/2.
    expect(predictions([-2, -3], ['🌍', 'ab'])).toEqual({ pred: 0, predNorm: 1 });
  });
});

describe.each(['cpu', 'wasm'] as const)('against the float64 reference on the %s backend', (backend) => {
  let model: LoadedModel;
  beforeAll(async () => {
    await startTestBackend(backend);
    const f = loadFixture('parallel-rot025-f32');
    model = loadModel(f.configJson, [f.weights]);
  });
  afterAll(() => tf.dispose(Object.values(model.params)));

  it('each choice’s summed log-probability matches within 1e-4 relative (ids mod vocab; one case left-truncated)', async () => {
    const V = model.config.vocabSize;
    expect(tokens.map((d) => d.id)).toEqual(golden.docs.map((d) => d.id));
    expect(tokens.some((d) => d.context.length + 1 > model.config.maxPositions)).toBe(true);
    const before = tf.memory().numTensors;
    let worst = 0;
    for (const [i, d] of tokens.entries()) {
      const scores = await scoreIds(model, d.context.map((id) => id % V), d.continuations.map((c) => c.map((id) => id % V)));
      const ref = golden.docs[i].scores;
      for (const [j, s] of scores.entries()) worst = Math.max(worst, Math.abs(s - ref[j]) / Math.abs(ref[j]));
      const p = predictions(scores, d.choices);
      expect([p.pred, p.predNorm]).toEqual([golden.docs[i].pred, golden.docs[i].pred_norm]);
    }
    expect(worst).toBeLessThan(1e-4);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('evaluateArc', () => {
  let tmp: string;
  beforeAll(() => {
    tmp = mkdtempSync(path.join(tmpdir(), 'arc-'));
    writeTinyModelDir(tmp);
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('averages acc and acc_norm over the docs, honours limit, reports progress, and stops on abort', async () => {
    await startTestBackend('cpu');
    const model = loadModel(readFileSync(path.join(tmp, 'config.json'), 'utf8'), [readFileSync(path.join(tmp, 'model.safetensors'))]);
    const tok = tokenizerFromJson(bundledTokenizerJson());
    const docs: ArcDoc[] = parseArc(readFileSync(SAMPLE, 'utf8')).docs;
    const seen: number[] = [];
    const r = await evaluateArc(model, tok, docs, { limit: 3, onProgress: (done) => seen.push(done) });
    expect(r.n).toBe(3);
    expect(seen).toEqual([1, 2, 3]);
    expect(r.acc).toBe(r.perDoc.filter((d) => d.pred === d.gold).length / 3);
    expect(r.acc_norm).toBe(r.perDoc.filter((d) => d.predNorm === d.gold).length / 3);
    expect(r.perDoc.map((d) => d.scores.length)).toEqual(docs.slice(0, 3).map((d) => d.choices.text.length));
    const controller = new AbortController();
    controller.abort();
    await expect(evaluateArc(model, tok, docs, { signal: controller.signal })).rejects.toThrow();
    tf.dispose(Object.values(model.params));
  });

  it('`arc` on the command line prints one JSON line with acc, acc_norm and n', async () => {
    const run = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const tsx = path.join(REPO_ROOT, 'node_modules/.bin/tsx');
      execFile(tsx, ['src/cli/main.ts', 'arc', '--model', tmp, '--data', SAMPLE, '--limit', '5'], { cwd: REPO_ROOT, timeout: 60_000, encoding: 'utf8' }, (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
      );
    });
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const out = JSON.parse(lines[0]) as Record<string, number>;
    expect(Object.keys(out)).toEqual(['acc', 'acc_norm', 'n']);
    expect(out.n).toBe(5);
    for (const k of ['acc', 'acc_norm']) {
      expect(out[k]).toBeGreaterThanOrEqual(0);
      expect(out[k]).toBeLessThanOrEqual(1);
    }
  }, 60_000);
});
