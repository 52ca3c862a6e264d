import { readFileSync } from 'node:fs';
import { expect, test, type Download, type Page } from '@playwright/test';
import Papa from 'papaparse';
import { createTinyModel, openStudio, watchErrors } from './support/page';

async function setNumber(page: Page, testId: string, value: string): Promise<void> {
  await page.getByTestId(testId).fill(value);
  await page.getByTestId(testId).blur();
}

const text = async (d: Download) => readFileSync((await d.path())!, 'utf8');

test('after a short run: side by side, a 20-example batch evaluation with tags and exports, arena votes trained on with DPO, ARC', async ({ page }) => {
  test.setTimeout(300_000);
  const errors = watchErrors(page);
  await openStudio(page, 'backend=wasm');
  await createTinyModel(page);
  // The bundled sample dataset, a short run of the tiny model.
  await page.getByTestId('tab-train').click();
  await page.getByTestId('train-preset').selectOption('quick');
  await setNumber(page, 'train-max-steps', '6');
  await setNumber(page, 'train-eval-every', '6');
  await page.getByTestId('train-start').click();
  await expect(page.getByTestId('run-status')).toHaveText('finished', { timeout: 120_000 });

  await page.getByTestId('tab-evaluate').click();
  // The base and the run are compared by default.
  await expect(page.getByTestId('pick-model')).toHaveCount(2);
  await expect(page.getByTestId('pick-model').nth(0)).toBeChecked();
  await expect(page.getByTestId('pick-model').nth(1)).toBeChecked();

  // Side by side: one prompt, two streamed columns with their speed.
  await page.getByTestId('sbs-prompt').fill('How do I export a LoRA adapter?');
  await page.getByTestId('sbs-run').click();
  await expect(page.getByTestId('sbs-column')).toHaveCount(2);
  await expect(page.getByTestId('sbs-column').nth(1)).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
  await expect(page.getByTestId('sbs-speed').nth(0)).toContainText('tokens/s');
  await page.getByTestId('sbs-pick').click();
  await expect(page.getByTestId('sbs-target')).toBeVisible();

  // Batch evaluation of 20 test examples.
  await page.getByTestId('eval-limit').fill('20');
  await page.getByTestId('eval-max-tokens').fill('12');
  await page.getByTestId('eval-run').click();
  await expect(page.getByTestId('eval-progress')).toContainText('40 / 40 answers · done', { timeout: 150_000 });
  await expect(page.getByTestId('eval-row')).toHaveCount(20);
  await expect(page.getByTestId('eval-metrics-row')).toHaveCount(2);
  await expect(page.getByTestId('metric-loss').nth(1)).toHaveText(/^\d+\.\d{3}$/);
  // No embedding model can be downloaded here: similarity says so instead of showing 0.
  await expect(page.getByTestId('metric-similarity').nth(0)).toHaveText('unavailable', { timeout: 30_000 });
  await expect(page.getByTestId('similarity-note')).toContainText('internet');

  // A tag filter shows exactly the rows carrying that tag for that model.
  const tag = page.getByTestId('eval-metrics-row').nth(1).getByTestId('tag-filter').first();
  const [, count] = /(\d+)$/.exec((await tag.textContent())!)!;
  const tagLabel = (await tag.textContent())!.replace(/\s*\d+$/, '');
  await tag.click();
  await expect(page.getByTestId('eval-row')).toHaveCount(Number(count));
  for (const row of await page.getByTestId('eval-row').all()) await expect(row.getByTestId('eval-cell').nth(1).getByTestId('row-tag').filter({ hasText: tagLabel })).toHaveCount(1);
  await page.getByTestId('tag-clear').click();
  await expect(page.getByTestId('eval-row')).toHaveCount(20);

  // A rating, then both exports download and parse.
  await page.getByTestId('eval-row').first().getByTestId('rate-good').first().click();
  const [csv] = await Promise.all([page.waitForEvent('download'), page.getByTestId('eval-export-csv').click()]);
  const parsed = Papa.parse<Record<string, string>>(await text(csv), { header: true, skipEmptyLines: true });
  expect(parsed.errors).toEqual([]);
  expect(parsed.data).toHaveLength(20);
  expect(parsed.data[0].rating).toMatch(/^good: Base/);
  const [jsonl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('eval-export-jsonl').click()]);
  const lines = (await text(jsonl)).trim().split('\n').map((l) => JSON.parse(l));
  expect(lines).toHaveLength(20);
  expect(Object.keys(lines[0].models)).toHaveLength(2);
  await page.screenshot({ path: 'test-results/evaluate-batch.png', fullPage: true });

  // Arena: a blind vote moves the two ratings apart by the K-factor's half.
  await page.getByTestId('arena-next').click();
  await page.getByTestId('vote-a').click({ timeout: 60_000 });
  await expect(page.getByTestId('arena-rating')).toHaveCount(2);
  await expect(page.getByTestId('elo')).toHaveText(['1016', '984']);

  // ARC on a small file: an accuracy per model.
  await page.getByTestId('arc-file').setInputFiles('fixtures/eval/arc-easy-sample.jsonl');
  await expect(page.getByTestId('arc-source')).toContainText('20 questions');
  await page.getByTestId('arc-limit').fill('5');
  await page.getByTestId('arc-run').click();
  await expect(page.getByTestId('arc-result')).toHaveCount(2, { timeout: 60_000 });
  await expect(page.getByTestId('arc-acc').first()).toHaveText(/^(0\.0|20\.0|40\.0|60\.0|80\.0|100\.0)%$/);

  // Two more decided votes: three preference pairs, exported as prompt / chosen / rejected.
  for (const vote of ['vote-b', 'vote-a']) {
    await page.getByTestId('arena-next').click();
    await page.getByTestId(vote).click({ timeout: 60_000 });
  }
  const [prefs] = await Promise.all([page.waitForEvent('download'), page.getByTestId('arena-export-preferences').click()]);
  const pairs = (await text(prefs)).trim().split('\n').map((l) => JSON.parse(l));
  expect(pairs).toHaveLength(3);
  for (const p of pairs) for (const k of ['prompt', 'chosen', 'rejected']) expect(typeof p[k], k).toBe('string');

  // Train on my votes: the pairs become the Data tab's dataset and the Train tab is set to DPO;
  // a 30-step run moves the margin toward the chosen answers, from ln 2 at the first step.
  page.once('dialog', (d) => void d.accept());
  await page.getByTestId('arena-train-on-votes').click();
  await expect(page.getByTestId('train-objective-dpo')).toBeChecked();
  await page.getByTestId('tab-data').click();
  await expect(page.getByTestId('dataset-name')).toHaveText('arena-votes.jsonl');
  await expect(page.getByTestId('mapping-kind')).toHaveValue('preference');
  await page.getByTestId('tab-train').click();
  await setNumber(page, 'train-max-steps', '30');
  await setNumber(page, 'train-eval-every', '0');
  await setNumber(page, 'train-lr', '1e-3');
  await page.getByTestId('train-start').click();
  await expect(page.getByTestId('run-name')).toHaveText('Run 2');
  await expect(page.getByTestId('run-status')).toHaveText('finished', { timeout: 120_000 });
  const chart = page.getByTestId('preference-chart');
  await expect(chart).toHaveAttribute('data-points', '30');
  expect(Number(await chart.getAttribute('data-margin'))).toBeGreaterThan(0);
  await page.screenshot({ path: 'test-results/evaluate-dpo-run.png', fullPage: true });
  await page.getByTestId('tab-evaluate').click();
  // A reload keeps the evaluation, the rating and the votes with the project.
  const elo = await page.getByTestId('elo').allTextContents();
  await page.reload();
  await page.getByTestId('tab-evaluate').click();
  await expect(page.getByTestId('eval-row')).toHaveCount(20);
  await expect(page.getByTestId('eval-row').first().getByTestId('rate-good').first()).toHaveAttribute('aria-pressed', 'true');
  await expect(page.getByTestId('elo')).toHaveText(elo);
  await page.screenshot({ path: 'test-results/evaluate-reloaded.png', fullPage: true });

  expect(errors).toEqual([]);
});
