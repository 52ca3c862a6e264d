import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { DEFAULT_SPLIT } from '../src/data/defaults';
import { splitIds } from '../src/data/split';
import { epochBatches } from '../src/train/batchPlan';
import { DEFAULT_TRAIN } from '../src/train/presets';
import { createTinyModel, dropFile, openStudio, watchErrors } from './support/page';

const LAMINI = readFileSync('fixtures/data/course/lamini_docs.jsonl', 'utf8');

async function loadLamini(page: Page): Promise<void> {
  await page.getByTestId('tab-data').click();
  await expect(page.getByTestId('dataset-name')).toHaveText('NeoX Studio help (sample)');
  await dropFile(page, 'data-drop', 'lamini_docs.jsonl', LAMINI);
  await expect(page.getByTestId('dataset-rows')).toHaveText('1,400');
}

async function setNumber(page: Page, testId: string, value: string): Promise<void> {
  await page.getByTestId(testId).fill(value);
  await page.getByTestId(testId).blur();
}

/** Loads the same random tiny model again (a run resumes only on its own base), then resumes the run. */
async function resumeOnTinyModel(page: Page): Promise<void> {
  await page.getByTestId('tab-model').click();
  await createTinyModel(page);
  await page.getByTestId('tab-train').click();
  await page.getByTestId('train-resume').click();
}

const stepOf = async (page: Page) => Number(((await page.getByTestId('run-step').textContent()) ?? '0').split('/')[0]);

test('a 30-step run on WASM with the course data: the chart fills, tokens/s and ETA show, a reload mid-run resumes', async ({ page }) => {
  const errors = watchErrors(page);
  await openStudio(page, 'backend=wasm');
  await createTinyModel(page);
  await loadLamini(page);
  await page.getByTestId('tab-train').click();
  await page.getByTestId('train-preset').selectOption('quick');
  // Packing: the course data's short answers would pack 2× tighter at max length 512; left alone it
  // turns on for a run in epochs, and stays off for the Quick look's 30 steps.
  await expect(page.getByTestId('train-packing-hint')).toContainText(/2\.\d× fewer tokens computed per epoch \(1,260 examples in \d+ rows\)/);
  await setNumber(page, 'train-max-steps', '0');
  await expect(page.getByTestId('train-packing')).toBeChecked();
  await expect(page.getByTestId('train-packing-auto')).toBeVisible();
  await setNumber(page, 'train-max-steps', '30');
  await expect(page.getByTestId('train-packing')).not.toBeChecked();
  await setNumber(page, 'train-checkpoint-every', '5');
  await setNumber(page, 'train-eval-every', '15');
  await setNumber(page, 'train-sample-every', '15');
  await expect(page.getByTestId('estimate')).toHaveAttribute('data-verdict', 'fits');
  await page.getByTestId('train-start').click();
  await expect(page.getByTestId('run-status')).toHaveText('running');
  await expect(page.getByTestId('run-tokens-per-s')).toHaveText(/\d/);
  await expect(page.getByTestId('run-eta')).toHaveText(/\d/);
  // Charts in a hidden tab keep still (no zero-size warnings from recharts: watchErrors) and come back when shown.
  await page.getByTestId('tab-model').click();
  await expect.poll(() => stepOf(page), { timeout: 60_000 }).toBeGreaterThanOrEqual(3);
  await page.getByTestId('tab-train').click();
  await expect(page.getByTestId('loss-chart').locator('svg').first()).toBeVisible();
  // Past the first checkpoint (step 5), reload in the middle of the run.
  await expect.poll(() => stepOf(page), { timeout: 120_000 }).toBeGreaterThanOrEqual(7);
  await page.screenshot({ path: 'test-results/train-running.png', fullPage: true });
  await page.reload();
  await expect(page.getByTestId('backend-name')).toHaveText('wasm');
  await page.getByTestId('tab-train').click();
  await expect(page.getByTestId('run-status')).toHaveText('interrupted');
  // The same model again (random, seed 0), then resume from the checkpoint.
  await resumeOnTinyModel(page);
  await expect(page.getByTestId('run-status')).toHaveText('finished', { timeout: 170_000 });
  await expect(page.getByTestId('run-step')).toHaveText('30 / 30');
  expect(Number(await page.getByTestId('loss-chart').getAttribute('data-points'))).toBeGreaterThanOrEqual(30);
  await expect(page.getByTestId('run-samples')).toContainText('### Question:');
  await expect(page.getByTestId('runs-table').getByTestId('run-row')).toHaveCount(1);
  await page.screenshot({ path: 'test-results/train-finished.png', fullPage: true });
  // The playground can now run the fine-tuned weights.
  await page.getByTestId('tab-model').click();
  await expect(page.getByTestId('generate-with')).toBeVisible();
  expect(errors).toEqual([]);
});

test('a LoRA run on WASM finishes and is listed with its method', async ({ page }) => {
  const errors = watchErrors(page);
  await openStudio(page, 'backend=wasm');
  await createTinyModel(page);
  await page.getByTestId('tab-train').click();
  await page.getByTestId('train-method-lora').check();
  await setNumber(page, 'train-max-steps', '8');
  await setNumber(page, 'train-eval-every', '4');
  await page.getByTestId('train-start').click();
  await expect(page.getByTestId('run-status')).toHaveText('finished', { timeout: 120_000 });
  await expect(page.getByTestId('run-step')).toHaveText('8 / 8');
  await expect(page.getByTestId('runs-table')).toContainText('LoRA');
  expect(errors).toEqual([]);
});

test('a short run on WebGPU', async ({ page }) => {
  const errors = watchErrors(page);
  await openStudio(page, 'backend=webgpu');
  await expect(page.getByTestId('backend-name')).toHaveText('webgpu');
  await createTinyModel(page);
  await page.getByTestId('tab-train').click();
  await setNumber(page, 'train-max-steps', '3');
  await setNumber(page, 'train-batch-size', '2');
  await setNumber(page, 'train-eval-every', '0');
  await setNumber(page, 'train-sample-every', '0');
  await page.getByTestId('train-start').click();
  await expect(page.getByTestId('run-status')).toHaveText('finished', { timeout: 170_000 });
  await expect(page.getByTestId('run-step')).toHaveText('3 / 3');
  expect(errors).toEqual([]);
});

test('a step over the WASM heap ends the run with a message within a minute; the page answers, and the run resumes from its checkpoint', async ({ page }) => {
  // 109 short examples and one of ~1,600 tokens, placed (by the split's and the trainer's own
  // seeded shuffles) in the third batch of 32: steps 1 and 2 fit and are checkpointed; step 3
  // pads 32 rows to 2,048 tokens, whose attention scores alone (32 × 4 heads × 2,048² floats, per
  // layer) take 2 GiB of the 4 GiB heap.
  const n = 110;
  const batchSize = 32;
  const { train } = splitIds(Array.from({ length: n }, (_, i) => i), DEFAULT_SPLIT);
  const plan = epochBatches(new Int32Array(train.length).fill(1), batchSize, 2048, DEFAULT_TRAIN.seed, 0);
  const longId = train[plan[2].rows[0]];
  const rows = Array.from({ length: n }, (_, i) =>
    JSON.stringify({ question: `What is item ${i}?`, answer: i === longId ? 'word '.repeat(1600) : `Item ${i} is short.` }),
  );
  const errors = watchErrors(page);
  await openStudio(page, 'backend=wasm');
  await createTinyModel(page);
  await page.getByTestId('tab-data').click();
  await dropFile(page, 'data-drop', 'long.jsonl', rows.join('\n'));
  await expect(page.getByTestId('dataset-rows')).toHaveText(String(n));
  await setNumber(page, 'max-length', '2048');
  await page.getByTestId('tab-train').click();
  await page.getByTestId('train-preset').selectOption('quick');
  await setNumber(page, 'train-batch-size', String(batchSize));
  await setNumber(page, 'train-checkpoint-every', '1');
  await setNumber(page, 'train-eval-every', '0');
  await setNumber(page, 'train-sample-every', '0');
  await expect(page.getByTestId('estimate')).toHaveAttribute('data-verdict', 'wont-fit');
  await page.getByTestId('train-try-anyway').click();
  await page.getByTestId('train-start').click();
  await expect(page.getByTestId('run-status')).toHaveText('running');
  await expect(page.getByTestId('run-status')).toHaveText('interrupted', { timeout: 60_000 });
  await expect(page.getByTestId('run-message')).toContainText("out of memory: the WASM backend's 4 GiB heap ran out");
  await expect(page.getByTestId('run-step')).toHaveText('2 / 30');
  await expect(page.getByTestId('loss-chart')).toHaveAttribute('data-points', '2');
  await page.screenshot({ path: 'test-results/train-out-of-memory.png', fullPage: true });
  // The page answers: the engine restarted by itself, and the data is all there.
  await expect(page.getByTestId('backend-name')).toHaveText('wasm');
  await page.getByTestId('tab-data').click();
  await expect(page.getByTestId('dataset-rows')).toHaveText(String(n));
  // Resume (the same random model, loaded again) goes on from step 2's checkpoint: no step is
  // done twice, and it meets the same batch again, with the same message.
  await resumeOnTinyModel(page);
  await expect(page.getByTestId('run-status')).toHaveText('interrupted', { timeout: 60_000 });
  await expect(page.getByTestId('run-message')).toContainText('ran out');
  await expect(page.getByTestId('run-step')).toHaveText('2 / 30');
  await expect(page.getByTestId('loss-chart')).toHaveAttribute('data-points', '2');
  expect(errors).toEqual([]);
});
