import { readFileSync } from 'node:fs';
import Papa from 'papaparse';
import { describe, expect, it } from 'vitest';
import { repoFile } from '../testing/dataTesting';
import type { EvalExample, EvalOutput } from './batchEval';
import { evalExampleOf, guardrailAnswersOf, meanTargetLoss, reportCsv, reportJsonl, scoreRow, summarize } from './report';

const REFUSAL = 'Let’s keep the discussion relevant to Lamini.';

const out = (text: string, patch: Partial<EvalOutput> = {}): EvalOutput => ({ text, reason: 'eos', newTokens: 1, ms: 10, targetLoss: 1, targetTokens: 1, ...patch });

// Four rows whose scores are worked out by hand below.
const EXAMPLES: EvalExample[] = [
  { id: 'a', prompt: 'What is the capital of France?', target: 'The capital is Paris' },
  { id: 'b', prompt: 'Capital of France, one word:', target: 'Paris' },
  { id: 'c', prompt: 'What is the capital of Germany?', target: 'Berlin is the capital of Germany.' },
  { id: 'd', prompt: 'Say something.', target: 'Something.' },
];
const OUTPUTS: EvalOutput[] = [
  out('Paris is the capital', { newTokens: 4, ms: 100, targetLoss: 2, targetTokens: 3 }),
  out('  Paris ', { newTokens: 1, ms: 50, targetLoss: 1, targetTokens: 1 }),
  out(REFUSAL, { reason: 'length', newTokens: 9, ms: 150, targetLoss: null, targetTokens: 0 }),
  out('', { reason: 'length', newTokens: 16, ms: 200, targetLoss: 4, targetTokens: 4 }),
];

describe('scoreRow', () => {
  it('scores hand-computed rows', () => {
    // a: SQuAD tokens {paris, is, capital} on both sides → F1 1; ROUGE tokens "paris is the capital"
    // vs "the capital is paris" share the subsequence "the capital" → P = R = 2/4.
    expect(scoreRow(EXAMPLES[0], OUTPUTS[0], [])).toEqual({ exact: 0, f1: 1, rougeL: 0.5, tags: [] });
    // b: equal after trimming.
    expect(scoreRow(EXAMPLES[1], OUTPUTS[1], [])).toEqual({ exact: 1, f1: 1, rougeL: 1, tags: [] });
    // c: a refusal for a real question, cut at the token limit. SQuAD drops "the", ROUGE keeps it:
    // LCS 1 of 8 output tokens (let, s, keep, the, …) and 6 target tokens → 2·(1/8)(1/6)/(1/8 + 1/6) = 1/7.
    const c = scoreRow(EXAMPLES[2], OUTPUTS[2], [REFUSAL]);
    expect(c).toMatchObject({ exact: 0, f1: 0, tags: ['no-stop', 'off-topic'] });
    expect(c.rougeL).toBeCloseTo(1 / 7, 12);
    expect(scoreRow(EXAMPLES[2], OUTPUTS[2], []).tags).toEqual(['no-stop']); // no guardrail answers, no off-topic
    // d: nothing generated.
    expect(scoreRow(EXAMPLES[3], OUTPUTS[3], [])).toEqual({ exact: 0, f1: 0, rougeL: 0, tags: ['empty', 'no-stop'] });
  });
});

describe('summarize', () => {
  it('averages the rows, weights the loss by target tokens, and counts every tag', () => {
    const s = summarize(EXAMPLES, OUTPUTS, [REFUSAL]);
    expect(s.n).toBe(4);
    expect(s.exactMatch).toBe(1 / 4);
    expect(s.tokenF1).toBe(2 / 4);
    expect(s.rougeL).toBeCloseTo((0.5 + 1 + 1 / 7) / 4, 12);
    // (2·3 + 1·1 + 4·4) / (3 + 1 + 4); c has no trained token and is left out.
    expect(s.evalLoss).toBeCloseTo(23 / 8, 12);
    expect(s.perplexity).toBeCloseTo(Math.exp(23 / 8), 10);
    expect(s.tokensPerSecond).toBeCloseTo(30 / 0.5, 10);
    expect(s.tagCounts).toEqual({ empty: 1, 'no-stop': 2, repetition: 0, echo: 0, 'off-topic': 1, 'too-long': 0, 'too-short': 0 });
  });

  it('has no loss when no target has a trained token, and refuses misaligned outputs', () => {
    expect(meanTargetLoss([{ targetLoss: null, targetTokens: 0 }])).toBeNull();
    const s = summarize([EXAMPLES[2]], [OUTPUTS[2]], []);
    expect(s.evalLoss).toBeNull();
    expect(s.perplexity).toBeNull();
    expect(summarize([], [], []).n).toBe(0);
    expect(() => summarize(EXAMPLES, OUTPUTS.slice(1), [])).toThrow(/3 outputs for 4 examples/);
  });
});

describe('guardrailAnswersOf', () => {
  const long = Array.from({ length: 30 }, (_, i) => `word${i}`).join(' ');

  it('keeps short answers repeated verbatim (after whitespace normalisation) minCount+ times, most frequent first', () => {
    const targets = [REFUSAL, `  ${REFUSAL.replace(' ', '\n ')} `, 'Bye!', REFUSAL, 'Bye!', 'Paris', long, long, long, long];
    expect(guardrailAnswersOf(targets)).toEqual([REFUSAL]); // the 30-word answer repeats but is no refusal
    expect(guardrailAnswersOf(targets, 2)).toEqual([REFUSAL, 'Bye!']);
    expect(guardrailAnswersOf(['', '', ''])).toEqual([]);
  });

  it('finds the course data’s canned replies', () => {
    const targets = readFileSync(repoFile('fixtures/data/course/lamini_docs.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => (JSON.parse(l) as { answer: string }).answer);
    const g = guardrailAnswersOf(targets);
    expect(g.slice(0, 3)).toEqual([REFUSAL, 'I wish! This documentation only talks about Lamini’s LLM Engine.', 'I’m having trouble understanding you. Can you try again?']);
    expect(g).toHaveLength(8);
    expect(g.some((a) => a.startsWith('Lamini offers free credits'))).toBe(false);
  });
});

describe('evalExampleOf', () => {
  it('splits at the last trained segment; plain text has no prompt', () => {
    expect(evalExampleOf('1', [{ text: '### Question:\nHi?\n\n### Answer:', train: false }, { text: 'Hello.', train: true }])).toEqual({
      id: '1',
      prompt: '### Question:\nHi?\n\n### Answer:',
      target: 'Hello.',
    });
    const chat = [
      { text: '[INST] Hi [/INST]', train: false },
      { text: ' Hello.', train: true },
      { text: '\n\n[INST] And you? [/INST]', train: false },
      { text: ' Fine.', train: true },
    ];
    expect(evalExampleOf('2', chat)).toEqual({ id: '2', prompt: '[INST] Hi [/INST] Hello.\n\n[INST] And you? [/INST]', target: ' Fine.' });
    expect(evalExampleOf('3', [{ text: 'Just text.', train: true }])).toBeNull();
    expect(evalExampleOf('4', [{ text: 'Only a prompt', train: false }])).toBeNull();
  });
});

describe('reportCsv / reportJsonl', () => {
  const tricky: EvalExample[] = [
    { id: 'q1', prompt: 'Say "hi", then\nstop', target: 'hi, "there"' },
    { id: 'q2', prompt: 'Plain', target: 'Answer\r\nwith CRLF' },
  ];
  const byModel = {
    base: [out('hi, "there"'), out('line 1\nline, 2', { reason: 'length' })],
    'run, 1': [out('""'), out('Answer\r\nwith CRLF', { reason: 'stop' })],
  };

  it('CSV: the header names each model’s columns, and every text survives a Papa.parse round trip', () => {
    const csv = reportCsv(tricky, byModel, { q2: 'good, "mostly"' });
    const parsed = Papa.parse<string[]>(csv, { skipEmptyLines: true });
    expect(parsed.errors).toEqual([]);
    const [header, ...rows] = parsed.data;
    expect(header).toEqual([
      'id', 'prompt', 'target',
      'base output', 'base exact', 'base f1', 'base rougeL', 'base tags', 'base stop',
      'run, 1 output', 'run, 1 exact', 'run, 1 f1', 'run, 1 rougeL', 'run, 1 tags', 'run, 1 stop',
      'rating',
    ]);
    expect(rows).toHaveLength(2);
    expect(rows[0].slice(0, 4)).toEqual(['q1', 'Say "hi", then\nstop', 'hi, "there"', 'hi, "there"']);
    expect(rows[0].slice(4, 9)).toEqual(['1', '1', '1', '', 'eos']);
    expect(rows[0][9]).toBe('""');
    expect(rows[0][15]).toBe('');
    expect(rows[1][2]).toBe('Answer\r\nwith CRLF');
    expect(rows[1][3]).toBe('line 1\nline, 2');
    expect(rows[1][8]).toBe('length');
    expect(rows[1][9]).toBe('Answer\r\nwith CRLF');
    expect(rows[1][10]).toBe('1');
    expect(rows[1][15]).toBe('good, "mostly"');
  });

  it('CSV: outputs that a spreadsheet would run as formulas are prefixed with a quote, multi-line ones too', () => {
    const texts = ['=HYPERLINK("http://x","y")', '+1', '-sum', '@cmd', '=1+1\nsecond line', 'a = b'];
    const examples = texts.map((_, i) => ({ ...tricky[0], id: `f${i}` }));
    const outputs = { base: texts.map((text) => ({ ...byModel.base[0], text })) };
    const rows = Papa.parse<string[]>(reportCsv(examples, outputs), { skipEmptyLines: true }).data.slice(1);
    expect(rows.map((r) => r[3])).toEqual(["'=HYPERLINK(\"http://x\",\"y\")", "'+1", "'-sum", "'@cmd", "'=1+1\nsecond line", 'a = b']);
  });

  it('JSONL: one object per example and line, with every model’s scores', () => {
    const text = reportJsonl(tricky, byModel, { q1: 'bad' });
    expect(text.endsWith('\n')).toBe(true);
    const lines = text.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toEqual({
      id: 'q1',
      prompt: 'Say "hi", then\nstop',
      target: 'hi, "there"',
      models: {
        base: { output: 'hi, "there"', exact: 1, f1: 1, rouge_l: 1, tags: [], stop: 'eos', new_tokens: 1, ms: 10, target_loss: 1, target_tokens: 1 },
        'run, 1': { output: '""', exact: 0, f1: 0, rouge_l: 0, tags: [], stop: 'eos', new_tokens: 1, ms: 10, target_loss: 1, target_tokens: 1 },
      },
      rating: 'bad',
    });
    expect(lines[1].rating).toBeNull();
    expect(lines[1].models['run, 1']).toMatchObject({ output: 'Answer\r\nwith CRLF', exact: 1, stop: 'stop' });
    expect(() => reportJsonl(tricky, { base: byModel.base.slice(0, 1) })).toThrow(/model "base": 1 outputs for 2 examples/);
  });
});
