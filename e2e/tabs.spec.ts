import { expect, test } from '@playwright/test';
import { createTinyModel, openStudio, watchErrors } from './support/page';

test('two tabs of one browser: the second shows the first tab\'s run as running there, can neither pause, resume nor delete it, and sees it end', async ({ page, context }) => {
  const errors = watchErrors(page);
  await openStudio(page, 'backend=wasm');
  await createTinyModel(page);
  await page.getByTestId('tab-train').click();
  await page.getByTestId('train-preset').selectOption('quick');
  await page.getByTestId('train-checkpoint-every').fill('5');
  await page.getByTestId('train-checkpoint-every').blur();
  await page.getByTestId('train-max-steps').fill('500'); // long enough to be running while the second tab looks
  await page.getByTestId('train-max-steps').blur();
  await page.getByTestId('train-start').click();
  await expect(page.getByTestId('run-status')).toHaveText('running');
  await expect(page.getByTestId('run-step')).toHaveText(/^[1-9]/, { timeout: 60_000 });

  const second = await context.newPage();
  const secondErrors = watchErrors(second);
  await openStudio(second, 'backend=wasm');
  await expect(second.getByTestId('storage-error')).toContainText('open in another tab, and that tab saves the dataset');
  await createTinyModel(second);
  await second.getByTestId('tab-train').click();
  await expect(second.getByTestId('run-status')).toHaveText('running in another tab');
  await expect(second.getByTestId('train-pause')).toBeDisabled();
  await expect(second.getByTestId('train-stop')).toBeDisabled();
  await expect(second.getByTestId('train-resume')).toBeDisabled();
  await expect(second.getByTestId('run-delete')).toBeDisabled();
  await expect(second.getByTestId('train-start')).toBeDisabled();
  await expect(second.getByTestId('train-start-blocked')).toHaveText(/in progress in another tab of the studio/);
  // The curve follows the first tab's steps.
  await expect.poll(async () => Number(await second.getByTestId('loss-chart').getAttribute('data-points')), { timeout: 60_000 }).toBeGreaterThan(0);
  await second.screenshot({ path: 'test-results/second-tab.png', fullPage: true });

  // The first tab stops its run: the second sees it stopped, and may now resume or delete it.
  await page.getByTestId('train-stop').click();
  await expect(page.getByTestId('run-status')).toHaveText('stopped', { timeout: 60_000 });
  await expect(second.getByTestId('run-status')).toHaveText('stopped');
  await expect(second.getByTestId('run-delete')).toBeEnabled();
  expect(errors).toEqual([]);
  expect(secondErrors).toEqual([]);
});
