/** The Ollama Modelfile prompts the model the way the run was trained (each template's exact text around {{ .Prompt }}) and stops where it learned to stop. */
import { describe, expect, it } from 'vitest';
import { renderSegments } from '../data/templates';
import { ollamaModelfile, ollamaTemplate } from './ollama';

/** What Ollama's Go template prints for a prompt, for the templates written here (only {{ .Prompt }} and string actions). */
const goRender = (template: string, prompt: string) => template.replace(/\{\{ \.Prompt \}\}/g, prompt).replace(/\{\{ ("(?:[^"\\]|\\.)*") \}\}/g, (_, s: string) => JSON.parse(s) as string);

describe('ollamaModelfile', () => {
  it.each(['qa', 'alpaca', 'llama2', 'plain'] as const)('the %s template renders a prompt as the studio did in training', (id) => {
    const t = ollamaTemplate({ id, custom: '' });
    const example = { prompt: 'How do I export?', input: '', output: 'Pick GGUF.', messages: null, fields: {} };
    const trained = renderSegments(example, { id, custom: '' }, 'qa');
    const promptText = trained.filter((s) => !s.train).map((s) => s.text).join('');
    expect(goRender(t.template!, 'How do I export?')).toBe(promptText);
  });

  it('a custom template keeps its literal braces as text, each through a Go string action', () => {
    const t = ollamaTemplate({ id: 'custom', custom: 'Q {{x}} "{question}" }} A:' });
    expect(t.template).toBe('Q {{ "{" }}x{{ "}" }} "{{ .Prompt }}" {{ "}" }} A:');
    expect(goRender(t.template!, 'why?')).toBe('Q {x} "why?" } A:');
    const two = ollamaTemplate({ id: 'custom', custom: '{instruction}\n{input}\n' });
    expect(two.note).toMatch(/2 fields \(instruction, input\): type the whole prompt/);
  });

  it('a ChatML chat template becomes Ollama\'s ChatML with <|im_end|> as a stop; another is left to the GGUF\'s own', () => {
    const chat = { id: 'model' as const, custom: '', chat: { source: "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>{% endfor %}", bosToken: '', eosToken: '<|im_end|>' } };
    const file = ollamaModelfile({ template: chat, eosToken: '<|endoftext|>', modelFile: 'model.gguf' });
    expect(file).toContain('TEMPLATE """{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}<|im_start|>assistant\n"""');
    expect(file).toContain('PARAMETER stop "<|im_end|>"\nPARAMETER stop "<|endoftext|>"');
    const other = ollamaModelfile({ template: { ...chat, chat: { ...chat.chat, source: '[INST] {{ messages[0].content }} [/INST]' } }, eosToken: '</s>', modelFile: 'model.gguf' });
    expect(other).not.toContain('TEMPLATE');
    expect(other).toContain('# the model\'s own chat template is stored in the GGUF');
  });

  it('an adapter\'s Modelfile names the base GGUF and the adapter', () => {
    expect(ollamaModelfile({ template: { id: 'qa', custom: '' }, eosToken: '<|endoftext|>', modelFile: 'base.gguf', adapterFile: 'adapter.gguf' })).toBe(
      '# Ollama: ollama create my-model -f Modelfile && ollama run my-model\nFROM ./base.gguf\nADAPTER ./adapter.gguf\nTEMPLATE """### Question:\n{{ .Prompt }}\n\n### Answer:"""\nPARAMETER stop "<|endoftext|>"\n',
    );
  });
});
