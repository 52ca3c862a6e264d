import { describe, expect, it } from 'vitest';
import { detectFormat } from './detect';

describe('detectFormat', () => {
  it('goes by extension first', () => {
    expect(detectFormat('a.jsonl', '[1]')).toBe('jsonl');
    expect(detectFormat('a.NDJSON', '')).toBe('jsonl');
    expect(detectFormat('a.json', '[{"a": 1}]')).toBe('json');
    expect(detectFormat('a.csv', '{"a": 1}')).toBe('csv');
    expect(detectFormat('a.tsv', 'x')).toBe('csv');
    expect(detectFormat('a.txt', '{"a": 1}\n{"a": 2}')).toBe('text');
    expect(detectFormat('README.md', 'a,b\n1,2')).toBe('text');
  });

  it('reads a .json file whose first line is a whole object as JSONL', () => {
    expect(detectFormat('data.json', '{"q": "a", "a": "b"}\n{"q": "c", "a": "d"}\n')).toBe('jsonl');
    expect(detectFormat('data.json', '\uFEFF  {"q": "a"}\r\n{"q": "c"}')).toBe('jsonl');
    expect(detectFormat('data.json', '{"q": "only one record"}')).toBe('jsonl');
    // Pretty-printed, or cut off by the head: JSON.
    expect(detectFormat('data.json', '{\n  "data": [{"q": "a"}]\n}')).toBe('json');
    expect(detectFormat('data.json', '{"data": [{"q": "a"}, {"q": ')).toBe('json');
  });

  it('reads a file that is one line holding a list of records as JSON, but a single chat as JSONL', () => {
    expect(detectFormat('data.json', '{"data": [{"q": "a"}, {"q": "b"}]}\n')).toBe('json');
    expect(detectFormat(undefined, '{"train": [{"q": "a"}]}')).toBe('json');
    expect(detectFormat('chat.json', '{"messages": [{"role": "user", "content": "hi"}]}')).toBe('jsonl');
  });

  it('goes by content without a known extension', () => {
    expect(detectFormat(undefined, '  \n [{"a": 1}]')).toBe('json');
    expect(detectFormat('data', '{"a": 1}\n{"a": 2}')).toBe('jsonl');
    expect(detectFormat(undefined, '{\n  "a": 1\n}')).toBe('json');
    expect(detectFormat(undefined, '{"a": 1,\n"b": 2}')).toBe('json');
    // A broken first line of what is clearly JSONL: parse as JSONL so the rest is kept.
    expect(detectFormat(undefined, '{"a": 1,,}\n{"a": 2}')).toBe('jsonl');
    expect(detectFormat(undefined, 'q,a\nwhat,that\n')).toBe('csv');
    expect(detectFormat('data.dat', 'q\ta\nwhat\tthat')).toBe('csv');
    expect(detectFormat(undefined, 'q,a\n"multi\nline",x')).toBe('csv');
    expect(detectFormat(undefined, 'q,a,b\n"x, y",1,2')).toBe('csv');
    expect(detectFormat(undefined, 'q,a')).toBe('text');
    expect(detectFormat(undefined, 'Hello, world.\nHow are you today?')).toBe('text');
    expect(detectFormat(undefined, 'Just some prose.\n\nMore prose.')).toBe('text');
    expect(detectFormat(undefined, '')).toBe('text');
  });
});
