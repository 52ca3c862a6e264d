import { describe, expect, it } from 'vitest';
import { toJsonl } from './exportJsonl';
import type { Segment } from './types';

const qa = (q: string, a: string): Segment[] => [
  { text: `### Question:\n${q}\n\n### Answer:`, train: false },
  { text: a, train: true },
];
const lines = (jsonl: string) => jsonl.split('\n').slice(0, -1).map((line) => JSON.parse(line) as Record<string, string>);

describe('toJsonl', () => {
  const items = [qa('Was ist „Lamini“? 🦙', ' Ein Werkzeug.\nZweite Zeile "zitiert"'), qa('Tab\there', ' 日本語')];

  it('writes prompt/completion lines that read back exactly, with a trailing newline', () => {
    const out = toJsonl(items, 'prompt-completion');
    expect(out.endsWith('}\n')).toBe(true);
    expect(out.split('\n')).toHaveLength(3);
    expect(lines(out)).toEqual([
      { prompt: '### Question:\nWas ist „Lamini“? 🦙\n\n### Answer:', completion: ' Ein Werkzeug.\nZweite Zeile "zitiert"' },
      { prompt: '### Question:\nTab\there\n\n### Answer:', completion: ' 日本語' },
    ]);
    expect(out).toContain('🦙'); // non-ASCII kept as is, not \u-escaped
  });

  it('writes the whole rendered text in the text format', () => {
    expect(lines(toJsonl(items, 'text'))).toEqual([{ text: '### Question:\nWas ist „Lamini“? 🦙\n\n### Answer: Ein Werkzeug.\nZweite Zeile "zitiert"' }, { text: '### Question:\nTab\there\n\n### Answer: 日本語' }]);
  });

  it('splits at the first trained segment: later turns stay in the completion, untrained text only is all prompt', () => {
    const chat: Segment[] = [
      { text: 'U: hi\n', train: false },
      { text: 'A: hello\n', train: true },
      { text: 'U: bye\n', train: false },
      { text: 'A: ciao', train: true },
    ];
    expect(lines(toJsonl([chat, [{ text: 'no answer', train: false }], [{ text: 'all answer', train: true }]], 'prompt-completion'))).toEqual([
      { prompt: 'U: hi\n', completion: 'A: hello\nU: bye\nA: ciao' },
      { prompt: 'no answer', completion: '' },
      { prompt: '', completion: 'all answer' },
    ]);
  });

  it('gives an empty string for no examples', () => {
    expect(toJsonl([], 'text')).toBe('');
    expect(toJsonl([], 'prompt-completion')).toBe('');
  });
});
