import { describe, expect, it } from 'vitest';
import { QWEN25_CHAT_TEMPLATE, SMOLLM2_CHAT_TEMPLATE } from '../testing/hubConfigs';
import { chatSegments, renderChat, type ChatTemplate } from './chatTemplate';
import type { ChatMessage } from './types';

const smol: ChatTemplate = { source: SMOLLM2_CHAT_TEMPLATE, bosToken: '<|im_start|>', eosToken: '<|im_end|>' };
const qwen: ChatTemplate = { source: QWEN25_CHAT_TEMPLATE, bosToken: '', eosToken: '<|im_end|>' };

const twoTurns: ChatMessage[] = [
  { role: 'user', content: 'What is LoRA?' },
  { role: 'assistant', content: 'Low-rank adapters.' },
  { role: 'user', content: 'Why use it?' },
  { role: 'assistant', content: 'It trains far fewer weights.' },
];

describe('chat templates, as their model cards document them (ChatML)', () => {
  it('SmolLM2-Instruct: its default system prompt, then each turn as <|im_start|>role\\n…<|im_end|>\\n', () => {
    expect(renderChat(smol, [{ role: 'user', content: 'Hi' }], true)).toBe(
      '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n',
    );
    expect(renderChat(smol, [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello.' }], false)).toBe(
      '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello.<|im_end|>\n',
    );
  });

  it('Qwen2.5-Instruct: "You are Qwen, created by Alibaba Cloud…" unless a system message is given', () => {
    expect(renderChat(qwen, [{ role: 'user', content: 'Hi' }], true)).toBe(
      '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n',
    );
    expect(renderChat(qwen, [{ role: 'system', content: 'Answer in French.' }, { role: 'user', content: 'Hi' }], false)).toBe(
      '<|im_start|>system\nAnswer in French.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n',
    );
  });

  it.each([
    ['SmolLM2', smol, '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n'],
    ['Qwen2.5', qwen, '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n'],
  ])('%s, two turns: only the replies and their <|im_end|>\\n carry loss, and the segments are the whole rendering', (_, tpl, system) => {
    const segs = chatSegments(tpl, twoTurns);
    expect(segs).toEqual([
      { text: `${system}<|im_start|>user\nWhat is LoRA?<|im_end|>\n<|im_start|>assistant\n`, train: false },
      { text: 'Low-rank adapters.<|im_end|>\n', train: true },
      { text: '<|im_start|>user\nWhy use it?<|im_end|>\n<|im_start|>assistant\n', train: false },
      { text: 'It trains far fewer weights.<|im_end|>\n', train: true },
    ]);
    expect(segs.map((s) => s.text).join('')).toBe(renderChat(tpl, twoTurns, false));
  });

  it('a template that rewrites earlier turns is refused, naming the turn', () => {
    // Drops every reply but the last, as templates that strip earlier reasoning do.
    const rewriting: ChatTemplate = { ...smol, source: "{% for m in messages %}{% if m.role != 'assistant' or loop.last %}{{ m.role }}: {{ m.content }}\n{% endif %}{% endfor %}{% if add_generation_prompt %}assistant: {% endif %}" };
    expect(() => chatSegments(rewriting, twoTurns)).toThrow(/rewrites earlier turns when turn 4 is added/);
  });

  it('a conversation without an assistant turn, and a template that does not parse, say what is wrong', () => {
    expect(() => chatSegments(smol, [{ role: 'user', content: 'Hi' }])).toThrow(/no assistant turn/);
    expect(() => renderChat({ ...smol, source: '{% for m in messages %}' }, twoTurns, false)).toThrow(/chat template does not parse/);
  });
});
