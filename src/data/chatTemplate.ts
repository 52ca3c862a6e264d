/**
 * A model's own chat template (the Jinja `chat_template` of its tokenizer_config.json), rendered
 * with @huggingface/jinja, the renderer transformers.js's apply_chat_template uses, with the
 * variables transformers passes (messages, add_generation_prompt, the special tokens).
 *
 * Training needs to know which text the assistant said. Templates do not mark it, so each
 * assistant turn is found by rendering prefixes, as LLaMA-Factory and TRL do: the conversation up
 * to the turn with the generation prompt (untrained), then up to and including the turn (its new
 * text, the reply and the template's end-of-turn, is trained). A template whose renderings of a
 * conversation's prefixes are not prefixes of each other (one that rewrites earlier turns) is
 * refused with the turn named, never split at a guess.
 */
import { Template } from '@huggingface/jinja';
import type { ChatMessage, Segment } from './types';

/** A chat template as a tokenizer_config.json gives it, with the special tokens it may print. */
export interface ChatTemplate {
  source: string;
  bosToken: string;
  eosToken: string;
}

/** A special token as tokenizer_config.json writes it: a string, or an added-token object with its content. */
const tokenText = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'object' && v !== null && typeof (v as { content?: unknown }).content === 'string' ? (v as { content: string }).content : '');

/**
 * The chat template of a tokenizer_config.json (a string, or a list of named templates of which
 * "default" is the one apply_chat_template uses), or null when it has none.
 */
export function chatTemplateOf(tokenizerConfig: unknown): ChatTemplate | null {
  if (typeof tokenizerConfig !== 'object' || tokenizerConfig === null) return null;
  const c = tokenizerConfig as Record<string, unknown>;
  let source: unknown = c.chat_template;
  if (Array.isArray(source)) source = (source as { name?: unknown; template?: unknown }[]).find((t) => t?.name === 'default')?.template;
  if (typeof source !== 'string' || source.trim() === '') return null;
  return { source, bosToken: tokenText(c.bos_token), eosToken: tokenText(c.eos_token) };
}

const compiled = new Map<string, Template>();

function compile(source: string): Template {
  let t = compiled.get(source);
  if (!t) {
    try {
      t = new Template(source);
    } catch (e) {
      throw new Error(`the model's chat template does not parse (${(e as Error).message}): pick another template`, { cause: e });
    }
    if (compiled.size > 8) compiled.clear();
    compiled.set(source, t);
  }
  return t;
}

/** The conversation as the template writes it; with `generationPrompt`, followed by the header of the assistant's next turn. */
export function renderChat(tpl: ChatTemplate, messages: ChatMessage[], generationPrompt: boolean): string {
  try {
    return compile(tpl.source).render({
      messages: messages.map((m) => ({ role: m.role, content: m.content })),
      add_generation_prompt: generationPrompt,
      bos_token: tpl.bosToken,
      eos_token: tpl.eosToken,
    });
  } catch (e) {
    const message = (e as Error).message;
    throw new Error(message.startsWith("the model's chat template") ? message : `the model's chat template failed on this example (${message})`, { cause: e });
  }
}

/** A conversation with every role and long turns: a template must render it before the studio uses it. */
const TRIAL: ChatMessage[] = [
  { role: 'system', content: 'You answer briefly. '.repeat(100) },
  { role: 'user', content: 'What is a token? '.repeat(120) },
  { role: 'assistant', content: 'A piece of text. '.repeat(120) },
  { role: 'user', content: 'And a template?' },
  { role: 'assistant', content: 'How turns become text.' },
];

/**
 * Why a chat template cannot be used, or null: it must render a trial conversation (with and
 * without the generation prompt) and split it into turns. A template is code from the model repo;
 * this runs in the data worker, so one that loops for ever or exhausts memory takes the worker
 * down, never the page, and is not adopted.
 */
export function trialRender(tpl: ChatTemplate): string | null {
  try {
    renderChat(tpl, TRIAL.slice(0, 2), true);
    chatSegments(tpl, TRIAL);
    return null;
  } catch (e) {
    const cause = (e as Error).cause;
    return `it fails on a trial conversation (${cause instanceof Error ? cause.message : (e as Error).message})`;
  }
}

/**
 * The conversation as segments: everything the template writes around the assistant's replies is
 * prompt (no loss); each reply with the template's end-of-turn after it is trained.
 */
export function chatSegments(tpl: ChatTemplate, messages: ChatMessage[]): Segment[] {
  if (!messages.some((m) => m.role === 'assistant')) throw new Error('the conversation has no assistant turn: nothing would be trained');
  const segs: Segment[] = [];
  let done = '';
  const extend = (text: string, train: boolean, turn: number) => {
    if (!text.startsWith(done)) {
      throw new Error(`the model's chat template rewrites earlier turns when turn ${turn + 1} is added, so its reply cannot be told apart from the rest: pick another template`);
    }
    if (text.length > done.length) segs.push({ text: text.slice(done.length), train });
    done = text;
  };
  messages.forEach((m, i) => {
    if (m.role !== 'assistant') return;
    extend(renderChat(tpl, messages.slice(0, i), true), false, i);
    extend(renderChat(tpl, messages.slice(0, i + 1), false), true, i);
  });
  extend(renderChat(tpl, messages, false), false, messages.length - 1);
  return segs;
}
