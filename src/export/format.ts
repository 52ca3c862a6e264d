/**
 * Small pieces the recipe and the model card share: how the studio's settings are named in the
 * Hugging Face ecosystem, and a YAML writer for the few scalars they emit.
 *
 * YAML is written by hand rather than with a library: the files are short and fixed in shape, and
 * the app should not ship a YAML package for them. The tests parse every file with `yaml` (npm)
 * and with PyYAML, the parser axolotl itself uses.
 */
import { ALPACA_NO_INPUT, ALPACA_WITH_INPUT, QA_PROMPT } from '../data/templates';
import type { TemplateSpec } from '../data/types';
import type { ScheduleKind } from '../train/types';

/** Pythia's (and every GPT-NeoX tokenizer's) end-of-text token: bos = eos = unk, id 0. */
export const EOS_TOKEN = '<|endoftext|>';

/**
 * The transformers `lr_scheduler_type` that computes the studio's schedule (src/train/schedule.ts
 * implements HF's lr_lambdas). The studio's "constant" warms up, so it is HF's
 * constant_with_warmup: HF's plain "constant" ignores warmup_steps.
 */
export const HF_SCHEDULER: Record<ScheduleKind, string> = {
  constant: 'constant_with_warmup',
  linear: 'linear',
  cosine: 'cosine',
};

/**
 * A number as YAML that YAML 1.2 parsers and PyYAML (YAML 1.1, which axolotl uses) both read as a
 * number: PyYAML reads "1e-8" as a string, since its float needs a dot and a signed exponent.
 */
export function yamlNumber(n: number): string {
  if (!Number.isFinite(n)) throw new Error(`cannot write ${n} as a YAML number`);
  const s = String(n);
  const m = /^(-?)(\d+)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  return m ? `${m[1]}${m[2]}.${m[3] ?? '0'}e${m[4]}` : s;
}

/**
 * A string as a YAML double-quoted scalar. JSON's escapes are all valid YAML escapes; the
 * characters YAML would treat as line breaks or refuse (C1 controls, U+2028/9, BOM) are escaped too.
 */
export const yamlString = (s: string): string =>
  JSON.stringify(s).replace(/[\u0080-\u009f\u2028\u2029\ufeff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

export const yamlScalar = (v: string | number | boolean): string =>
  typeof v === 'string' ? yamlString(v) : typeof v === 'number' ? yamlNumber(v) : String(v);

/** A flow sequence of scalars: ["a", "b"]. */
export const yamlList = (items: (string | number | boolean)[]): string => `[${items.map(yamlScalar).join(', ')}]`;

/**
 * The prompt each template puts before the answer, with its placeholders, as the studio renders it
 * (src/data/templates.ts). `answerPrefix` is what sits between the prompt and the answer.
 */
export interface PromptFormat {
  label: string;
  /** One or two prompt forms (Alpaca has one with and one without an input). */
  prompts: { when: string | null; text: string }[];
  answerPrefix: string;
}

export function promptFormat(spec: TemplateSpec): PromptFormat {
  switch (spec.id) {
    case 'plain':
      return { label: 'plain concatenation', prompts: [{ when: null, text: '{prompt}' }], answerPrefix: '' };
    case 'qa':
      return { label: 'question / answer, as in the course', prompts: [{ when: null, text: QA_PROMPT }], answerPrefix: '' };
    case 'alpaca':
      return {
        label: 'Alpaca',
        prompts: [
          { when: 'with an input', text: ALPACA_WITH_INPUT },
          { when: 'without an input', text: ALPACA_NO_INPUT },
        ],
        answerPrefix: '',
      };
    case 'llama2':
      return { label: 'Llama 2 chat', prompts: [{ when: null, text: '[INST] {prompt} [/INST]' }], answerPrefix: ' ' };
    case 'custom':
      return { label: 'custom', prompts: [{ when: null, text: spec.custom }], answerPrefix: '' };
    case 'model':
      // The model's own Jinja template: the recipe and card point to it rather than copy it.
      return { label: "the model's chat template (tokenizer_config.json's chat_template, as apply_chat_template renders it)", prompts: [{ when: null, text: '{chat template}' }], answerPrefix: '' };
  }
}

/** A Markdown code fence longer than any run of backticks in `text`, so the text cannot close it. */
export function fenced(text: string, lang = ''): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((r) => r.length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}${lang}\n${text}\n${fence}`;
}
