import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { createTinyModel, generateGreedy, openStudio, watchErrors } from './support/page';
import { writeTinyBf16Llama, writeTinyModel } from './support/tinyModel';

for (const backend of ['webgpu', 'wasm'] as const) {
  test(`a tiny random model streams tokens on ${backend}, without console errors`, async ({ page }) => {
    const errors = watchErrors(page);
    await openStudio(page, `backend=${backend}`);
    await expect(page.getByTestId('backend-name')).toHaveText(backend);
    // The build's COOP/COEP headers and the threads plugin: a 2-core machine runs WASM on 2 threads.
    await expect(page.getByTestId('backend-isolated')).toHaveText('yes');
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    if (backend === 'wasm') expect(Number(await page.getByTestId('backend-wasm-threads').textContent())).toBe(cores >= 2 ? Math.min(8, cores <= 4 ? cores : Math.ceil(cores / 2)) : 1);
    await createTinyModel(page);
    const info = page.getByTestId('model-info');
    expect(Number(await info.getAttribute('data-param-count'))).toBeGreaterThan(3_000_000);

    // Streaming: the generated text grows while the run is still going.
    await page.getByTestId('prompt').fill('The studio');
    await page.getByTestId('max-new-tokens').fill('24');
    await page.getByTestId('generate').click();
    await expect(page.getByTestId('gen-stats')).toContainText('generating');
    await expect(page.getByTestId('generated')).not.toBeEmpty();
    await expect(page.getByTestId('gen-stats')).toHaveAttribute('data-stop-reason', /^(length|eos)$/);
    expect(Number(await page.getByTestId('gen-stats').getAttribute('data-tokens'))).toBeGreaterThan(0);
    expect(errors).toEqual([]);
  });
}

test('a model folder dropped in as files gives the same greedy tokens as the CLI', async ({ page }) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'neox-e2e-'));
  try {
    const files = writeTinyModel(dir, 7);
    const prompt = 'Question: what is a tensor?';
    const cli = execFileSync('node_modules/.bin/tsx', ['src/cli/main.ts', 'generate', '--model', dir, '--prompt', prompt, '--max-new-tokens', '12'], { encoding: 'utf8' });
    const cliText = cli.replace(/\n$/, '');
    expect(cliText.length).toBeGreaterThan(0);

    const errors = watchErrors(page);
    await openStudio(page, 'backend=wasm');
    await page.getByTestId('files-input').setInputFiles(files);
    await expect(page.getByTestId('model-status')).toHaveText('Ready');
    await expect(page.getByTestId('model-info')).toContainText('tokenizer');
    const text = await generateGreedy(page, prompt, 12);
    expect(text).toBe(cliText);
    expect(errors).toEqual([]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a Llama folder whose weights are bfloat16 values gives, on threaded WASM, the greedy tokens of the CPU backend', async ({ page }) => {
  // WASM decodes such a model through bfloat16 copies of its weights and SIMD row products in the
  // page's shared memory; the CLI on the CPU backend multiplies by the float32 weights.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'llama-bf16-e2e-'));
  try {
    const files = writeTinyBf16Llama(dir, 5);
    const prompt = 'Question: what is a tensor?';
    const cli = execFileSync('node_modules/.bin/tsx', ['src/cli/main.ts', 'generate', '--backend', 'cpu', '--model', dir, '--prompt', prompt, '--max-new-tokens', '16'], { encoding: 'utf8' });
    const errors = watchErrors(page);
    await openStudio(page, 'backend=wasm');
    await expect(page.getByTestId('backend-wasm-threads')).not.toHaveText('1');
    await page.getByTestId('files-input').setInputFiles(files);
    await expect(page.getByTestId('model-status')).toHaveText('Ready');
    expect(await generateGreedy(page, prompt, 16)).toBe(cli.replace(/\n$/, ''));
    expect(errors).toEqual([]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a model folder with a broken config.json is refused in a moment, and the model already loaded stays in use', async ({ page }) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'neox-e2e-'));
  try {
    const files = writeTinyModel(dir, 7);
    const config = files.find((f) => f.endsWith('config.json'))!;
    writeFileSync(config, JSON.stringify({ ...JSON.parse(readFileSync(config, 'utf8')), num_hidden_layers: 1e9 }));
    const errors = watchErrors(page);
    await openStudio(page, 'backend=wasm');
    await createTinyModel(page);
    const before = await generateGreedy(page, 'Hello', 4);
    const started = Date.now();
    await page.getByTestId('files-input').setInputFiles(files);
    await expect(page.getByTestId('model-refused')).toContainText(/did not load: .*num_hidden_layers/);
    expect(Date.now() - started).toBeLessThan(5_000);
    await expect(page.getByTestId('model-status')).toHaveText('Ready');
    await expect(page.getByTestId('model-refused')).toContainText('The model below is still loaded.');
    // The tiny model still answers, the same as before.
    expect(await generateGreedy(page, 'Hello', 4)).toBe(before);
    expect(errors).toEqual([]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
