import { decodingModel, readModelDir, readTokenizer, startBackend } from '../src/cli/common';
import { generateText } from '../src/eval/generateText';
import { wasmHeapBytes } from '../src/backend/backend';
const [dir] = process.argv.slice(2);
await startBackend('wasm');
const model = readModelDir(dir);
const tok = readTokenizer(dir, model.config.vocabSize);
const ctx = decodingModel(model);
for (const n of [4, 32]) {
  const t0 = performance.now();
  const r = await generateText(ctx, tok, { prompt: 'Hello there', maxNewTokens: n, temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, seed: 0, stopStrings: [], useCache: true }, {});
  console.log(n, r.tokenIds.length, ((performance.now() - t0) / 1000).toFixed(2), 's', r.tokensPerSecond?.toFixed?.(2), 'tok/s');
}
console.log('heap', wasmHeapBytes());
