/**
 * Field mapping: which of the file's fields play which role (question, answer…), and the per-row
 * validation that turns a Row into a MappedExample or says exactly what is wrong with it.
 */
import type { ChatMessage, FieldMapping, MappedExample, MappingIssue, MappingKind, Row } from './types';

interface Slot {
  slot: string;
  label: string;
  required: boolean;
}

/** Slots per kind, in display order; `required: false` slots may be left unmapped (Alpaca input). */
export const MAPPING_SLOTS: Record<MappingKind, Slot[]> = {
  qa: [
    { slot: 'question', label: 'Question', required: true },
    { slot: 'answer', label: 'Answer', required: true },
  ],
  alpaca: [
    { slot: 'instruction', label: 'Instruction', required: true },
    { slot: 'input', label: 'Input (optional)', required: false },
    { slot: 'output', label: 'Output', required: true },
  ],
  'prompt-completion': [
    { slot: 'prompt', label: 'Prompt', required: true },
    { slot: 'completion', label: 'Completion', required: true },
  ],
  'input-output': [
    { slot: 'input', label: 'Input', required: true },
    { slot: 'output', label: 'Output', required: true },
  ],
  text: [{ slot: 'text', label: 'Text', required: true }],
  chat: [{ slot: 'messages', label: 'Messages', required: true }],
  preference: [
    { slot: 'prompt', label: 'Prompt (optional for conversations)', required: false },
    { slot: 'chosen', label: 'Chosen (the better answer)', required: true },
    { slot: 'rejected', label: 'Rejected (the worse answer)', required: true },
  ],
};

export const MAPPING_LABELS: Record<MappingKind, string> = {
  qa: 'Question / answer (the course)',
  alpaca: 'Instruction / input / output (Alpaca)',
  'prompt-completion': 'Prompt / completion',
  'input-output': 'Input / output',
  text: 'Plain text',
  chat: 'Chat messages',
  preference: 'Preference pairs (prompt / chosen / rejected)',
};

/** Detection and the field list only look at the start of the file, so they stay cheap on big files. */
const SAMPLE_ROWS = 200;

/** Field names seen in the rows (first ~200 rows, in first-seen order), for the mapping dropdowns. */
export function fieldNames(rows: Row[]): string[] {
  const seen = new Set<string>();
  for (const row of rows.slice(0, SAMPLE_ROWS)) for (const k of Object.keys(row)) seen.add(k);
  return [...seen];
}

/**
 * Detect the mapping from the field names of the first rows (up to ~200). null when nothing fits.
 *
 * Names match case-insensitively but the mapping keeps the file's spelling. Priority, first match wins:
 * `chosen` + `rejected` → preference (with `prompt`, `question` or `instruction` as the prompt when present);
 * `messages` holding an array → chat; `instruction` + `output` → alpaca; `question` + `answer` → qa;
 * `prompt` + `completion` → prompt-completion; `input` + `output` → input-output; `text` → text.
 * The only synonyms, tried after the exact names and only for Alpaca-style data: `response` for
 * `output` and `context` for `input` (Dolly's instruction / context / response layout).
 */
export function detectMapping(rows: Row[]): FieldMapping | null {
  const sample = rows.slice(0, SAMPLE_ROWS);
  const names = fieldNames(sample);
  const find = (...wanted: string[]): string | undefined => {
    for (const w of wanted) {
      const hit = names.find((n) => n.toLowerCase() === w);
      if (hit !== undefined) return hit;
    }
    return undefined;
  };

  const chosen = find('chosen');
  const rejected = find('rejected');
  if (chosen !== undefined && rejected !== undefined) {
    const prompt = find('prompt', 'question', 'instruction');
    return { kind: 'preference', fields: { ...(prompt !== undefined ? { prompt } : {}), chosen, rejected } };
  }
  const messages = find('messages');
  if (messages !== undefined && sample.some((r) => Array.isArray(r[messages]))) {
    return { kind: 'chat', fields: { messages } };
  }
  const instruction = find('instruction');
  const alpacaOutput = find('output', 'response');
  if (instruction !== undefined && alpacaOutput !== undefined) {
    const input = find('input', 'context');
    const fields: Record<string, string> = { instruction, output: alpacaOutput };
    if (input !== undefined) fields.input = input;
    return { kind: 'alpaca', fields };
  }
  const question = find('question');
  const answer = find('answer');
  if (question !== undefined && answer !== undefined) return { kind: 'qa', fields: { question, answer } };
  const prompt = find('prompt');
  const completion = find('completion');
  if (prompt !== undefined && completion !== undefined) {
    return { kind: 'prompt-completion', fields: { prompt, completion } };
  }
  const input = find('input');
  const output = find('output');
  if (input !== undefined && output !== undefined) return { kind: 'input-output', fields: { input, output } };
  const text = find('text');
  if (text !== undefined) return { kind: 'text', fields: { text } };
  return null;
}

/** A mapping is usable when every required slot names a field. Returns a message or null. */
export function checkMapping(m: FieldMapping): string | null {
  for (const s of MAPPING_SLOTS[m.kind]) {
    if (s.required && !m.fields[s.slot]) return `${s.label} has no field: pick one of the dataset's fields for it.`;
  }
  return null;
}

/** What a JSON value is, in words, for wrong-type messages. */
function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  return `a ${typeof v}`;
}

type RowResult = { example: MappedExample } | { issue: Omit<MappingIssue, 'row'> };

const ROLES: readonly string[] = ['system', 'user', 'assistant'] satisfies ChatMessage['role'][];
const isRole = (r: unknown): r is ChatMessage['role'] => typeof r === 'string' && ROLES.includes(r);

/** Validate a chat row's messages: an array of {role, content}, system messages first, some assistant text. */
function mapMessages(value: unknown, field: string): { messages: ChatMessage[] } | { issue: Omit<MappingIssue, 'row'> } {
  const wrong = (message: string) => ({ issue: { kind: 'wrong-type' as const, field, message } });
  if (!Array.isArray(value)) {
    return wrong(`"${field}" is ${describe(value)}, expected a list of {role, content} messages: map another field or fix the row.`);
  }
  const messages: ChatMessage[] = [];
  for (let i = 0; i < value.length; i++) {
    const m: unknown = value[i];
    const at = `${field}[${i}]`;
    if (m === null || typeof m !== 'object' || Array.isArray(m)) {
      return wrong(`${at} is ${describe(m)}, expected an object with a role and a content.`);
    }
    const { role, content } = m as Record<string, unknown>;
    if (role === undefined) return wrong(`${at} has no role: give it one of system, user or assistant.`);
    if (!isRole(role)) {
      const shown = typeof role === 'string' ? JSON.stringify(role) : describe(role);
      return wrong(`${at}.role is ${shown}: use system, user or assistant.`);
    }
    if (content === undefined) return wrong(`${at} has no content: give it the message text.`);
    if (typeof content !== 'string') return wrong(`${at}.content is ${describe(content)}, expected text: fix the row.`);
    // Templates render the system prompt once, ahead of the conversation (Llama 2 folds it into the first turn).
    if (role === 'system' && messages.some((p) => p.role !== 'system')) {
      return wrong(`${at} is a system message after the conversation started: move it to the start or drop it.`);
    }
    messages.push({ role, content });
  }
  if (messages.length === 0) {
    return { issue: { kind: 'empty-field', field, message: `"${field}" is an empty list: add the conversation or leave the row out.` } };
  }
  if (!messages.some((m) => m.role === 'assistant' && m.content.trim() !== '')) {
    return {
      issue: {
        kind: 'empty-field',
        field,
        message: `"${field}" has no assistant message with text, so there is nothing to learn: add a reply or leave the row out.`,
      },
    };
  }
  return { messages };
}

/**
 * Map one row. Checks every mapped slot in display order and reports the first problem:
 * a missing field ('missing-field') or a non-string value ('wrong-type'). Blank text is kept: the
 * course's own data has blank questions and one blank answer, and trains on them; stats count
 * blanks so the user can find and fix them. An optional slot (Alpaca input) may be absent or null. Chat rows keep prompt and input '' and put the last non-empty assistant reply in `output`,
 * so a preview of the row shows what it teaches.
 * Throws when the mapping itself is unusable (see checkMapping): that is the caller's bug, not the row's.
 */
export function mapRow(row: Row, m: FieldMapping): RowResult {
  const unusable = checkMapping(m);
  if (unusable !== null) throw new Error(unusable);

  const fields: Record<string, string> = {};
  for (const [k, v] of Object.entries(row)) if (typeof v === 'string') fields[k] = v;

  const missing = (field: string) => ({
    issue: { kind: 'missing-field' as const, field, message: `no "${field}" field: map another field or fix the row.` },
  });

  if (m.kind === 'chat') {
    const field = m.fields.messages;
    if (row[field] === undefined) return missing(field);
    const r = mapMessages(row[field], field);
    if ('issue' in r) return r;
    const replies = r.messages.filter((x) => x.role === 'assistant' && x.content.trim() !== '');
    return { example: { prompt: '', input: '', output: replies[replies.length - 1].content, messages: r.messages, fields } };
  }

  if (m.kind === 'preference') return mapPreference(row, m, fields);

  const values: Record<string, string> = {};
  for (const s of MAPPING_SLOTS[m.kind]) {
    const field = m.fields[s.slot];
    if (!field) continue; // an unmapped optional slot
    const v = row[field];
    if (!s.required && (v === undefined || v === null)) {
      values[s.slot] = '';
      continue;
    }
    if (v === undefined) return missing(field);
    if (typeof v !== 'string') {
      return {
        issue: { kind: 'wrong-type', field, message: `${field} is ${describe(v)}, expected text: map another field or fix the row.` },
      };
    }
    values[s.slot] = v;
  }
  return { example: { ...slotsToRoles(m.kind, values), messages: null, fields } };
}

/**
 * A preference pair. The common shapes: prompt, chosen and rejected as text (TRL's standard
 * format), or chosen and rejected as conversations that share their turns up to the last reply
 * (TRL's conversational format and Anthropic HH's; a prompt field, text or turns, goes first).
 * The example is the chosen reply in `output` (and, for conversations, in `messages` after the
 * prompt's turns), the rejected reply in `rejected`.
 */
function mapPreference(row: Row, m: FieldMapping, fields: Record<string, string>): RowResult {
  const issue = (kind: MappingIssue['kind'], field: string, message: string) => ({ issue: { kind, field, message } });
  const replies: Record<'chosen' | 'rejected', { text: string; before: ChatMessage[] | null }> = { chosen: { text: '', before: null }, rejected: { text: '', before: null } };
  for (const slot of ['chosen', 'rejected'] as const) {
    const field = m.fields[slot];
    const v = row[field];
    if (v === undefined) return issue('missing-field', field, `no "${field}" field: map another field or fix the row.`);
    if (typeof v === 'string') {
      replies[slot] = { text: v, before: null };
      continue;
    }
    if (!Array.isArray(v)) return issue('wrong-type', field, `${field} is ${describe(v)}, expected the answer as text or as a list of {role, content} messages: fix the row.`);
    const r = mapMessages(v, field);
    if ('issue' in r) return r;
    const last = r.messages[r.messages.length - 1];
    if (last.role !== 'assistant') return issue('wrong-type', field, `"${field}" ends with a ${last.role} message: its last message must be the assistant's reply.`);
    replies[slot] = { text: last.content, before: r.messages.slice(0, -1) };
  }
  const { chosen, rejected } = replies;
  if ((chosen.before === null) !== (rejected.before === null)) {
    return issue('wrong-type', m.fields.rejected, `"${m.fields.chosen}" and "${m.fields.rejected}" must both be text or both be conversations: fix the row.`);
  }
  if (chosen.before && JSON.stringify(chosen.before) !== JSON.stringify(rejected.before)) {
    return issue('wrong-type', m.fields.rejected, `"${m.fields.chosen}" and "${m.fields.rejected}" differ before their last reply: a pair answers the same conversation.`);
  }
  const promptField = m.fields.prompt;
  const p = promptField ? row[promptField] : undefined;
  let prompt = '';
  let turns: ChatMessage[] | null = chosen.before;
  if (p !== undefined && p !== null) {
    if (typeof p === 'string') {
      prompt = p;
      if (turns) turns = [{ role: 'user', content: p }, ...turns];
    } else {
      const r = mapMessagesLoose(p, promptField);
      if ('issue' in r) return r;
      turns = [...r.messages, ...(turns ?? [])];
    }
  } else if (!turns) {
    return issue('missing-field', promptField ?? 'prompt', promptField ? `no "${promptField}" field: map another field or fix the row.` : 'text answers need a prompt: map the prompt field.');
  }
  if (turns && !turns.some((t) => t.role === 'user')) return issue('empty-field', m.fields.chosen, 'the conversation has no user message before the replies: add the prompt.');
  const messages = turns ? [...turns, { role: 'assistant' as const, content: chosen.text }] : null;
  return { example: { prompt, input: '', output: chosen.text, rejected: rejected.text, messages, fields } };
}

/** A prompt given as turns: mapMessages without its need for an assistant reply (the replies are the pair's). */
function mapMessagesLoose(value: unknown, field: string): { messages: ChatMessage[] } | { issue: Omit<MappingIssue, 'row'> } {
  const r = mapMessages(Array.isArray(value) ? [...value, { role: 'assistant', content: '.' }] : value, field);
  return 'issue' in r ? r : { messages: r.messages.slice(0, -1) };
}

/** The rejected side of a preference pair, as an example of its own: the same prompt, the rejected reply. */
export function rejectedExample(ex: MappedExample): MappedExample {
  if (ex.rejected === undefined) throw new Error('not a preference pair: it has no rejected reply');
  const messages = ex.messages && [...ex.messages.slice(0, -1), { role: 'assistant' as const, content: ex.rejected }];
  return { ...ex, output: ex.rejected, messages, rejected: undefined };
}

/** The slot values in template roles (see MappedExample). */
function slotsToRoles(
  kind: Exclude<MappingKind, 'chat' | 'preference'>,
  v: Record<string, string>,
): Pick<MappedExample, 'prompt' | 'input' | 'output'> {
  switch (kind) {
    case 'qa':
      return { prompt: v.question, input: '', output: v.answer };
    case 'alpaca':
      return { prompt: v.instruction, input: v.input ?? '', output: v.output };
    case 'prompt-completion':
      return { prompt: v.prompt, input: '', output: v.completion };
    case 'input-output':
      return { prompt: v.input, input: '', output: v.output };
    case 'text':
      return { prompt: '', input: '', output: v.text };
  }
}

/** Map every row; examples[i] belongs to rows[i] (null where that row has an issue), so row numbers survive. */
export function mapRows(rows: Row[], m: FieldMapping): { examples: (MappedExample | null)[]; issues: MappingIssue[] } {
  const examples: (MappedExample | null)[] = new Array(rows.length);
  const issues: MappingIssue[] = [];
  for (let i = 0; i < rows.length; i++) {
    const r = mapRow(rows[i], m);
    if ('example' in r) {
      examples[i] = r.example;
    } else {
      examples[i] = null;
      issues.push({ row: i, ...r.issue });
    }
  }
  return { examples, issues };
}
