import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { detectMapping, mapRow, mapRows } from './mapping';
import {
  ALPACA_NO_INPUT,
  ALPACA_WITH_INPUT,
  QA_PROMPT,
  TEMPLATES,
  checkTemplate,
  renderSegments,
  segmentsText,
} from './templates';
import type { ChatMessage, MappedExample, Row, Segment, TemplateId, TemplateSpec } from './types';

const COURSE = fileURLToPath(new URL('../../fixtures/data/course/', import.meta.url));
const jsonl = <T>(name: string): T[] =>
  readFileSync(COURSE + name, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as T);

const spec = (id: TemplateId, custom = ''): TemplateSpec => ({ id, custom });
const ex = (prompt: string, output: string, input = '', fields: Record<string, string> = {}): MappedExample => ({
  prompt,
  input,
  output,
  messages: null,
  fields,
});
const chat = (...messages: ChatMessage[]): MappedExample => ({ prompt: '', input: '', output: '', messages, fields: {} });
const P = (text: string): Segment => ({ text, train: false });
const C = (text: string): Segment => ({ text, train: true });
const textOf = (segs: Segment[], train: boolean) =>
  segs
    .filter((s) => s.train === train)
    .map((s) => s.text)
    .join('');

describe('the course data, against the course’s own processed files', () => {
  it('Q&A: lamini_docs.jsonl rendered with the qa template is lamini_docs_processed.jsonl', () => {
    const rows = jsonl<Row>('lamini_docs.jsonl');
    const processed = jsonl<{ question: string; answer: string }>('lamini_docs_processed.jsonl');
    expect(rows).toHaveLength(1400);
    expect(processed).toHaveLength(1400);
    const mapping = detectMapping(rows)!;
    expect(mapping.kind).toBe('qa');
    const { examples, issues } = mapRows(rows, mapping);
    expect(issues).toEqual([]);
    for (let i = 0; i < rows.length; i++) {
      const segs = renderSegments(examples[i]!, spec('qa'), mapping.kind);
      const want = processed[i];
      expect(textOf(segs, false)).toBe(want.question);
      expect(textOf(segs, true)).toBe(want.answer);
      expect(segs).toEqual(want.answer === '' ? [P(want.question)] : [P(want.question), C(want.answer)]);
      // The course trains on question + answer, concatenated.
      expect(segmentsText(segs)).toBe(want.question + want.answer);
    }
  });

  it('plain: the course’s plain concatenation question + answer', () => {
    const rows = jsonl<{ question: string; answer: string }>('lamini_docs.jsonl');
    for (const row of rows) {
      const segs = renderSegments(ex(row.question, row.answer), spec('plain'), 'qa');
      expect(segmentsText(segs)).toBe(row.question + row.answer);
      expect(textOf(segs, true)).toBe(row.answer);
    }
  });

  it('Alpaca: the first 5 Alpaca rows rendered with the alpaca template are the course’s alpaca_processed.jsonl', () => {
    const rows = JSON.parse(readFileSync(COURSE + 'alpaca_data_first128.json', 'utf8')) as Row[];
    const processed = jsonl<{ input: string; output: string }>('alpaca_processed_course_5.jsonl');
    expect(processed).toHaveLength(5);
    const mapping = detectMapping(rows)!;
    expect(mapping.kind).toBe('alpaca');
    for (let i = 0; i < processed.length; i++) {
      const r = mapRow(rows[i], mapping);
      if (!('example' in r)) throw new Error(r.issue.message);
      expect(renderSegments(r.example, spec('alpaca'), mapping.kind)).toEqual([P(processed[i].input), C(processed[i].output)]);
    }
  });
});

describe('course strings', () => {
  it('are exactly the course’s (and Stanford Alpaca’s) prompts', () => {
    expect(QA_PROMPT).toBe('### Question:\n{question}\n\n### Answer:');
    expect(ALPACA_WITH_INPUT).toBe(
      'Below is an instruction that describes a task, paired with an input that provides further context. Write a response that appropriately completes the request.\n\n### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:',
    );
    expect(ALPACA_NO_INPUT).toBe(
      'Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n### Instruction:\n{instruction}\n\n### Response:',
    );
  });

  it('TEMPLATES lists each template once, with words for the picker', () => {
    expect(TEMPLATES.map((t) => t.id)).toEqual(['plain', 'qa', 'alpaca', 'llama2', 'model', 'custom']);
    for (const t of TEMPLATES) {
      expect(t.label).toBeTruthy();
      expect(t.description).toBeTruthy();
    }
  });
});

describe('renderSegments: single turn', () => {
  const noInput = ex('Q', 'A');
  const withInput = ex('Q', 'A', 'I');

  it('plain', () => {
    expect(renderSegments(noInput, spec('plain'))).toEqual([P('Q'), C('A')]);
    expect(renderSegments(withInput, spec('plain'))).toEqual([P('Q\nI'), C('A')]);
  });

  it('qa', () => {
    expect(renderSegments(noInput, spec('qa'))).toEqual([P('### Question:\nQ\n\n### Answer:'), C('A')]);
    expect(renderSegments(withInput, spec('qa'))).toEqual([P('### Question:\nQ\n\nI\n\n### Answer:'), C('A')]);
  });

  it('alpaca: the with-input form only when the input has text', () => {
    const head = 'Below is an instruction that describes a task';
    expect(renderSegments(withInput, spec('alpaca'))).toEqual([
      P(
        `${head}, paired with an input that provides further context. Write a response that appropriately completes the request.\n\n### Instruction:\nQ\n\n### Input:\nI\n\n### Response:`,
      ),
      C('A'),
    ]);
    const bare = [
      P(`${head}. Write a response that appropriately completes the request.\n\n### Instruction:\nQ\n\n### Response:`),
      C('A'),
    ];
    expect(renderSegments(noInput, spec('alpaca'))).toEqual(bare);
    expect(renderSegments(ex('Q', 'A', ' \n'), spec('alpaca'))).toEqual(bare);
  });

  it('llama2, without <s>/</s>', () => {
    expect(renderSegments(noInput, spec('llama2'))).toEqual([P('[INST] Q [/INST]'), C(' A')]);
    expect(renderSegments(withInput, spec('llama2'))).toEqual([P('[INST] Q\n\nI [/INST]'), C(' A')]);
  });

  it('a blank input counts as none in every template', () => {
    for (const id of ['plain', 'qa', 'llama2'] as const) {
      expect(renderSegments(ex('Q', 'A', '  '), spec(id))).toEqual(renderSegments(noInput, spec(id)));
    }
  });

  it('omits an empty prompt segment but keeps the template text around a blank prompt', () => {
    expect(renderSegments(ex('', 'A'), spec('plain'))).toEqual([C('A')]);
    expect(renderSegments(ex('', 'A'), spec('qa'), 'qa')).toEqual([P('### Question:\n\n\n### Answer:'), C('A')]);
    expect(renderSegments(ex(' ', 'A'), spec('qa'), 'qa')).toEqual([P('### Question:\n \n\n### Answer:'), C('A')]);
  });

  it('leaves `$` patterns in the data alone', () => {
    const segs = renderSegments(ex("$& $1 $' {question}", 'A', '$`'), spec('alpaca'));
    expect(segs[0].text).toContain("### Instruction:\n$& $1 $' {question}\n\n### Input:\n$`\n\n### Response:");
    expect(renderSegments(ex('$&', 'A'), spec('qa'))[0].text).toBe('### Question:\n$&\n\n### Answer:');
  });
});

describe('renderSegments: text data', () => {
  const t = ex('', 'Some text.', '', { body: 'Some text.', title: 'T' });

  it('every built-in template gives the text alone, trained', () => {
    for (const id of ['plain', 'qa', 'alpaca', 'llama2'] as const) {
      expect(renderSegments(t, spec(id), 'text')).toEqual([C('Some text.')]);
    }
  });

  it('a custom template still renders its prompt', () => {
    expect(renderSegments(t, spec('custom', '# {title}\n'), 'text')).toEqual([P('# T\n'), C('Some text.')]);
  });

  it('needs the kind: an example with no prompt is otherwise a Q&A row with a blank question', () => {
    expect(renderSegments(t, spec('qa'))).toEqual([P('### Question:\n\n\n### Answer:'), C('Some text.')]);
  });
});

describe('renderSegments: chat', () => {
  const convo = chat(
    { role: 'system', content: 'S' },
    { role: 'user', content: 'U1' },
    { role: 'assistant', content: 'A1' },
    { role: 'user', content: 'U2' },
    { role: 'assistant', content: 'A2' },
  );

  it('plain', () => {
    expect(renderSegments(convo, spec('plain'), 'chat')).toEqual([P('S\n\nU1'), C('A1'), P('\n\nU2'), C('A2')]);
  });

  it('qa', () => {
    expect(renderSegments(convo, spec('qa'), 'chat')).toEqual([
      P('S\n\n### Question:\nU1\n\n### Answer:'),
      C('A1'),
      P('\n\n### Question:\nU2\n\n### Answer:'),
      C('A2'),
    ]);
  });

  it('alpaca: the no-input form for every user turn', () => {
    const turn = (u: string) => ALPACA_NO_INPUT.replace('{instruction}', u);
    expect(renderSegments(convo, spec('alpaca'), 'chat')).toEqual([
      P(`S\n\n${turn('U1')}`),
      C('A1'),
      P(`\n\n${turn('U2')}`),
      C('A2'),
    ]);
  });

  it('llama2: the system prompt inside the first [INST]', () => {
    expect(renderSegments(convo, spec('llama2'), 'chat')).toEqual([
      P('[INST] <<SYS>>\nS\n<</SYS>>\n\nU1 [/INST]'),
      C(' A1'),
      P('\n\n[INST] U2 [/INST]'),
      C(' A2'),
    ]);
  });

  it('without a system prompt', () => {
    const c = chat({ role: 'user', content: 'U' }, { role: 'assistant', content: 'A' });
    expect(renderSegments(c, spec('plain'))).toEqual([P('U'), C('A')]);
    expect(renderSegments(c, spec('qa'))).toEqual([P('### Question:\nU\n\n### Answer:'), C('A')]);
    expect(renderSegments(c, spec('llama2'))).toEqual([P('[INST] U [/INST]'), C(' A')]);
  });

  it('joins several system messages, and gives Llama 2 an [INST] for them when the assistant speaks first', () => {
    const c = chat({ role: 'system', content: 'S1' }, { role: 'system', content: 'S2' }, { role: 'assistant', content: 'A' });
    expect(renderSegments(c, spec('plain'))).toEqual([P('S1\n\nS2\n\n'), C('A')]);
    expect(renderSegments(c, spec('llama2'))).toEqual([P('[INST] <<SYS>>\nS1\n\nS2\n<</SYS>>\n\n [/INST]'), C(' A')]);
    expect(renderSegments(chat({ role: 'assistant', content: 'A' }), spec('qa'))).toEqual([C('A')]);
  });

  it('never trains a separator: consecutive turns of one role are split by an untrained "\\n\\n"', () => {
    const c = chat(
      { role: 'user', content: 'U1' },
      { role: 'user', content: 'U2' },
      { role: 'assistant', content: 'A1' },
      { role: 'assistant', content: 'A2' },
    );
    expect(renderSegments(c, spec('plain'))).toEqual([P('U1\n\nU2'), C('A1'), P('\n\n'), C('A2')]);
  });

  it('drops an empty reply but keeps what comes after it', () => {
    const c = chat(
      { role: 'user', content: 'U1' },
      { role: 'assistant', content: '' },
      { role: 'user', content: 'U2' },
      { role: 'assistant', content: 'A2' },
    );
    expect(renderSegments(c, spec('plain'))).toEqual([P('U1\n\nU2'), C('A2')]);
  });

  it('renders what mapRow made of a chat row', () => {
    const r = mapRow(
      {
        messages: [
          { role: 'user', content: 'Hi' },
          { role: 'assistant', content: 'Hello' },
        ],
      },
      { kind: 'chat', fields: { messages: 'messages' } },
    );
    if (!('example' in r)) throw new Error(r.issue.message);
    expect(renderSegments(r.example, spec('qa'), 'chat')).toEqual([P('### Question:\nHi\n\n### Answer:'), C('Hello')]);
  });

  it('refuses a custom template', () => {
    const msg =
      'custom templates need single-turn data (question/answer, prompt/completion…); pick a built-in template for chat';
    expect(() => renderSegments(convo, spec('custom', '{x}'), 'chat')).toThrow(msg);
    expect(checkTemplate(spec('custom', 'Q: {question}'), ['question'], 'chat')).toEqual({ message: msg, start: 0, end: 0 });
    expect(checkTemplate(spec('qa'), [], 'chat')).toBeNull();
  });
});

describe('custom templates', () => {
  const row = ex('q', 'A', '', { question: 'What?', answer: 'A', 'user id': 'u7' });

  it('fill {field} from the row’s source fields; the mapped output follows', () => {
    expect(renderSegments(row, spec('custom', 'Q: {question} ({user id})\nA:'))).toEqual([P('Q: What? (u7)\nA:'), C('A')]);
    expect(renderSegments(row, spec('custom', '{question}{question}'))).toEqual([P('What?What?'), C('A')]);
    expect(renderSegments(row, spec('custom', ''))).toEqual([C('A')]);
    expect(renderSegments(row, spec('custom', 'no placeholders'))).toEqual([P('no placeholders'), C('A')]);
  });

  it('{{ and }} are literal braces, as in Python str.format', () => {
    const tpl = '{{"q": "{question}"}} {{{question}}} }}{{';
    expect(checkTemplate(spec('custom', tpl), ['question'])).toBeNull();
    expect(segmentsText(renderSegments(row, spec('custom', tpl)))).toBe('{"q": "What?"} {What?} }{A');
  });

  it('does not re-read braces or $ in the data', () => {
    const r = ex('', 'A', '', { a: '{b} $& }}', b: 'x' });
    expect(renderSegments(r, spec('custom', '<{a}>'))).toEqual([P('<{b} $& }}>'), C('A')]);
  });

  it('an unknown placeholder: its offsets, braces included, and the fields to use', () => {
    const tpl = 'Q: {questoin}\nA:';
    expect(checkTemplate(spec('custom', tpl), ['question', 'answer'])).toEqual({
      message: '{questoin} is not a field of this dataset: use one of {question}, {answer}',
      start: 3,
      end: 13,
    });
    expect(tpl.slice(3, 13)).toBe('{questoin}');
    // The first problem in the text is reported.
    expect(checkTemplate(spec('custom', '{{x}} {a} {b}'), ['question'])).toMatchObject({ start: 6, end: 9 });
    // Names are exact: case, spaces and format specs all count.
    expect(checkTemplate(spec('custom', '{Question}'), ['question'])?.message).toMatch(/^\{Question\} is not a field/);
    expect(checkTemplate(spec('custom', '{ question }'), ['question'])).toMatchObject({ start: 0, end: 12 });
    expect(checkTemplate(spec('custom', '{question:>9}'), ['question'])).toMatchObject({ start: 0, end: 13 });
    expect(checkTemplate(spec('custom', '{x}'), [])?.message).toBe('{x} is not a field of this dataset: the dataset has no fields');
  });

  it('an empty placeholder', () => {
    expect(checkTemplate(spec('custom', 'a {} b'), ['q'])).toEqual({
      message: '{} needs a field name: use one of {q}',
      start: 2,
      end: 4,
    });
  });

  it('an unclosed { and a stray }: the offsets of that brace', () => {
    const unclosed = 'unclosed "{": end the placeholder with "}", or write "{{" for a literal brace';
    expect(checkTemplate(spec('custom', 'Q: {question'), ['question'])).toEqual({ message: unclosed, start: 3, end: 4 });
    expect(checkTemplate(spec('custom', '{a{question}'), ['question'])).toEqual({ message: unclosed, start: 0, end: 1 });
    expect(checkTemplate(spec('custom', '{question} {'), ['question'])).toMatchObject({ start: 11, end: 12 });
    expect(checkTemplate(spec('custom', 'a {{ b }'), ['question'])).toEqual({
      message: 'stray "}": write "}}" for a literal brace',
      start: 7,
      end: 8,
    });
    expect(checkTemplate(spec('custom', '}}}'), [])).toMatchObject({ start: 2, end: 3 });
  });

  it('built-in templates always pass the check, whatever the custom text', () => {
    for (const id of ['plain', 'qa', 'alpaca', 'llama2'] as const) expect(checkTemplate(spec(id, '{oops'), [])).toBeNull();
  });

  it('renderSegments throws the check’s message, judged on the row’s own text fields', () => {
    expect(() => renderSegments(row, spec('custom', '{nope}'))).toThrow(
      '{nope} is not a field of this dataset: use one of {question}, {answer}, {user id}',
    );
    expect(() => renderSegments(row, spec('custom', 'x }'))).toThrow('stray "}"');
    // A field that is not text in this row (so not in ex.fields) cannot be rendered.
    const m = mapRow({ question: 'q', answer: 'a', n: 3 }, { kind: 'qa', fields: { question: 'question', answer: 'answer' } });
    if (!('example' in m)) throw new Error(m.issue.message);
    expect(() => renderSegments(m.example, spec('custom', '{n}'))).toThrow(/^\{n\} is not a field/);
  });
});

describe('segmentsText', () => {
  it('concatenates the segments', () => {
    expect(segmentsText([P('a'), C('b'), P('c')])).toBe('abc');
    expect(segmentsText([])).toBe('');
  });
});
