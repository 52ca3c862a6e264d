/** A typed prompt in the form training saw: what side by side sends unless "raw" is ticked. */
import { renderSegments } from '../data/templates';
import type { FieldMapping, TemplateSpec } from '../data/types';

/** Stands in for the answer while rendering (and for the question, to find the template's text before it). */
const MARK = '\u0000';

/**
 * A typed question wrapped in the template the run trained with, ending where the model's answer
 * begins ("### Question:\n…\n\n### Answer:"). Text data has no prompt form, so the text goes as it
 * is; so does a custom template that needs fields a single question cannot fill, and a prompt that
 * already starts with the template's text.
 */
export function templatedPrompt(text: string, template: TemplateSpec, mapping: FieldMapping | null): string {
  if (!mapping || mapping.kind === 'text') return text;
  // Already in the template (the playground's default prompt is): wrapping it again would double it.
  // With the mark as the question, wrap stops at the question's mark: the template's text before it.
  const before = wrap(MARK, template, mapping);
  if (before.trim() !== '' && text.startsWith(before)) return text;
  return wrap(text, template, mapping);
}

function wrap(text: string, template: TemplateSpec, mapping: FieldMapping): string {
  const slots = Object.keys(mapping.fields);
  const [promptSlot] = slots;
  const answerSlot = slots.find((s) => ['answer', 'output', 'completion'].includes(s));
  // A custom template names source fields: fill the question's field, blank the others.
  const fields: Record<string, string> = {};
  for (const [slot, field] of Object.entries(mapping.fields)) fields[field] = slot === promptSlot ? text : slot === answerSlot ? MARK : '';
  const ex = {
    prompt: text,
    input: '',
    output: MARK,
    messages: mapping.kind === 'chat' ? [{ role: 'user' as const, content: text }, { role: 'assistant' as const, content: MARK }] : null,
    fields,
  };
  try {
    const segs = renderSegments(ex, template, mapping.kind);
    const i = segs.findIndex((s) => s.text.includes(MARK));
    if (i < 0) return text;
    // The answer's own segment starts with what the template puts before it (Llama 2's space): that
    // belongs to the answer, as in training, so the prompt ends where the prompt segments do.
    const before = segs.slice(0, i).map((s) => s.text).join('');
    return segs[i].train ? before : before + segs[i].text.slice(0, segs[i].text.indexOf(MARK));
  } catch {
    return text;
  }
}
