import { describe, expect, it } from 'vitest';
import { parseDataset } from './index';
import { describeJsonError } from './jsonError';

const json = (content: string | Uint8Array<ArrayBuffer>) => parseDataset(new Blob([content]), { name: 'data.json' });

describe('JSON array', () => {
  it('reads an array of objects with the line each item starts on', async () => {
    const r = await json('[\n  {"instruction": "i1", "output": "o1"},\n  {\n    "instruction": "i2",\n    "output": "o2"\n  }, {"x": "[{\\"not an item\\"}]"}\n]\n');
    expect(r.format).toBe('json');
    expect(r.rows).toEqual([{ instruction: 'i1', output: 'o1' }, { instruction: 'i2', output: 'o2' }, { x: '[{"not an item"}]' }]);
    expect(r.rowLines).toEqual([2, 3, 6]);
    expect(r.issues).toEqual([]);
    expect(r.records).toBe(3);
  });

  it('reads a minified array, with a BOM and CRLF', async () => {
    const r = await json(new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('[{"a":1},{"a":"\\"]"}]')]));
    expect(r.rows).toEqual([{ a: 1 }, { a: '"]' }]);
    expect(r.rowLines).toEqual([1, 1]);
    const crlf = await json('[\r\n{"a": 1},\r\n{"a": 2}\r\n]');
    expect(crlf.rowLines).toEqual([2, 3]);
  });

  it('reports items that are not objects, naming the item and its line', async () => {
    const r = await json('[\n {"a": 1},\n "text",\n 3,\n null,\n [1, 2],\n false,\n {"a": 2}\n]');
    expect(r.rows).toEqual([{ a: 1 }, { a: 2 }]);
    expect(r.rowLines).toEqual([2, 8]);
    expect(r.issues.map((i) => [i.line, i.kind, i.excerpt])).toEqual([
      [3, 'not-object', '"text"'],
      [4, 'not-object', '3'],
      [5, 'not-object', 'null'],
      [6, 'not-object', '[1,2]'],
      [7, 'not-object', 'false'],
    ]);
    expect(r.issues[0].message).toBe('item 2 is a string, not an object: each item must be an object such as {"question": …, "answer": …}');
    expect(r.issues[3].message).toMatch(/^item 5 is a JSON array, not an object/);
    expect(r.records).toBe(7);
  });

  it('accepts an object that wraps the array ({"data": [...]}) and numbers lines within it', async () => {
    const r = await json('{\n  "version": "1.0",\n  "tags": ["a", "b"],\n  "data": [\n    {"q": "x"},\n    {"q": "y"}\n  ]\n}');
    expect(r.rows).toEqual([{ q: 'x' }, { q: 'y' }]);
    expect(r.rowLines).toEqual([5, 6]);
    expect(r.issues).toEqual([]);
    const train = await json('{"train": [{"q": 1}], "test": [{"q": 2}]}');
    expect(train.rows).toEqual([{ q: 1 }]);
  });

  it('follows JSON.parse when a wrapper key is repeated (the last one wins)', async () => {
    const r = await json('{\n"data": [{"q": 1}],\n"data": [\n{"q": 2},\n{"q": 3}\n]\n}');
    expect(r.rows).toEqual([{ q: 2 }, { q: 3 }]);
    expect(r.rowLines).toEqual([4, 5]);
  });

  it('says so when the array is empty', async () => {
    const r = await json('[ ]');
    expect(r.rows).toEqual([]);
    expect(r.issues).toEqual([{ line: 1, kind: 'empty-file', message: 'the JSON array is empty: pick a file with data', excerpt: '' }]);
    expect(r.records).toBe(0);
  });

  it('refuses a top-level value that is not an array of objects', async () => {
    const obj = await json('{\n"name": "not a dataset", "n": 3}');
    expect(obj.rows).toEqual([]);
    expect(obj.issues).toEqual([
      {
        line: 1,
        kind: 'invalid-json',
        message: 'the file holds one object with no list of records in it: a JSON file must be an array of objects such as [{"question": …, "answer": …}, …]',
        excerpt: '{',
      },
    ]);
    expect(obj.records).toBe(1);
    const str = await json('  "just a string"');
    expect(str.issues).toEqual([
      expect.objectContaining({ line: 1, kind: 'not-object', message: expect.stringMatching(/^the file holds a string, not an array: a JSON file must be an array of objects/) }),
    ]);
    expect((await json('42')).issues[0].message).toMatch(/^the file holds a number, not an array/);
  });

  it('reports a syntax error once, on the line the engine points at', async () => {
    const r = await json('[\n  {"a": 1},\n  {"a": 2}\n  {"a": 3}\n]');
    expect(r.rows).toEqual([]);
    expect(r.records).toBe(1);
    expect(r.issues).toEqual([{ line: 4, kind: 'invalid-json', message: "invalid JSON: expected ',' or ']' after array element at column 3", excerpt: '  {"a": 3}' }]);
  });

  it('finds the line of an error the engine reports without a position', async () => {
    // V8 says only "Unexpected token '}', ... is not valid JSON" here: the item scan finds the line.
    const r = await json('[\n  {"a": 1},\n  {"a": 2,\n   "b": }\n]');
    expect(r.issues).toEqual([{ line: 3, kind: 'invalid-json', message: "invalid JSON: unexpected token '}'", excerpt: '  {"a": 2,' }]);
    const nested = await json('{"data": [\n{"a": 1},\n{"a": [1,,2]}\n]}');
    expect(nested.issues.map((i) => [i.line, i.message])).toEqual([[3, "invalid JSON: unexpected token ','"]]);
  });

  it('points at a trailing comma and at an unexpected end', async () => {
    const comma = await json('[\n  {"a": 1},\n  {"a": 2},\n]');
    expect(comma.issues.map((i) => [i.line, i.excerpt])).toEqual([[3, '  {"a": 2},']]);
    const cut = await json('[\n  {"a": 1},\n  {"a": 2');
    expect(cut.issues.map((i) => [i.line, i.kind])).toEqual([[3, 'invalid-json']]);
    expect(cut.issues[0].message).toMatch(/^invalid JSON: /);
  });

  it('refuses a file with an item nested thousands deep, naming its line, without a stack overflow', async () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const t0 = performance.now();
    const r = await json(`[\n  {"a": 1},\n  ${deep},\n  {"a": 2}\n]`);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(r.rows).toEqual([]);
    expect(r.records).toBe(1);
    expect(r.issues).toEqual([
      {
        line: 3,
        kind: 'invalid-json',
        message: 'JSON nested more than 64 levels deep at column 66: a record holds text fields or chat messages, a few levels deep; remove or fix this item',
        excerpt: `  ${'['.repeat(118)}…`,
      },
    ]);
    const wrapped = await json(`{"data": [\n{"q": "x"},\n{"q": ${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}\n]}`);
    expect(wrapped.issues.map((i) => [i.line, i.message.split(':')[0]])).toEqual([[3, 'JSON nested more than 64 levels deep at column 312']]);
  });

  it('reads an item 64 levels deep (counting the array), brackets in strings aside', async () => {
    const r = await json(`[{"a": ${'['.repeat(62)}${']'.repeat(62)}, "b": "${'['.repeat(100)}"}]`);
    expect(r.issues).toEqual([]);
    expect(r.rows).toHaveLength(1);
    expect((await json(`[{"a": ${'['.repeat(63)}${']'.repeat(63)}}]`)).issues[0].message).toMatch(/^JSON nested more than 64 levels deep at column 70:/);
  });

  it('drops an item with bytes that are not UTF-8 and reports the line', async () => {
    const enc = new TextEncoder();
    const bytes = new Uint8Array([...enc.encode('[\n {"a": "ok"},\n {"a": "'), 0xff, ...enc.encode('"},\n {"a": "fine"}\n]')]);
    const r = await json(bytes);
    expect(r.rows).toEqual([{ a: 'ok' }, { a: 'fine' }]);
    expect(r.rowLines).toEqual([2, 4]);
    expect(r.issues).toEqual([{ line: 3, kind: 'invalid-utf8', message: expect.stringMatching(/not UTF-8/), excerpt: ' {"a": "\uFFFD"},' }]);
    expect(r.records).toBe(3);
  });
});

describe('describeJsonError', () => {
  const info = (message: string) => describeJsonError(new SyntaxError(message));

  it('understands V8, Firefox and Safari messages', () => {
    expect(info('Unexpected token \'}\', "{"a":}" is not valid JSON')).toEqual({ reason: "unexpected token '}'" });
    expect(info('Unexpected token \',\', ..."b": 1,,"c": 2"... is not valid JSON')).toEqual({ reason: "unexpected token ','" });
    expect(info("Expected ',' or '}' after property value in JSON at position 6 (line 1 column 7)")).toEqual({
      reason: "expected ',' or '}' after property value",
      position: 6,
    });
    expect(info('Unexpected end of JSON input')).toEqual({ reason: 'unexpected end of input' });
    expect(info('JSON.parse: unexpected character at line 3 column 6 of the JSON data')).toEqual({ reason: 'unexpected character', line: 3, column: 6 });
    expect(info('JSON Parse error: Unexpected identifier "x"')).toEqual({ reason: 'unexpected identifier "x"' });
  });

  it('keeps a control character the engine quotes raw on one line, escaped', async () => {
    expect(() => JSON.parse('n\n0')).toThrow();
    let thrown: unknown;
    try {
      JSON.parse('n\n0');
    } catch (e) {
      thrown = e;
    }
    expect(describeJsonError(thrown).reason).not.toMatch(/[\n\r]/);
    expect(info("Unexpected token '\n', \"n\n0\" is not valid JSON")).toEqual({ reason: "unexpected token '\\n'" });
    const { issues } = await parseDataset(new File(['n\n0'], 'data.json'));
    expect(issues).toHaveLength(1);
    expect(issues[0].message).not.toMatch(/\n/);
  });
});
