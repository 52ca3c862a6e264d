/**
 * A Llama-family model with a chat template, as a user meets one: loaded from local files, its
 * chat data rendered in its own template (loss on the replies), a few LoRA steps, and the
 * playground's chat mode sending exactly the template's rendering of the prompt.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { TINY_CHAT_TEMPLATE, writeTinyModelDir } from '../src/testing/tinyModel';
import { dropFile, generateGreedy, openStudio, watchErrors } from './support/page';

const CHATS = [
  ['What does LoRA train?', 'Small adapters beside the frozen weights.'],
  ['What is a token?', 'A piece of text the model reads.'],
  ['Why split off a test set?', 'To see how the model does on rows it never trained on.'],
  ['What is the learning rate?', 'How far each step moves the weights.'],
]
  .map(([q, a]) => JSON.stringify({ messages: [{ role: 'user', content: q }, { role: 'assistant', content: a }] }))
  .join('\n');

for (const backend of ['wasm', 'webgpu'] as const) {
  test(`a tiny Llama with a chat template on ${backend}: its template renders the chats, LoRA trains, and chat mode sends the rendered turn`, async ({ page }) => {
    test.setTimeout(300_000);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'studio-e2e-llama-'));
    try {
      writeTinyModelDir(dir, { spec: { hiddenSize: 64, numLayers: 2, numHeads: 4, seed: 5, family: 'llama' }, std: 0.2, tokenizerConfig: { chat_template: TINY_CHAT_TEMPLATE, eos_token: '<|endoftext|>' } });
      const errors = watchErrors(page);
      await openStudio(page, `backend=${backend}`);
      await page.getByTestId('files-input').setInputFiles(readdirSync(dir).map((f) => path.join(dir, f)));
      await expect(page.getByTestId('model-status')).toHaveText('Ready', { timeout: 60_000 });
      await expect(page.getByTestId('model-info')).toContainText('Llama (model_type "llama")');
      await expect(page.getByTestId('model-info')).toContainText('4 query, 2 key/value (grouped-query)');

      // The chats in the model's own template: the preview shows the turns, the replies are the trained part.
      await page.getByTestId('tab-data').click();
      await dropFile(page, 'data-drop', 'chats.jsonl', CHATS);
      await expect(page.getByTestId('dataset-rows')).toHaveText('4');
      await expect(page.getByTestId('mapping-kind')).toHaveValue('chat');
      await page.getByTestId('template-id').selectOption('model');
      const preview = page.getByTestId('template-preview');
      await expect(preview).toContainText('<|user|>');
      await expect(preview.locator('.seg-train').first()).toHaveText(/^(Small adapters|A piece|To see|How far).*<\|endoftext\|>\n?$/);
      await expect(page.getByTestId('tokenizer-source')).toContainText("the loaded model's own tokenizer");
      await page.screenshot({ path: `test-results/families-data-${backend}.png`, fullPage: true });

      await page.getByTestId('tab-train').click();
      await page.getByTestId('train-method-lora').check();
      await expect(page.getByTestId('train-lora-target-self_attn.q_proj')).toBeChecked(); // PEFT's default for Llama: q_proj and v_proj
      await expect(page.getByTestId('train-lora-target-self_attn.v_proj')).toBeChecked();
      for (const [id, value] of [['train-max-steps', '4'], ['train-batch-size', '2'], ['train-eval-every', '0'], ['train-sample-every', '0']]) {
        await page.getByTestId(id).fill(value);
        await page.getByTestId(id).blur();
      }
      await page.getByTestId('train-start').click();
      await expect(page.getByTestId('run-status')).toHaveText('finished', { timeout: 120_000 });
      expect(Number.isFinite(Number(await page.getByTestId('run-loss').textContent()))).toBe(true);
      await page.screenshot({ path: `test-results/families-trained-${backend}.png`, fullPage: true });

      // Chat mode sends the prompt as the template's user turn with the assistant's opened: the same
      // greedy text as typing that rendering by hand with chat mode off.
      await page.getByTestId('tab-model').click();
      await expect(page.getByTestId('chat-mode')).toBeChecked();
      const chat = await generateGreedy(page, 'What does LoRA train?', 6);
      await page.getByTestId('chat-mode').uncheck();
      const byHand = await generateGreedy(page, '<|user|>\nWhat does LoRA train?<|endoftext|>\n<|assistant|>\n', 6);
      const raw = await generateGreedy(page, 'What does LoRA train?', 6);
      expect(chat).toBe(byHand);
      expect(chat).not.toBe(raw);
      expect(errors).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
