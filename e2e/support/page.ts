/** Shared steps for the browser tests, written as a user would do them. */
import { expect, type Page } from '@playwright/test';

/**
 * Collects console errors, uncaught exceptions and recharts' warning about a chart drawn at no size
 * (a chart in a hidden tab); a test asserts the list stays empty.
 */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
    if (m.type() === 'warning' && /of chart should be greater than 0/.test(m.text())) errors.push(`console warning: ${m.text().split('\n')[0]}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  return errors;
}

export async function openStudio(page: Page, query: string): Promise<void> {
  await page.goto(`/?${query}`);
  await expect(page.getByTestId('backend-name')).toHaveText(/^(webgpu|wasm|cpu)$/);
}

export async function createTinyModel(page: Page): Promise<void> {
  await page.getByTestId('random-preset-select').selectOption({ index: 0 });
  await page.getByTestId('model-random-create').click();
  await expect(page.getByTestId('model-status')).toHaveText('Ready');
}

/** Greedy generation of n tokens; returns the generated text once the run has finished. */
export async function generateGreedy(page: Page, prompt: string, n: number): Promise<string> {
  await page.getByTestId('prompt').fill(prompt);
  await page.getByTestId('max-new-tokens').fill(String(n));
  await page.getByTestId('temperature').fill('0');
  await page.getByTestId('generate').click();
  const stats = page.getByTestId('gen-stats');
  await expect(stats).toHaveAttribute('data-stop-reason', /^(length|eos|stop)$/);
  return (await page.getByTestId('generated').textContent()) ?? '';
}

/** A real drop: a DataTransfer holding the file, dispatched on the drop zone. */
export async function dropFile(page: Page, testId: string, name: string, text: string): Promise<void> {
  const dt = await page.evaluateHandle(
    ({ name, text }) => {
      const dt = new DataTransfer();
      dt.items.add(new File([text], name, { type: 'application/jsonl' }));
      return dt;
    },
    { name, text },
  );
  await page.getByTestId(testId).dispatchEvent('drop', { dataTransfer: dt });
}
