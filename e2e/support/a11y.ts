/** Accessibility checked with axe-core (WCAG 2.1 A/AA and best practices) on each tab of the page as it is. */
import { createRequire } from 'node:module';
import type { Page } from '@playwright/test';

const AXE_SOURCE = (createRequire(import.meta.url)('axe-core') as { source: string }).source;

interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** axe-core's violations on the current view, one line each (impact, rule, where). */
async function violations(page: Page): Promise<string[]> {
  await page.addScriptTag({ content: AXE_SOURCE });
  const result = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<{ violations: Violation[] }> } }).axe;
    return axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
  });
  return result.violations.map((v) => `${v.impact}: ${v.id} (${v.help}) at ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
}

/** Each tab's violations, by tab: a test expects every list empty. */
export async function axeEveryTab(page: Page): Promise<Record<string, string[]>> {
  const found: Record<string, string[]> = {};
  for (const tab of ['model', 'data', 'train', 'evaluate']) {
    await page.getByTestId(`tab-${tab}`).click();
    found[tab] = await violations(page);
  }
  return found;
}
