import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { dropFile, openStudio, watchErrors } from './support/page';

const LAMINI = readFileSync('fixtures/data/course/lamini_docs.jsonl', 'utf8');

async function openData(page: Page): Promise<void> {
  await openStudio(page, 'backend=wasm');
  await page.getByTestId('tab-data').click();
}

test('the sample dataset loads by default, and search finds its guardrail answers', async ({ page }) => {
  const errors = watchErrors(page);
  await openData(page);
  await expect(page.getByTestId('dataset-name')).toHaveText('NeoX Studio help (sample)');
  expect(Number((await page.getByTestId('dataset-rows').textContent())!.replace(/,/g, ''))).toBeGreaterThanOrEqual(150);
  await page.getByTestId('data-search').fill('keep the discussion relevant');
  await expect(page.getByTestId('visible-count')).toHaveText(/^(1\d|[2-9]\d) of /);
  await expect(page.getByTestId('row').first()).toContainText('keep the discussion relevant');
  expect(errors).toEqual([]);
});

test('dropping the course file: 1,400 rows, Q&A mapping, template preview, token view, 1,260 / 140 split; a reload keeps it', async ({ page }) => {
  const errors = watchErrors(page);
  await openData(page);
  await expect(page.getByTestId('dataset-name')).toHaveText('NeoX Studio help (sample)');
  await dropFile(page, 'data-drop', 'lamini_docs.jsonl', LAMINI);
  await expect(page.getByTestId('dataset-name')).toHaveText('lamini_docs.jsonl');
  await expect(page.getByTestId('dataset-rows')).toHaveText('1,400');
  await expect(page.getByTestId('mapping-kind')).toHaveValue('qa');
  await expect(page.getByTestId('map-question')).toHaveValue('question');
  await expect(page.getByTestId('map-answer')).toHaveValue('answer');
  await expect(page.getByTestId('template-id')).toHaveValue('qa');
  const preview = page.getByTestId('template-preview');
  await expect(preview).toContainText('### Question:');
  await expect(preview).toContainText('### Answer:');
  await expect(page.getByTestId('split-train')).toHaveText('1,260');
  await expect(page.getByTestId('split-test')).toHaveText('140');
  await expect(page.getByTestId('stat-examples')).toHaveText('1,400');
  await expect(page.getByTestId('length-histogram')).toBeVisible();

  await page.getByTestId('row').first().click();
  const tokens = page.getByTestId('token-view').getByTestId('token');
  await expect(tokens.first()).toBeVisible();
  // The prompt is read, not learned; the answer and the closing end-of-text are learned.
  await expect(tokens.first()).toHaveAttribute('data-state', 'masked');
  await expect(tokens.last()).toHaveAttribute('data-state', 'trained');
  await expect(tokens.last()).toHaveAttribute('data-special', 'true');
  await page.screenshot({ path: 'test-results/data-lamini.png', fullPage: true });

  // Export the test split: a JSONL file of 140 prompt/completion lines in the course's format.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-test').click()]);
  expect(download.suggestedFilename()).toBe('lamini_docs.test.prompt-completion.jsonl');
  const exported = readFileSync(await download.path(), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
  expect(exported).toHaveLength(140);
  for (const r of exported) expect(r.prompt).toMatch(/^### Question:\n[\s\S]*\n\n### Answer:$/);

  await expect(page.getByTestId('save-status')).toHaveAttribute('data-saved', 'true');
  await page.reload();
  await page.getByTestId('tab-data').click();
  await expect(page.getByTestId('dataset-name')).toHaveText('lamini_docs.jsonl');
  await expect(page.getByTestId('dataset-rows')).toHaveText('1,400');
  await expect(page.getByTestId('split-test')).toHaveText('140');
  expect(errors).toEqual([]);
});

test('a malformed file: the bad lines are listed with their reasons, the good ones kept', async ({ page }) => {
  const errors = watchErrors(page);
  await openData(page);
  await expect(page.getByTestId('dataset-name')).toHaveText('NeoX Studio help (sample)');
  const file = Buffer.concat([
    Buffer.from('{"question": "What is a token?", "answer": "A piece of text."}\n'),
    Buffer.from('{"question": "broken", "answer": \n'),
    Buffer.from('["an", "array"]\n'),
    Buffer.from('{"question": "bad bytes \xff", "answer": "x"}\n', 'latin1'),
    Buffer.from('{"question": "What is a split?", "answer": 42}\n'),
    Buffer.from('{"question": "What is EOS?", "answer": "The end-of-text token."}'),
  ]);
  await page.getByTestId('data-file-input').setInputFiles({ name: 'broken.jsonl', mimeType: 'application/jsonl', buffer: file });
  const review = page.getByTestId('import-review');
  await expect(review).toBeVisible();
  await expect(page.getByTestId('import-counts')).toContainText('3 good, 3 bad');
  const issues = page.getByTestId('issue');
  await expect(issues).toHaveCount(3);
  await expect(issues.nth(0)).toContainText('line 2');
  await expect(issues.nth(0)).toContainText(/invalid JSON/i);
  await expect(issues.nth(1)).toContainText('line 3');
  await expect(issues.nth(2)).toContainText('line 4');
  await expect(issues.nth(2)).toContainText(/UTF-8/);
  await page.getByTestId('import-accept').click();
  await expect(page.getByTestId('dataset-name')).toHaveText('broken.jsonl');
  await expect(page.getByTestId('dataset-rows')).toHaveText('3');
  await expect(page.getByTestId('dataset-skipped')).toContainText('3 bad lines skipped');
  // The row whose answer is a number is kept but cannot be trained on, and says why.
  await expect(page.getByTestId('dataset-unusable')).toContainText('1 not usable');
  await page.getByTestId('data-filter').selectOption('unusable');
  await page.getByTestId('row').first().click();
  await expect(page.getByTestId('row-issue')).toContainText('answer is a number');
  // Delete it, then undo brings it back.
  await page.getByTestId('delete-row').click();
  await expect(page.getByTestId('dataset-rows')).toHaveText('2');
  await page.getByTestId('undo').click();
  await expect(page.getByTestId('dataset-rows')).toHaveText('3');
  await page.screenshot({ path: 'test-results/data-malformed.png', fullPage: true });
  expect(errors).toEqual([]);
});

test('a 200 MB file streams with a progress bar, and Cancel stops it and keeps the current data', async ({ page }) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'neox-big-'));
  try {
    const file = path.join(dir, 'big.jsonl');
    const line = `${JSON.stringify({ question: 'What does the studio do with my data?', answer: 'It keeps it on this machine. '.repeat(20) })}\n`;
    const chunk = line.repeat(Math.ceil((1 << 20) / line.length)); // ~1 MiB
    const fd = openSync(file, 'w');
    for (let i = 0; i < 200; i++) writeSync(fd, chunk);
    closeSync(fd);

    const errors = watchErrors(page);
    await openData(page);
    await expect(page.getByTestId('dataset-name')).toHaveText('NeoX Studio help (sample)');
    await page.getByTestId('data-file-input').setInputFiles(file);
    const progress = page.getByTestId('import-progress');
    await expect(progress).toBeVisible();
    await expect(progress).toContainText(/Reading big\.jsonl: [\d.]+ (kB|MB)/);
    // The page still answers while the worker reads: the search box takes typing, Cancel takes a click.
    await page.getByTestId('data-search').fill('guardrail');
    await expect(page.getByTestId('data-search')).toHaveValue('guardrail');
    await page.getByTestId('import-cancel').click();
    await expect(progress).toHaveCount(0);
    await expect(page.getByTestId('dataset-name')).toHaveText('NeoX Studio help (sample)');
    expect(errors).toEqual([]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
