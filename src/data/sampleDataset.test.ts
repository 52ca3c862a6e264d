import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// Vitest runs from the repository root.
const PATH = 'public/datasets/studio-help.jsonl';
const GUARDRAIL = "Let's keep the discussion relevant to NeoX Studio and fine-tuning language models.";

const text = readFileSync(PATH, 'utf8');
const lines = text.split('\n');
if (lines[lines.length - 1] === '') lines.pop();
const rows = lines.map((line, i): unknown => {
  try {
    return JSON.parse(line);
  } catch (e) {
    throw new Error(`${PATH} line ${i + 1} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
});

const normalise = (s: string) => s.trim().toLowerCase().replace(/\s+/g, ' ');

describe('bundled sample dataset', () => {
  it('ends with a newline and has at least 150 rows', () => {
    expect(text.endsWith('\n')).toBe(true);
    expect(rows.length).toBeGreaterThanOrEqual(150);
  });

  it('has only objects with exactly non-empty string question and answer fields', () => {
    rows.forEach((row, i) => {
      expect(row, `line ${i + 1}`).toBeTypeOf('object');
      expect(row, `line ${i + 1}`).not.toBeNull();
      expect(Array.isArray(row), `line ${i + 1}`).toBe(false);
      const r = row as Record<string, unknown>;
      expect(Object.keys(r).sort(), `line ${i + 1}`).toEqual(['answer', 'question']);
      for (const field of ['question', 'answer']) {
        expect(r[field], `line ${i + 1} ${field}`).toBeTypeOf('string');
        expect((r[field] as string).trim(), `line ${i + 1} ${field}`).not.toBe('');
      }
    });
  });

  it('keeps every line within 2,000 characters', () => {
    lines.forEach((line, i) => expect(line.length, `line ${i + 1}`).toBeLessThanOrEqual(2000));
  });

  it('has no duplicate questions (ignoring case and whitespace)', () => {
    const seen = new Map<string, number>();
    rows.forEach((row, i) => {
      const q = normalise((row as { question: string }).question);
      expect(seen.get(q), `line ${i + 1} repeats line ${seen.get(q)}`).toBeUndefined();
      seen.set(q, i + 1);
    });
  });

  it('has at least 10 guardrail rows, all with the exact same sentence', () => {
    const answers = rows.map((row) => (row as { answer: string }).answer);
    expect(answers.filter((a) => a === GUARDRAIL).length).toBeGreaterThanOrEqual(10);
    // Any answer that looks like the guardrail must be exactly it (no near-variants).
    const lookalikes = answers.filter((a) => /keep the discussion relevant/i.test(a));
    expect(lookalikes.every((a) => a === GUARDRAIL)).toBe(true);
  });
});
