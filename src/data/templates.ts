/**
 * Prompt templates: a MappedExample → text segments, each marked as prompt (no loss) or completion.
 *
 * The Q&A and Alpaca strings are the exact ones of the course "Finetuning Large Language Models"
 * (DeepLearning.AI / Lamini), so rendering the course data reproduces its processed files byte for
 * byte. No template adds an end-of-text token: the encoder appends Pythia's EOS.
 */
import { chatSegments } from './chatTemplate';
import type { ChatMessage, MappedExample, MappingKind, Segment, TemplateId, TemplateSpec } from './types';

export const TEMPLATES: { id: TemplateId; label: string; description: string }[] = [
  {
    id: 'plain',
    label: 'Plain',
    description: 'The prompt followed directly by the answer, with nothing in between (the course’s plain concatenation).',
  },
  {
    id: 'qa',
    label: 'Question / answer (the course)',
    description: '“### Question:” before the prompt and “### Answer:” after it, as the course formats its Lamini docs data.',
  },
  {
    id: 'alpaca',
    label: 'Alpaca',
    description: 'Stanford Alpaca’s instruction prompt, with the “### Input:” section only when the row has an input.',
  },
  {
    id: 'llama2',
    label: 'Llama 2 chat',
    description: '[INST] … [/INST] turns with an optional <<SYS>> block; no <s>/</s>, which Pythia does not have.',
  },
  {
    id: 'model',
    label: 'The model’s chat template',
    description:
      'The loaded model’s own chat template (instruct models have one), as transformers’ apply_chat_template renders it: chat rows as they are, question/answer rows as one user turn and the assistant’s reply. Only the replies carry loss; the template ends each turn itself, so no end-of-text token is added.',
  },
  {
    id: 'custom',
    label: 'Custom',
    description: 'Your own prompt with {field} placeholders naming the dataset’s fields ({{ and }} for literal braces); the answer follows it.',
  },
];

export const QA_PROMPT = '### Question:\n{question}\n\n### Answer:';
export const ALPACA_WITH_INPUT =
  'Below is an instruction that describes a task, paired with an input that provides further context. ' +
  'Write a response that appropriately completes the request.\n\n' +
  '### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:';
export const ALPACA_NO_INPUT =
  'Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n' +
  '### Instruction:\n{instruction}\n\n### Response:';

/** Character offsets into spec.custom (end exclusive), so the editor can underline the problem. */
export interface TemplateError {
  message: string;
  start: number;
  end: number;
}

export const NO_CHAT_TEMPLATE =
  'the loaded model has no chat template (base models seldom do): load an instruct model (SmolLM2-…-Instruct, Qwen2.5-…-Instruct, Qwen3) or pick another template';

const CHAT_CUSTOM =
  'custom templates need single-turn data (question/answer, prompt/completion…); pick a built-in template for chat';

export type Piece = { literal: string } | { field: string; start: number; end: number };

/**
 * Split a custom template into literal text and {field} placeholders, Python str.format style:
 * `{{` and `}}` are literal braces, and a placeholder is everything between `{` and the next `}`
 * (no format specs or conversions: `{a:>5}` names a field called "a:>5").
 */
export function parseCustom(tpl: string): { pieces: Piece[] } | { error: TemplateError } {
  const pieces: Piece[] = [];
  let literal = '';
  let i = 0;
  while (i < tpl.length) {
    const c = tpl[i];
    if ((c === '{' || c === '}') && tpl[i + 1] === c) {
      literal += c;
      i += 2;
    } else if (c === '}') {
      return { error: { message: 'stray "}": write "}}" for a literal brace', start: i, end: i + 1 } };
    } else if (c === '{') {
      const close = tpl.indexOf('}', i + 1);
      const reopen = tpl.indexOf('{', i + 1);
      if (close < 0 || (reopen >= 0 && reopen < close)) {
        return {
          error: { message: 'unclosed "{": end the placeholder with "}", or write "{{" for a literal brace', start: i, end: i + 1 },
        };
      }
      if (literal !== '') pieces.push({ literal });
      literal = '';
      pieces.push({ field: tpl.slice(i + 1, close), start: i, end: close + 1 });
      i = close + 1;
    } else {
      literal += c;
      i++;
    }
  }
  if (literal !== '') pieces.push({ literal });
  return { pieces };
}

/** Parse a custom template and check that every placeholder names one of `fields`. */
function compileCustom(tpl: string, fields: string[]): { pieces: Piece[] } | { error: TemplateError } {
  const parsed = parseCustom(tpl);
  if ('error' in parsed) return parsed;
  const choices = fields.length > 0 ? `use one of ${fields.map((f) => `{${f}}`).join(', ')}` : 'the dataset has no fields';
  for (const p of parsed.pieces) {
    if (!('field' in p)) continue;
    if (p.field === '') return { error: { message: `{} needs a field name: ${choices}`, start: p.start, end: p.end } };
    if (!fields.includes(p.field)) {
      return { error: { message: `{${p.field}} is not a field of this dataset: ${choices}`, start: p.start, end: p.end } };
    }
  }
  return parsed;
}

/**
 * Placeholders in a custom template that no field provides, and syntax errors (an unclosed `{`, a
 * stray `}`); the first problem in the text, or null. Built-in templates always pass. Pass the
 * mapping kind so chat data, which a custom (single-turn) template cannot render, is refused.
 */
export function checkTemplate(spec: TemplateSpec, fields: string[], kind?: MappingKind): TemplateError | null {
  if (spec.id === 'model') return spec.chat ? null : { message: NO_CHAT_TEMPLATE, start: 0, end: 0 };
  if (spec.id !== 'custom') return null;
  if (kind === 'chat') return { message: CHAT_CUSTOM, start: 0, end: 0 };
  const compiled = compileCustom(spec.custom, fields);
  return 'error' in compiled ? compiled.error : null;
}

/** Fill `{name}` in one of the course strings. A function replacement, so `$&` in the data stays literal. */
const fill = (tpl: string, values: Record<string, string>) => tpl.replace(/\{(\w+)\}/g, (_, k: string) => values[k]);

const hasText = (s: string) => s.trim() !== '';

/**
 * The prompt of a built-in template for one example or one user turn. `system` is only given for
 * Llama 2, whose system prompt lives inside the first [INST] block.
 */
function builtinPrompt(id: Exclude<TemplateId, 'custom' | 'model'>, prompt: string, input: string, system: string | null): string {
  switch (id) {
    case 'plain':
      return hasText(input) ? `${prompt}\n${input}` : prompt;
    case 'qa':
      return fill(QA_PROMPT, { question: hasText(input) ? `${prompt}\n\n${input}` : prompt });
    case 'alpaca':
      return hasText(input)
        ? fill(ALPACA_WITH_INPUT, { instruction: prompt, input })
        : fill(ALPACA_NO_INPUT, { instruction: prompt });
    case 'llama2': {
      const sys = system === null ? '' : `<<SYS>>\n${system}\n<</SYS>>\n\n`;
      return `[INST] ${sys}${hasText(input) ? `${prompt}\n\n${input}` : prompt} [/INST]`;
    }
  }
}

/** Llama 2 puts a space between [/INST] and the reply; the others run the answer straight on. */
const completionPrefix = (id: TemplateId) => (id === 'llama2' ? ' ' : '');

/**
 * Drop empty segments and merge neighbours with the same flag: the encoder tokenizes each segment on
 * its own, so prompt text split in two would tokenize differently from the same text in one piece.
 */
function tidy(segs: Segment[]): Segment[] {
  const out: Segment[] = [];
  for (const s of segs) {
    if (s.text === '') continue;
    const last = out[out.length - 1];
    if (last !== undefined && last.train === s.train) out[out.length - 1] = { text: last.text + s.text, train: s.train };
    else out.push({ ...s });
  }
  return out;
}

/**
 * A conversation: system prompt first (Llama 2: inside the first [INST]), each user turn in the
 * template's prompt form (Alpaca: the no-input form), each assistant turn trained. The "\n\n"
 * between turns belongs to the next prompt segment, so a separator is never trained.
 */
function renderChat(messages: ChatMessage[], id: Exclude<TemplateId, 'custom' | 'model'>): Segment[] {
  const systems = messages.filter((m) => m.role === 'system').map((m) => m.content);
  let system = systems.length > 0 ? systems.join('\n\n') : null;
  const segs: Segment[] = [];
  if (system !== null && id !== 'llama2') {
    segs.push({ text: `${system}\n\n`, train: false });
    system = null;
  }
  let prev: 'user' | 'assistant' | null = null;
  const user = (content: string) => {
    segs.push({ text: (prev === null ? '' : '\n\n') + builtinPrompt(id, content, '', system), train: false });
    system = null;
    prev = 'user';
  };
  for (const m of messages) {
    if (m.role === 'user') {
      user(m.content);
    } else if (m.role === 'assistant') {
      // Llama 2 needs an [INST] block to hold the system prompt even when no user spoke first.
      if (system !== null) user('');
      if (prev === 'assistant') segs.push({ text: '\n\n', train: false });
      segs.push({ text: completionPrefix(id) + m.content, train: true });
      prev = 'assistant';
    }
  }
  return tidy(segs);
}

/**
 * Render one example: prompt segments (train: false) and completion segments (train: true), with no
 * empty segments and no two neighbours of the same kind.
 *
 * Pass the mapping's kind: for 'text' data every built-in template gives the text alone, as one
 * trained segment. The kind cannot be read off the example, because a Q&A row with a blank question
 * (the course data has some) looks like text data but must still get its "### Question:" prompt.
 * A custom template still renders its prompt for text data. Throws when a custom template is
 * invalid for this example's fields (see checkTemplate) or the example is a chat.
 */
export function renderSegments(ex: MappedExample, spec: TemplateSpec, kind?: MappingKind): Segment[] {
  if (spec.id === 'model') {
    if (!spec.chat) throw new Error(NO_CHAT_TEMPLATE);
    if (ex.messages === null && kind === 'text') return tidy([{ text: ex.output, train: true }]);
    return chatSegments(spec.chat, ex.messages ?? singleTurn(ex));
  }
  if (ex.messages !== null) {
    if (spec.id === 'custom') throw new Error(CHAT_CUSTOM);
    return renderChat(ex.messages, spec.id);
  }
  let prompt: string;
  if (spec.id === 'custom') {
    // Checked against this row's own text fields: a row that lacks a placeholder's field cannot render.
    const compiled = compileCustom(spec.custom, Object.keys(ex.fields));
    if ('error' in compiled) throw new Error(compiled.error.message);
    prompt = compiled.pieces.map((p) => ('field' in p ? ex.fields[p.field] : p.literal)).join('');
  } else if (kind === 'text') {
    return tidy([{ text: ex.output, train: true }]);
  } else {
    prompt = builtinPrompt(spec.id, ex.prompt, ex.input, null);
  }
  return tidy([
    { text: prompt, train: false },
    { text: completionPrefix(spec.id) + ex.output, train: true },
  ]);
}

/** A single-turn example as a conversation: the prompt (and Alpaca's input) from the user, the answer from the assistant. */
function singleTurn(ex: MappedExample): ChatMessage[] {
  return [
    { role: 'user', content: hasText(ex.input) ? `${ex.prompt}\n\n${ex.input}` : ex.prompt },
    { role: 'assistant', content: ex.output },
  ];
}

/** The whole text, concatenated: what the model sees. */
export const segmentsText = (segs: Segment[]): string => segs.map((s) => s.text).join('');
