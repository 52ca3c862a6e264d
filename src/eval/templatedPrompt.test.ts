import { describe, expect, it } from 'vitest';
import { detectMapping, mapRow } from '../data/mapping';
import { ALPACA_NO_INPUT, QA_PROMPT, renderSegments } from '../data/templates';
import type { FieldMapping, Row, TemplateId, TemplateSpec } from '../data/types';
import { evalExampleOf } from './report';
import { templatedPrompt } from './templatedPrompt';

const spec = (id: TemplateId, custom = ''): TemplateSpec => ({ id, custom });
const QA_MAP: FieldMapping = { kind: 'qa', fields: { question: 'question', answer: 'answer' } };
const ALPACA_MAP: FieldMapping = { kind: 'alpaca', fields: { instruction: 'instruction', input: 'input', output: 'output' } };
const CHAT_MAP: FieldMapping = { kind: 'chat', fields: { messages: 'messages' } };

describe('templatedPrompt', () => {
  it('Q&A: the course prompt, ending where the answer begins', () => {
    expect(templatedPrompt('What is Lamini?', spec('qa'), QA_MAP)).toBe('### Question:\nWhat is Lamini?\n\n### Answer:');
    expect(templatedPrompt('What is Lamini?', spec('qa'), QA_MAP)).toBe(QA_PROMPT.replace('{question}', 'What is Lamini?'));
  });

  it('Alpaca: the no-input form with the text as the instruction', () => {
    expect(templatedPrompt('Name a colour.', spec('alpaca'), ALPACA_MAP)).toBe(
      'Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n' +
        '### Instruction:\nName a colour.\n\n### Response:',
    );
    expect(templatedPrompt('Name a colour.', spec('alpaca'), ALPACA_MAP)).toBe(ALPACA_NO_INPUT.replace('{instruction}', 'Name a colour.'));
  });

  it('Llama 2: ends with [/INST], the space before the answer belongs to the answer', () => {
    expect(templatedPrompt('Hi there?', spec('llama2'), QA_MAP)).toBe('[INST] Hi there? [/INST]');
    expect(templatedPrompt('Hi there?', spec('llama2'), CHAT_MAP)).toBe('[INST] Hi there? [/INST]');
  });

  it('chat data: the text is one user turn in the template', () => {
    expect(templatedPrompt('Hello?', spec('qa'), CHAT_MAP)).toBe('### Question:\nHello?\n\n### Answer:');
    expect(templatedPrompt('Hello?', spec('plain'), CHAT_MAP)).toBe('Hello?');
  });

  it('a prompt already in the template (the playground\'s default) goes as it is, not wrapped twice', () => {
    const typed = '### Question:\nWhat does this studio do?\n\n### Answer:';
    expect(templatedPrompt(typed, spec('qa'), QA_MAP)).toBe(typed);
    expect(templatedPrompt('### Question:\nhalf typed', spec('qa'), QA_MAP)).toBe('### Question:\nhalf typed');
    const alpaca = templatedPrompt('Name a colour.', spec('alpaca'), ALPACA_MAP);
    expect(templatedPrompt(alpaca, spec('alpaca'), ALPACA_MAP)).toBe(alpaca);
    expect(templatedPrompt('[INST] Hi [/INST]', spec('llama2'), QA_MAP)).toBe('[INST] Hi [/INST]');
    // Only the template's own opening counts: a question that mentions it is still wrapped.
    expect(templatedPrompt('What does ### Question: mean?', spec('qa'), QA_MAP)).toBe('### Question:\nWhat does ### Question: mean?\n\n### Answer:');
    // The plain template has no text of its own to find.
    expect(templatedPrompt('Hello', spec('plain'), QA_MAP)).toBe('Hello');
  });

  it('text data, or no mapping, sends the text as it is', () => {
    const text: FieldMapping = { kind: 'text', fields: { text: 'text' } };
    expect(templatedPrompt('Once upon a time', spec('qa'), text)).toBe('Once upon a time');
    expect(templatedPrompt('Once upon a time', spec('custom', 'Story: {text}'), text)).toBe('Once upon a time');
    expect(templatedPrompt('Once upon a time', spec('qa'), null)).toBe('Once upon a time');
  });

  it('a custom template fills the mapped prompt field with the text and stops before the answer', () => {
    const map: FieldMapping = { kind: 'prompt-completion', fields: { prompt: 'src', completion: 'tgt' } };
    expect(templatedPrompt('2+2', spec('custom', 'Q: {src}\nA:'), map)).toBe('Q: 2+2\nA:');
    // A placeholder that the mapping does not provide cannot be filled from one question.
    expect(templatedPrompt('2+2', spec('custom', 'Topic {topic}. Q: {src}\nA:'), map)).toBe('2+2');
  });

  it('equals the prompt part of a real row rendered for training (and of the evaluation example)', () => {
    const row: Row = { question: 'Does Lamini support Python?', answer: 'Yes, there is a Python package.' };
    const mapping = detectMapping([row])!;
    for (const id of ['plain', 'qa', 'alpaca', 'llama2'] as const) {
      const mapped = mapRow(row, mapping);
      if (!('example' in mapped)) throw new Error('the row did not map');
      const segs = renderSegments(mapped.example, spec(id), mapping.kind);
      const prompt = segs
        .filter((s) => !s.train)
        .map((s) => s.text)
        .join('');
      expect(templatedPrompt('Does Lamini support Python?', spec(id), mapping), id).toBe(prompt);
      expect(evalExampleOf('0', segs)?.prompt, id).toBe(prompt);
    }
  });

  it('equals the prompt part of a real Alpaca row with a custom template', () => {
    const row: Row = { instruction: 'Translate to French', input: '', output: 'Bonjour', source: 'x' };
    const mapping = detectMapping([row])!;
    expect(mapping.kind).toBe('alpaca');
    const tpl = spec('custom', 'Task: {instruction}\nReply:');
    const mapped = mapRow(row, mapping);
    if (!('example' in mapped)) throw new Error('the row did not map');
    const prompt = renderSegments(mapped.example, tpl, mapping.kind)
      .filter((s) => !s.train)
      .map((s) => s.text)
      .join('');
    expect(prompt).toBe('Task: Translate to French\nReply:');
    expect(templatedPrompt('Translate to French', tpl, mapping)).toBe(prompt);
  });
});
