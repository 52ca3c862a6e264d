/**
 * Fixtures for the full-size shape tests: a Pythia shape with seeded random weights (float16, as
 * the Hub ships them) is written to a temporary folder, and scripts/shape_reference.py (float64
 * PyTorch) decodes greedily from it; the prompt ids and the tokens go into fixtures/shapes/<name>.json.
 * The test writes the same file again from the same seed and checks the engine decodes the same.
 *
 *   npx tsx scripts/shape_fixture.ts
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { tokenizerFromJson } from '../src/data/tokenizer';
import { SHAPES, shapeFixturePath, type ShapeFixture } from '../src/testing/shapes';
import { TOKENIZER_PATH, writeTinyModelDir } from '../src/testing/tinyModel';

const PROMPT = 'The quick brown fox';
const NEW_TOKENS = 8;

for (const [name, { spec, std }] of Object.entries(SHAPES)) {
  const dir = mkdtempSync(path.join(tmpdir(), `shape-${name}-`));
  try {
    writeTinyModelDir(dir, { spec, std, dtype: 'F16' });
    const promptIds = tokenizerFromJson(JSON.parse(readFileSync(TOKENIZER_PATH, 'utf8')), null).encode(PROMPT);
    const r = spawnSync('python3', [path.join('scripts', 'shape_reference.py'), dir, promptIds.join(','), String(NEW_TOKENS)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`shape_reference.py failed: ${r.stderr}`);
    const ref = JSON.parse(r.stdout) as { tokens: number[]; margins: number[] };
    const fixture: ShapeFixture = { spec, std, prompt: PROMPT, promptIds, tokens: ref.tokens, margins: ref.margins };
    writeFileSync(shapeFixturePath(name as keyof typeof SHAPES), `${JSON.stringify(fixture, null, 2)}\n`);
    console.log(`${name}: ${ref.tokens.join(' ')} (smallest margin ${Math.min(...ref.margins).toFixed(4)})`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
