import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MAPPING_LABELS, MAPPING_SLOTS, checkMapping, detectMapping, fieldNames, mapRow, mapRows, rejectedExample } from './mapping';
import type { FieldMapping, MappedExample, MappingKind, Row } from './types';

const COURSE = fileURLToPath(new URL('../../fixtures/data/course/', import.meta.url));
const jsonl = (name: string): Row[] =>
  readFileSync(COURSE + name, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Row);

/** The example, or fail the test with the issue's message. */
function ok(row: Row, m: FieldMapping): MappedExample {
  const r = mapRow(row, m);
  if ('issue' in r) throw new Error(`unexpected issue: ${r.issue.message}`);
  return r.example;
}

function issue(row: Row, m: FieldMapping) {
  const r = mapRow(row, m);
  if ('example' in r) throw new Error('expected an issue');
  return r.issue;
}

const QA: FieldMapping = { kind: 'qa', fields: { question: 'question', answer: 'answer' } };
const CHAT: FieldMapping = { kind: 'chat', fields: { messages: 'messages' } };

describe('MAPPING_SLOTS / MAPPING_LABELS', () => {
  it('lists the slots of every kind in display order, only the Alpaca input and the preference prompt optional', () => {
    const slots = Object.fromEntries(
      Object.entries(MAPPING_SLOTS).map(([k, v]) => [k, v.map((s) => `${s.slot}${s.required ? '' : '?'}`)]),
    );
    expect(slots).toEqual({
      qa: ['question', 'answer'],
      alpaca: ['instruction', 'input?', 'output'],
      'prompt-completion': ['prompt', 'completion'],
      'input-output': ['input', 'output'],
      text: ['text'],
      chat: ['messages'],
      preference: ['prompt?', 'chosen', 'rejected'],
    });
    for (const k of Object.keys(MAPPING_SLOTS) as MappingKind[]) {
      expect(MAPPING_LABELS[k]).toBeTruthy();
      for (const s of MAPPING_SLOTS[k]) expect(s.label).toBeTruthy();
    }
    expect(MAPPING_LABELS.qa).toBe('Question / answer (the course)');
  });
});

describe('fieldNames', () => {
  it('gives every key in first-seen order, whatever its value', () => {
    expect(fieldNames([{ b: 1, a: 'x' }, { a: 'y', c: null }, {}, { d: [1] }])).toEqual(['b', 'a', 'c', 'd']);
    expect(fieldNames([])).toEqual([]);
  });

  it('only looks at the first 200 rows', () => {
    const rows: Row[] = Array.from({ length: 200 }, () => ({ text: 'x' }));
    rows.push({ late: 'x' });
    expect(fieldNames(rows)).toEqual(['text']);
  });
});

describe('detectMapping', () => {
  const detect = (...rows: Row[]) => detectMapping(rows);

  it('recognises each kind by its field names', () => {
    expect(detect({ question: 'q', answer: 'a' })).toEqual(QA);
    expect(detect({ instruction: 'i', input: '', output: 'o' })).toEqual({
      kind: 'alpaca',
      fields: { instruction: 'instruction', input: 'input', output: 'output' },
    });
    expect(detect({ prompt: 'p', completion: 'c' })).toEqual({
      kind: 'prompt-completion',
      fields: { prompt: 'prompt', completion: 'completion' },
    });
    expect(detect({ input: 'i', output: 'o' })).toEqual({ kind: 'input-output', fields: { input: 'input', output: 'output' } });
    expect(detect({ text: 't' })).toEqual({ kind: 'text', fields: { text: 'text' } });
    expect(detect({ messages: [{ role: 'user', content: 'hi' }] })).toEqual(CHAT);
  });

  it('matches names case-insensitively and keeps the file spelling', () => {
    expect(detect({ Question: 'q', ANSWER: 'a' })).toEqual({ kind: 'qa', fields: { question: 'Question', answer: 'ANSWER' } });
    expect(detect({ Messages: [] })).toEqual({ kind: 'chat', fields: { messages: 'Messages' } });
    expect(detect({ Text: 't' })).toEqual({ kind: 'text', fields: { text: 'Text' } });
  });

  it('follows the priority preference > chat > alpaca > qa > prompt-completion > input-output > text', () => {
    const all: Row = {
      chosen: 'c',
      rejected: 'r',
      text: 't',
      input: 'i',
      output: 'o',
      prompt: 'p',
      completion: 'c',
      question: 'q',
      answer: 'a',
      instruction: 'n',
      messages: [],
    };
    const order: MappingKind[] = [];
    const row = { ...all };
    const drop: Record<MappingKind, string> = {
      preference: 'chosen',
      chat: 'messages',
      alpaca: 'instruction',
      qa: 'question',
      'prompt-completion': 'prompt',
      'input-output': 'input',
      text: 'text',
    };
    for (;;) {
      const m = detectMapping([row]);
      if (m === null) break;
      order.push(m.kind);
      delete row[drop[m.kind]];
    }
    expect(order).toEqual(['preference', 'chat', 'alpaca', 'qa', 'prompt-completion', 'input-output', 'text']);
  });

  it('only takes messages for chat when some row holds an array there', () => {
    expect(detect({ messages: 'a string', text: 't' })).toEqual({ kind: 'text', fields: { text: 'text' } });
    expect(detect({ messages: 'x' }, { messages: [] })).toEqual(CHAT);
    expect(detect({ messages: 'x' })).toBeNull();
  });

  it('maps the Alpaca input only when a row has one, and looks past the first row', () => {
    expect(detect({ instruction: 'i', output: 'o' })).toEqual({
      kind: 'alpaca',
      fields: { instruction: 'instruction', output: 'output' },
    });
    expect(detect({ instruction: 'i', output: 'o' }, { instruction: 'i', input: 'x', output: 'o' })?.fields.input).toBe('input');
  });

  it('takes response / context as Alpaca synonyms (Dolly), but only after the exact names', () => {
    expect(detect({ instruction: 'i', context: 'c', response: 'r', category: 'x' })).toEqual({
      kind: 'alpaca',
      fields: { instruction: 'instruction', input: 'context', output: 'response' },
    });
    expect(detect({ instruction: 'i', input: 'n', context: 'c', output: 'o', response: 'r' })).toEqual({
      kind: 'alpaca',
      fields: { instruction: 'instruction', input: 'input', output: 'output' },
    });
    // The synonyms do not make other kinds: prompt + response is not prompt/completion.
    expect(detect({ prompt: 'p', response: 'r' })).toBeNull();
  });

  it('is null when nothing fits, or there are no rows', () => {
    expect(detect({ foo: 'a', bar: 'b' })).toBeNull();
    expect(detect({ question: 'q' })).toBeNull();
    expect(detectMapping([])).toBeNull();
  });

  it('detects the course files', () => {
    expect(detectMapping(jsonl('lamini_docs.jsonl'))).toEqual(QA);
    const alpaca = JSON.parse(readFileSync(COURSE + 'alpaca_data_first128.json', 'utf8')) as Row[];
    expect(detectMapping(alpaca)?.kind).toBe('alpaca');
    // The course's processed Alpaca file stores the prompt under "input": it reads as input/output.
    expect(detectMapping(jsonl('alpaca_processed_course_5.jsonl'))?.kind).toBe('input-output');
  });
});

describe('checkMapping', () => {
  it('accepts a mapping whose required slots all name a field', () => {
    expect(checkMapping(QA)).toBeNull();
    expect(checkMapping({ kind: 'alpaca', fields: { instruction: 'i', output: 'o' } })).toBeNull();
    expect(checkMapping({ kind: 'alpaca', fields: { instruction: 'i', input: '', output: 'o' } })).toBeNull();
  });

  it('names the first required slot that has no field', () => {
    expect(checkMapping({ kind: 'qa', fields: { question: 'q' } })).toBe("Answer has no field: pick one of the dataset's fields for it.");
    expect(checkMapping({ kind: 'alpaca', fields: { instruction: '', output: 'o' } })).toMatch(/^Instruction has no field/);
    expect(checkMapping({ kind: 'chat', fields: {} })).toMatch(/^Messages has no field/);
  });
});

describe('mapRow', () => {
  it('puts each kind in template roles and keeps every string field', () => {
    const row = { q: 'Q?', a: 'A.', n: 3, extra: 'e' };
    expect(ok(row, { kind: 'qa', fields: { question: 'q', answer: 'a' } })).toEqual({
      prompt: 'Q?',
      input: '',
      output: 'A.',
      messages: null,
      fields: { q: 'Q?', a: 'A.', extra: 'e' },
    });
    const al = { kind: 'alpaca', fields: { instruction: 'i', input: 'x', output: 'o' } } as const;
    expect(ok({ i: 'I', x: 'X', o: 'O' }, al)).toMatchObject({ prompt: 'I', input: 'X', output: 'O' });
    expect(ok({ p: 'P', c: 'C' }, { kind: 'prompt-completion', fields: { prompt: 'p', completion: 'c' } })).toMatchObject({
      prompt: 'P',
      input: '',
      output: 'C',
    });
    expect(ok({ i: 'I', o: 'O' }, { kind: 'input-output', fields: { input: 'i', output: 'o' } })).toMatchObject({
      prompt: 'I',
      input: '',
      output: 'O',
    });
    expect(ok({ t: 'T' }, { kind: 'text', fields: { text: 't' } })).toEqual({
      prompt: '',
      input: '',
      output: 'T',
      messages: null,
      fields: { t: 'T' },
    });
  });

  it('keeps text exactly, whitespace included', () => {
    expect(ok({ question: ' q \n', answer: '\ta ' }, QA)).toMatchObject({ prompt: ' q \n', output: '\ta ' });
  });

  it('allows an empty or blank prompt (the course data has blank questions)', () => {
    expect(ok({ question: '', answer: 'a' }, QA).prompt).toBe('');
    expect(ok({ question: '   ', answer: 'a' }, QA).prompt).toBe('   ');
    expect(ok({ input: '', output: 'o' }, { kind: 'input-output', fields: { input: 'input', output: 'output' } }).prompt).toBe('');
  });

  it('lets the optional Alpaca input be unmapped, missing, null or empty', () => {
    const mapped = { kind: 'alpaca', fields: { instruction: 'i', input: 'x', output: 'o' } } as const;
    expect(ok({ i: 'I', o: 'O' }, mapped).input).toBe('');
    expect(ok({ i: 'I', x: null, o: 'O' }, mapped).input).toBe('');
    expect(ok({ i: 'I', x: '', o: 'O' }, mapped).input).toBe('');
    expect(ok({ i: 'I', x: 'X', o: 'O' }, { kind: 'alpaca', fields: { instruction: 'i', output: 'o' } }).input).toBe('');
    // Present but not text is still wrong.
    expect(issue({ i: 'I', x: 5, o: 'O' }, mapped)).toEqual({
      kind: 'wrong-type',
      field: 'x',
      message: 'x is a number, expected text: map another field or fix the row.',
    });
  });

  it('reports a missing required field', () => {
    expect(issue({ question: 'q' }, QA)).toEqual({
      kind: 'missing-field',
      field: 'answer',
      message: 'no "answer" field: map another field or fix the row.',
    });
    expect(issue({ answer: 'a' }, QA)).toMatchObject({ kind: 'missing-field', field: 'question' });
  });

  it('reports a value that is not text, saying what it is', () => {
    const cases: [unknown, string][] = [
      [42, 'a number'],
      [true, 'a boolean'],
      [{ x: 1 }, 'an object'],
      [['a'], 'a list'],
      [null, 'null'],
    ];
    for (const [v, what] of cases) {
      expect(issue({ question: 'q', answer: v }, QA)).toEqual({
        kind: 'wrong-type',
        field: 'answer',
        message: `answer is ${what}, expected text: map another field or fix the row.`,
      });
    }
    expect(issue({ question: 7, answer: 'a' }, QA)).toMatchObject({ kind: 'wrong-type', field: 'question' });
  });

  it('keeps blank text of every kind (the course trains on its blank rows; stats count them)', () => {
    const blank: [FieldMapping, Row][] = [
      [QA, { question: 'q', answer: ' \n\t' }],
      [{ kind: 'alpaca', fields: { instruction: 'i', output: 'o' } }, { i: 'I', o: '' }],
      [{ kind: 'prompt-completion', fields: { prompt: 'p', completion: 'c' } }, { p: '', c: '' }],
      [{ kind: 'input-output', fields: { input: 'i', output: 'o' } }, { i: 'I', o: ' ' }],
      [{ kind: 'text', fields: { text: 't' } }, { t: '' }],
    ];
    for (const [m, row] of blank) expect(mapRow(row, m)).toHaveProperty('example');
  });

  it('reports the first problem in slot order', () => {
    expect(issue({ answer: '' }, QA)).toMatchObject({ kind: 'missing-field', field: 'question' });
  });

  it('throws on an unusable mapping (the caller must checkMapping first)', () => {
    expect(() => mapRow({ q: 'x' }, { kind: 'qa', fields: { question: 'q' } })).toThrow(/^Answer has no field/);
  });
});

describe('mapRow: chat', () => {
  const msgs = (...m: unknown[]): Row => ({ messages: m, id: 'c1' });

  it('keeps the turns, leaves prompt/input empty and shows the last non-empty reply as output', () => {
    const turns = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello!' },
      { role: 'user', content: 'Bye' },
      { role: 'assistant', content: '' },
    ];
    expect(ok(msgs(...turns), CHAT)).toEqual({
      prompt: '',
      input: '',
      output: 'Hello!',
      messages: turns,
      fields: { id: 'c1' },
    });
  });

  it('drops extra keys of each message', () => {
    const ex = ok(msgs({ role: 'assistant', content: 'A', name: 'bot', weight: 1 }), CHAT);
    expect(ex.messages).toEqual([{ role: 'assistant', content: 'A' }]);
  });

  it('says exactly what is wrong with the messages', () => {
    const wrong = (row: Row) => {
      const i = issue(row, CHAT);
      expect(i.kind).toBe('wrong-type');
      expect(i.field).toBe('messages');
      return i.message;
    };
    expect(wrong({ messages: 'hello' })).toBe(
      '"messages" is a string, expected a list of {role, content} messages: map another field or fix the row.',
    );
    expect(wrong({ messages: null })).toMatch(/^"messages" is null, expected a list/);
    expect(wrong(msgs({ role: 'user', content: 'q' }, 'x'))).toBe(
      'messages[1] is a string, expected an object with a role and a content.',
    );
    expect(wrong(msgs(null))).toMatch(/^messages\[0\] is null, expected an object/);
    expect(wrong(msgs([]))).toMatch(/^messages\[0\] is a list, expected an object/);
    expect(wrong(msgs({ role: 'user', content: 'q' }, { role: 'assistant', content: 'a' }, { role: 'bot', content: 'x' }))).toBe(
      'messages[2].role is "bot": use system, user or assistant.',
    );
    expect(wrong(msgs({ role: 'User', content: 'x' }))).toBe('messages[0].role is "User": use system, user or assistant.');
    expect(wrong(msgs({ role: 3, content: 'x' }))).toBe('messages[0].role is a number: use system, user or assistant.');
    expect(wrong(msgs({ content: 'x' }))).toBe('messages[0] has no role: give it one of system, user or assistant.');
    expect(wrong(msgs({ role: 'assistant' }))).toBe('messages[0] has no content: give it the message text.');
    expect(wrong(msgs({ role: 'assistant', content: ['a'] }))).toBe('messages[0].content is a list, expected text: fix the row.');
    expect(
      wrong(msgs({ role: 'user', content: 'q' }, { role: 'assistant', content: 'a' }, { role: 'system', content: 's' })),
    ).toBe('messages[2] is a system message after the conversation started: move it to the start or drop it.');
  });

  it('accepts several system messages at the start', () => {
    const ex = ok(msgs({ role: 'system', content: 'a' }, { role: 'system', content: 'b' }, { role: 'assistant', content: 'c' }), CHAT);
    expect(ex.messages?.map((m) => m.role)).toEqual(['system', 'system', 'assistant']);
  });

  it('needs an assistant message with text', () => {
    expect(issue(msgs(), CHAT)).toEqual({
      kind: 'empty-field',
      field: 'messages',
      message: '"messages" is an empty list: add the conversation or leave the row out.',
    });
    expect(issue(msgs({ role: 'user', content: 'q' }), CHAT)).toEqual({
      kind: 'empty-field',
      field: 'messages',
      message: '"messages" has no assistant message with text, so there is nothing to learn: add a reply or leave the row out.',
    });
    expect(issue(msgs({ role: 'user', content: 'q' }, { role: 'assistant', content: '  ' }), CHAT).kind).toBe('empty-field');
  });

  it('reports a missing messages field', () => {
    expect(issue({ text: 'x' }, CHAT)).toEqual({
      kind: 'missing-field',
      field: 'messages',
      message: 'no "messages" field: map another field or fix the row.',
    });
  });
});

describe('mapRows', () => {
  it('keeps row indices: null where a row has an issue', () => {
    const rows: Row[] = [{ question: 'a', answer: 'b' }, { question: 'c' }, { question: '', answer: 'd' }, { question: 'e', answer: 1 }];
    const { examples, issues } = mapRows(rows, QA);
    expect(examples.map((e) => e?.output ?? null)).toEqual(['b', null, 'd', null]);
    expect(issues.map((i) => [i.row, i.kind, i.field])).toEqual([
      [1, 'missing-field', 'answer'],
      [3, 'wrong-type', 'answer'],
    ]);
  });

  it('maps the course Q&A data: all 1,400 rows, blank questions and the one blank answer kept', () => {
    const rows = jsonl('lamini_docs.jsonl');
    expect(rows).toHaveLength(1400);
    const { examples, issues } = mapRows(rows, detectMapping(rows)!);
    expect(issues).toEqual([]);
    expect(examples).toHaveLength(1400);
    // Row 950 has an empty question and an empty answer in the original data; the others are blank questions.
    const blank = examples.flatMap((e, i) => (e!.prompt.trim() === '' ? [i] : []));
    expect(blank).toEqual([950, 1384, 1385, 1386, 1387, 1388]);
    expect(examples[950]!.output).toBe('');
    for (let i = 0; i < rows.length; i++) {
      expect(examples[i]).toEqual({ prompt: rows[i].question, input: '', output: rows[i].answer, messages: null, fields: rows[i] });
    }
  });

  it('maps the course Alpaca sample without issues', () => {
    const rows = JSON.parse(readFileSync(COURSE + 'alpaca_data_first128.json', 'utf8')) as Row[];
    const { examples, issues } = mapRows(rows, detectMapping(rows)!);
    expect(issues).toEqual([]);
    expect(examples).toHaveLength(128);
    expect(examples.filter((e) => e !== null && e.input !== '').length).toBeGreaterThan(0);
  });
});

describe('preference pairs', () => {
  const PREF: FieldMapping = { kind: 'preference', fields: { prompt: 'prompt', chosen: 'chosen', rejected: 'rejected' } };

  it('detects prompt / chosen / rejected, with question or instruction as the prompt, or none for conversations', () => {
    expect(detectMapping([{ prompt: 'p', chosen: 'c', rejected: 'r' }])).toEqual(PREF);
    expect(detectMapping([{ Question: 'p', Chosen: 'c', Rejected: 'r' }])).toEqual({ kind: 'preference', fields: { prompt: 'Question', chosen: 'Chosen', rejected: 'Rejected' } });
    expect(detectMapping([{ chosen: [], rejected: [] }])).toEqual({ kind: 'preference', fields: { chosen: 'chosen', rejected: 'rejected' } });
  });

  it('maps text pairs: the chosen reply as the output, the rejected one beside it', () => {
    const r = mapRow({ prompt: 'Capital of France?', chosen: 'Paris.', rejected: 'Rome.' }, PREF);
    expect(r).toEqual({ example: { prompt: 'Capital of France?', input: '', output: 'Paris.', rejected: 'Rome.', messages: null, fields: { prompt: 'Capital of France?', chosen: 'Paris.', rejected: 'Rome.' } } });
    const ex = (r as { example: MappedExample }).example;
    expect(rejectedExample(ex)).toMatchObject({ prompt: 'Capital of France?', output: 'Rome.', messages: null });
  });

  it('maps conversation pairs (shared turns, then each reply), with the prompt as text or turns', () => {
    const user = { role: 'user', content: 'Hi?' };
    const hh = mapRow({ chosen: [user, { role: 'assistant', content: 'Hello!' }], rejected: [user, { role: 'assistant', content: 'Go away.' }] }, { kind: 'preference', fields: { chosen: 'chosen', rejected: 'rejected' } });
    expect(hh).toMatchObject({ example: { output: 'Hello!', rejected: 'Go away.', messages: [user, { role: 'assistant', content: 'Hello!' }] } });
    const trl = mapRow({ prompt: [user], chosen: [{ role: 'assistant', content: 'Hello!' }], rejected: [{ role: 'assistant', content: 'Go away.' }] }, PREF);
    expect(trl).toMatchObject({ example: { output: 'Hello!', rejected: 'Go away.', messages: [user, { role: 'assistant', content: 'Hello!' }] } });
    expect(rejectedExample((trl as { example: MappedExample }).example).messages).toEqual([user, { role: 'assistant', content: 'Go away.' }]);
    const textPrompt = mapRow({ prompt: 'Hi?', chosen: [{ role: 'assistant', content: 'Hello!' }], rejected: [{ role: 'assistant', content: 'No.' }] }, PREF);
    expect(textPrompt).toMatchObject({ example: { messages: [user, { role: 'assistant', content: 'Hello!' }] } });
  });

  it('says what is wrong with a pair that cannot train', () => {
    const issue = (row: Row, m: FieldMapping = PREF) => (mapRow(row, m) as { issue: { message: string } }).issue.message;
    expect(issue({ prompt: 'p', chosen: 'c' })).toMatch(/no "rejected" field/);
    expect(issue({ prompt: 'p', chosen: 'c', rejected: null })).toBe('rejected is null, expected the answer as text or as a list of {role, content} messages: fix the row.');
    expect(issue({ prompt: 'p', chosen: { text: 'c' }, rejected: 'r' })).toMatch(/^chosen is an object, expected the answer as text/);
    expect(issue({ prompt: 'p', chosen: 'c', rejected: [{ role: 'assistant', content: 'x' }] })).toMatch(/both be text or both be conversations/);
    expect(issue({ chosen: [{ role: 'user', content: 'a' }, { role: 'assistant', content: 'x' }], rejected: [{ role: 'user', content: 'b' }, { role: 'assistant', content: 'y' }] })).toMatch(/differ before their last reply/);
    expect(issue({ prompt: 'p', chosen: [{ role: 'user', content: 'a' }], rejected: [{ role: 'user', content: 'a' }] })).toMatch(/has no assistant message|must be the assistant's reply/);
    expect(issue({ chosen: 'c', rejected: 'r' }, { kind: 'preference', fields: { chosen: 'chosen', rejected: 'rejected' } })).toMatch(/text answers need a prompt/);
  });
});
