/**
 * What the service worker keeps for offline use: the app shell (HTML, scripts, styles, the WASM
 * backends, the bundled tokenizer and sample dataset), and not what only some sessions need:
 * onnxruntime-web's 27 MB WASM (the optional similarity metric, fetched when that metric runs)
 * and the benchmark page.
 */

/** Built files never precached, by name. */
const SKIP = [/(^|\/)ort-wasm[^/]*$/, /(^|\/)bench\.html$/, /(^|\/)assets\/(bench|dataBench)[^/]*$/, /(^|\/)sw\.js$/, /\.map$/];

/** The precache list: built files relative to the app's root, sorted, minus SKIP. */
export function precacheList(files: readonly string[]): string[] {
  return files.filter((f) => !SKIP.some((re) => re.test(f))).sort();
}
