/**
 * Accessibility, checked with axe-core (the WCAG 2.1 AA rules and best practices) on every tab,
 * with a model loaded and a short run finished so that the panels show what they show in use.
 */
import { createRequire } from 'node:module';
import { expect, test, type Page } from '@playwright/test';
import { createTinyModel, openStudio, watchErrors } from './support/page';

const AXE_SOURCE = (createRequire(import.meta.url)('axe-core') as { source: string }).source;

interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

async function violations(page: Page): Promise<string[]> {
  await page.addScriptTag({ content: AXE_SOURCE });
  const result = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<{ violations: Violation[] }> } }).axe;
    return axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
  });
  return result.violations.map((v) => `${v.impact}: ${v.id} (${v.help}) at ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
}

test('every tab passes axe-core with no violations', async ({ page }) => {
  const errors = watchErrors(page);
  await openStudio(page, 'backend=wasm');
  await createTinyModel(page);
  await page.getByTestId('tab-train').click();
  await page.getByTestId('train-preset').selectOption('quick');
  await page.getByTestId('train-max-steps').fill('2');
  await page.getByTestId('train-max-steps').blur();
  await page.getByTestId('train-start').click();
  await expect(page.getByTestId('run-status')).toHaveText('finished', { timeout: 120_000 });
  const found: Record<string, string[]> = {};
  for (const tab of ['model', 'data', 'train', 'evaluate']) {
    await page.getByTestId(`tab-${tab}`).click();
    found[tab] = await violations(page);
  }
  expect(found).toEqual({ model: [], data: [], train: [], evaluate: [] });
  expect(errors).toEqual([]);
});
