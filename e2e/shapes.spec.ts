/**
 * A model of Pythia-160m's full shape in the browser on WASM, from local files: a float16
 * model.safetensors (as the Hub ships it) with the seeded random weights of fixtures/shapes, whose
 * greedy tokens the float64 PyTorch reference wrote (src/client/shapes.test.ts checks the engine
 * against them in Node; here the page must say the same as the CLI on the same folder).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { shapeFixturePath, type ShapeFixture } from '../src/testing/shapes';
import { writeTinyModelDir } from '../src/testing/tinyModel';
import { generateGreedy, openStudio, watchErrors } from './support/page';

const fixture = JSON.parse(readFileSync(shapeFixturePath('pythia-160m'), 'utf8')) as ShapeFixture;

test('the Pythia-160m shape from local files generates the reference tokens, trains LoRA steps, and generates again', async ({ page }) => {
  test.setTimeout(600_000);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'neox-e2e-160m-'));
  try {
    writeTinyModelDir(dir, { spec: fixture.spec, std: fixture.std, dtype: 'F16' });
    const n = fixture.tokens.length;
    const cli = execFileSync('node_modules/.bin/tsx', ['src/cli/main.ts', 'generate', '--model', dir, '--prompt', fixture.prompt, '--max-new-tokens', String(n)], { encoding: 'utf8' });
    const reference = cli.replace(/\n$/, '');
    expect(reference.length).toBeGreaterThan(0);

    const errors = watchErrors(page);
    await openStudio(page, 'backend=wasm');
    await page.getByTestId('files-input').setInputFiles(readdirSync(dir).map((f) => path.join(dir, f)));
    await expect(page.getByTestId('model-status')).toHaveText('Ready', { timeout: 120_000 });
    await expect(page.getByTestId('model-info')).toHaveAttribute('data-param-count', '162322944');
    expect(await generateGreedy(page, fixture.prompt, n)).toBe(reference);

    // A few LoRA steps on the sample dataset (the estimate turns checkpointing on if it must).
    await page.getByTestId('tab-train').click();
    await page.getByTestId('train-method-lora').check();
    for (const [id, value] of [['train-max-steps', '3'], ['train-batch-size', '2'], ['train-eval-every', '0'], ['train-sample-every', '0']]) {
      await page.getByTestId(id).fill(value);
      await page.getByTestId(id).blur();
    }
    await expect(page.getByTestId('estimate')).toHaveAttribute('data-verdict', 'fits');
    await page.getByTestId('train-start').click();
    await expect(page.getByTestId('run-status')).toHaveText('finished', { timeout: 300_000 });
    await expect(page.getByTestId('run-step')).toHaveText('3 / 3');
    const loss = Number(await page.getByTestId('run-loss').textContent());
    expect(Math.abs(loss - Math.log(50304))).toBeLessThan(0.5); // random weights: about uniform over the vocabulary
    await page.screenshot({ path: 'test-results/shape-160m-trained.png', fullPage: true });

    // The base model still gives the reference tokens after training beside it.
    await page.getByTestId('tab-model').click();
    expect(await generateGreedy(page, fixture.prompt, n)).toBe(reference);
    expect(errors).toEqual([]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
