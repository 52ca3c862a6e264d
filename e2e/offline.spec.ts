/**
 * The studio on a plain static host: `dist/` served with no COOP/COEP headers (as GitHub Pages
 * serves it). The studio's service worker supplies the headers after one automatic reload, so WASM
 * runs threaded; then the server stops, and the studio opens from the worker's cache and trains a
 * tiny model.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { createTinyModel, watchErrors } from './support/page';

const DIST = path.resolve('dist');
const PORT = Number(process.env.E2E_PORT ?? 4173) + 7;
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.json': 'application/json', '.svg': 'image/svg+xml' };

/** A static file server and nothing more: no isolation headers, no caching rules. */
function plainStaticHost(): Promise<Server> {
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${PORT}`);
    const file = path.join(DIST, url.pathname.endsWith('/') ? `${url.pathname}index.html` : url.pathname);
    if (!file.startsWith(DIST)) return void res.writeHead(403).end();
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  return new Promise((resolve) => server.listen(PORT, '127.0.0.1', () => resolve(server)));
}

test('on a host without isolation headers the service worker makes WASM threaded; offline, the studio still opens and trains', async ({ page }) => {
  const errors = watchErrors(page);
  const server = await plainStaticHost();
  let closed = false;
  try {
    await page.goto(`http://127.0.0.1:${PORT}/?backend=wasm`);
    // One automatic reload later, the page is isolated by the worker, and the header says so.
    await expect(page.getByTestId('backend-isolated')).toContainText('yes, by the studio’s service worker');
    await expect(page.getByTestId('backend-name')).toHaveText('wasm');
    expect(Number(await page.getByTestId('backend-wasm-threads').textContent())).toBeGreaterThan(1);
    await page.screenshot({ path: 'test-results/offline-isolated.png', fullPage: true });

    // No network: the server stops; a reload comes from the worker's cache.
    await new Promise<void>((r) => server.close(() => r()));
    closed = true;
    await page.reload();
    await expect(page.getByTestId('backend-name')).toHaveText('wasm');
    expect(Number(await page.getByTestId('backend-wasm-threads').textContent())).toBeGreaterThan(1);
    await createTinyModel(page);
    await page.getByTestId('tab-train').click();
    await page.getByTestId('train-preset').selectOption('quick');
    await page.getByTestId('train-max-steps').fill('1');
    await page.getByTestId('train-max-steps').blur();
    await page.getByTestId('train-start').click();
    await expect(page.getByTestId('run-status')).toHaveText('finished', { timeout: 120_000 });
    await expect(page.getByTestId('run-step')).toHaveText('1 / 1');
    await page.screenshot({ path: 'test-results/offline-trained.png', fullPage: true });
    expect(errors).toEqual([]);
  } finally {
    if (!closed) server.close();
  }
});
