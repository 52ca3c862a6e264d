/**
 * An Ollama Modelfile for an exported GGUF: the prompt template the run was trained with, as a Go
 * template (Ollama's TEMPLATE), and the stop token it learned to end with. Also the lines that
 * say how to run the file with Ollama and with llama.cpp.
 *
 * The studio's templates wrap one prompt, so each becomes `{{ .Prompt }}` in its place. The
 * model's own chat template is Jinja, which Ollama does not run: a ChatML template (SmolLM2- and
 * Qwen-Instruct) is written as Ollama's ChatML; any other is left to Ollama, which reads the
 * template stored in the GGUF.
 */
import type { TemplateSpec } from '../data/types';
import { parseCustom } from '../data/templates';
import { promptFormat } from './format';

export interface ModelfileInput {
  /** How the run's examples were rendered (the base model: null, a plain prompt). */
  template: TemplateSpec | null;
  /** The text of the tokenizer's end-of-sequence token. */
  eosToken: string;
  /** The GGUF file beside the Modelfile (the model, or for an adapter the base it needs). */
  modelFile: string;
  /** A LoRA adapter's GGUF file, applied on top of modelFile. */
  adapterFile?: string;
}

/**
 * Text as a Go template prints it. Every brace goes through a string action, not only `{{`: a
 * single `{` before `{{ .Prompt }}` would otherwise open an action. The Modelfile's `"""` too.
 */
const goLiteral = (text: string): string => text.replace(/[{}]|"""/g, (m) => `{{ ${JSON.stringify(m)} }}`);

const CHATML = '{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}<|im_start|>assistant\n';

/** The template as Ollama's TEMPLATE, or null where Ollama should use the GGUF's own. */
export function ollamaTemplate(spec: TemplateSpec | null): { template: string | null; stop: string | null; note: string | null } {
  if (!spec || spec.id === 'plain') return { template: '{{ .Prompt }}', stop: null, note: null };
  if (spec.id === 'model') {
    const source = spec.chat?.source ?? '';
    if (source.includes('<|im_start|>')) return { template: CHATML, stop: '<|im_end|>', note: null };
    return { template: null, stop: null, note: "the model's own chat template is stored in the GGUF (tokenizer.chat_template); Ollama uses it where it recognises it" };
  }
  if (spec.id === 'custom') {
    const parsed = parseCustom(spec.custom);
    if ('error' in parsed) throw new Error(`the run's custom template does not parse (${parsed.error.message}): fix it in the Data tab`);
    const fields = parsed.pieces.filter((p) => 'field' in p);
    const names = [...new Set(fields.map((p) => ('field' in p ? p.field : '')))];
    if (names.length > 1) return { template: '{{ .Prompt }}', stop: null, note: `the run's template has ${names.length} fields (${names.join(', ')}): type the whole prompt as the run saw it` };
    return { template: parsed.pieces.map((p) => ('field' in p ? '{{ .Prompt }}' : goLiteral(p.literal))).join(''), stop: null, note: null };
  }
  const fmt = promptFormat(spec);
  const text = fmt.prompts[fmt.prompts.length - 1].text; // Alpaca: the form without an input
  const pieces = text.split(/\{\w+\}/);
  // The answer prefix (Llama 2's space) was trained as part of the answer: the model writes it.
  return { template: pieces.map(goLiteral).join('{{ .Prompt }}'), stop: null, note: null };
}

/** The Modelfile's text. */
export function ollamaModelfile(x: ModelfileInput): string {
  const t = ollamaTemplate(x.template);
  const stops = [...new Set([t.stop, x.eosToken].filter((s): s is string => !!s))];
  return [
    '# Ollama: ollama create my-model -f Modelfile && ollama run my-model',
    `FROM ./${x.modelFile}`,
    ...(x.adapterFile ? [`ADAPTER ./${x.adapterFile}`] : []),
    ...(t.note ? [`# ${t.note}`] : []),
    ...(t.template !== null ? [`TEMPLATE """${t.template}"""`] : []),
    ...stops.map((s) => `PARAMETER stop ${JSON.stringify(s)}`),
    '',
  ].join('\n');
}

/** The commands that run the export, for the export panel and the CLI. */
export function runInstructions(modelFile: string, adapterFile?: string): string[] {
  return [
    'ollama create my-model -f Modelfile && ollama run my-model',
    `llama-cli -m ${modelFile}${adapterFile ? ` --lora ${adapterFile}` : ''} -p "…"`,
  ];
}
