import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { startHubServer } from './support/hubServer';
import { openStudio, watchErrors } from './support/page';
import { PYTHIA_TOKENIZER, tinyModelFiles } from './support/tinyModel';

test('a Hub model downloads with byte progress, and a reload loads it from the cache', async ({ page }) => {
  const repo = 'test-org/tiny-neox';
  const hub = await startHubServer({
    repos: { [repo]: { ...tinyModelFiles(3), 'tokenizer.json': readFileSync(PYTHIA_TOKENIZER) } },
    chunkSize: 64 * 1024,
    chunkDelayMs: 5, // slow enough that the progress bar is seen moving
  });
  try {
    const errors = watchErrors(page);
    await openStudio(page, `backend=wasm&hub=${encodeURIComponent(hub.url)}`);
    await expect(page.getByTestId('hub-endpoint')).toContainText(hub.url);
    await page.getByTestId('hub-repo-input').fill(repo);
    await page.getByTestId('hub-load').click();
    const progress = page.getByTestId('download-progress');
    await expect(progress).toBeVisible();
    await expect(page.getByTestId('download-bytes')).toContainText('MB');
    await expect(page.getByTestId('model-status')).toHaveText('Ready');
    await expect(page.getByTestId('model-label')).toContainText(repo);
    const weightRequests = () => hub.requests.filter((p) => p.includes('model.safetensors')).length;
    expect(weightRequests()).toBeGreaterThan(0);
    const before = hub.requests.length;

    await page.reload();
    await expect(page.getByTestId('backend-name')).toHaveText('wasm');
    await page.getByTestId('hub-repo-input').fill(repo);
    await page.getByTestId('hub-load').click();
    await expect(page.getByTestId('model-status')).toHaveText('Ready');
    await expect(page.getByTestId('model-from-cache')).toBeVisible();
    expect(hub.requests.length).toBe(before); // nothing downloaded again

    // Models in this browser: listed with its size; Delete frees it, and the next load downloads again.
    await page.getByTestId('cached-models').locator('summary').click();
    await expect(page.getByTestId('cached-model')).toHaveCount(1);
    await expect(page.getByTestId('cached-model')).toContainText(repo);
    await expect(page.getByTestId('cached-model-size')).toContainText('MB');
    await page.getByTestId('cached-models').scrollIntoViewIfNeeded();
    await page.screenshot({ path: 'test-results/cached-models.png', fullPage: true });
    page.once('dialog', (d) => void d.accept());
    await page.getByTestId('cached-model-delete').click();
    await expect(page.getByTestId('cached-model')).toHaveCount(0);
    await page.getByTestId('hub-load').click();
    await expect(page.getByTestId('model-status')).toHaveText('Ready');
    await expect(page.getByTestId('model-from-cache')).toHaveCount(0);
    expect(hub.requests.length).toBeGreaterThan(before);
    expect(errors).toEqual([]);
  } finally {
    await hub.close();
  }
});

test('a missing Hub repo says so and how to fix it', async ({ page }) => {
  const hub = await startHubServer({ repos: {} });
  try {
    await openStudio(page, `backend=wasm&hub=${encodeURIComponent(hub.url)}`);
    await page.getByTestId('hub-repo-input').fill('nobody/nothing');
    await page.getByTestId('hub-load').click();
    await expect(page.getByTestId('model-status')).toContainText('nobody/nothing');
  } finally {
    await hub.close();
  }
});
