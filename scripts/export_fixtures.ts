/**
 * The export fixtures: what the studio exports after two short, seeded runs, checked by a PyTorch
 * reference of what Hugging Face transformers + PEFT compute from those files.
 *
 *   npx tsx scripts/export_fixtures.ts              # (re)writes fixtures/export/*.json
 *   npx tsx scripts/export_fixtures.ts --keep DIR   # also keeps the exported folders in DIR
 *                                                   # (for scripts/hf_export_check.py)
 *
 * Recipe (src/testing/exportRecipe.ts, shared with src/train/exportModel.test.ts, which re-creates
 * the same files):
 * the tiny fixtures/parallel-rot025-f32 model, a seeded synthetic dataset, the studio's Trainer
 * on the CPU backend (plain JavaScript arithmetic: the same bytes on every run and machine with
 * this Node), then
 *   - a full fine-tune (4 steps) exported float32 and float16,
 *   - a LoRA run (rank 4, alpha 8, all four block linears, 4 steps) exported as a PEFT adapter and
 *     as the merged model (float32).
 * Each export is written to a temporary folder and scripts/export_reference.py computes its
 * logits for PROBE_IDS (the adapter on top of the base folder); the JSON it prints goes into
 * fixtures/export/<case>.json with the SHA-256 of every exported file, so a test can tell a stale
 * fixture (the export bytes changed) from a wrong export (same bytes, different logits).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { BASE_DIR, EXPORT_FIXTURES, hashes, makeExports, PROBE_IDS, REPO, type ExportFixture } from '../src/testing/exportRecipe';
import type { OutFile } from '../src/train/exportModel';

function writeFolder(dir: string, files: OutFile[]): string {
  mkdirSync(dir, { recursive: true });
  for (const f of files) writeFileSync(path.join(dir, f.name), f.bytes);
  return dir;
}

function reference(args: string[]): ExportFixture['reference'] {
  const r = spawnSync('python3', [path.join(REPO, 'scripts/export_reference.py'), '--ids', JSON.stringify(PROBE_IDS), ...args], { cwd: REPO, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`export_reference.py ${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
  const out = JSON.parse(r.stdout) as ExportFixture['reference'] & { ids: number[][] };
  delete (out as { ids?: unknown }).ids;
  return out;
}

/** Indented JSON, but one line per logits row (2·8 lines instead of 1,536). */
function fixtureText(f: ExportFixture): string {
  const rows = f.reference.logits.flat().map((row) => JSON.stringify(row));
  let i = 0;
  const text = JSON.stringify({ ...f, reference: { ...f.reference, logits: f.reference.logits.map((seq) => seq.map(() => '@ROW@')) } }, null, 1);
  return `${text.replace(/"@ROW@"/g, () => rows[i++])}\n`;
}

async function main(): Promise<void> {
  const { initBackend } = await import('../src/backend/backend');
  const tf = await import('@tensorflow/tfjs-core');
  tf.env().set('PROD', true); // no debug checks, and no tfjs-node advertisement
  await initBackend('cpu', { wasmPaths: '' });
  const set = await makeExports();
  const keep = process.argv.indexOf('--keep');
  const tmp = keep > 0 ? path.resolve(process.argv[keep + 1] ?? '') : mkdtempSync(path.join(tmpdir(), 'neox-export-'));
  if (keep > 0 && !process.argv[keep + 1]) throw new Error('--keep needs a folder');
  try {
    const dirs = {
      f32: writeFolder(path.join(tmp, 'full-f32'), set.full.f32),
      f16: writeFolder(path.join(tmp, 'full-f16'), set.full.f16),
      merged: writeFolder(path.join(tmp, 'lora-merged'), set.lora.merged),
      adapter: writeFolder(path.join(tmp, 'lora-adapter'), set.lora.adapter),
    };
    const baseFiles = ['config.json', 'model.safetensors'].map((name) => ({ name: `base/${name}`, bytes: new Uint8Array(readFileSync(path.join(BASE_DIR, name))) }));
    const fixtures: ExportFixture[] = [
      {
        case: 'full-f32',
        description: 'full fine-tune (FULL_RUN), model folder exported float32',
        sha256: hashes(set.full.f32),
        ids: PROBE_IDS,
        reference: reference(['--model', dirs.f32]),
      },
      {
        case: 'full-f16',
        description: 'the same weights exported float16; compared with the float32 export',
        sha256: hashes(set.full.f16),
        ids: PROBE_IDS,
        reference: reference(['--model', dirs.f16, '--compare', dirs.f32]),
      },
      {
        case: 'lora-adapter',
        description: 'LoRA run (LORA_RUN): the PEFT adapter applied to the base folder; compared with the merged export',
        sha256: { ...hashes(set.lora.adapter), ...hashes(baseFiles) },
        ids: PROBE_IDS,
        reference: reference(['--model', BASE_DIR, '--adapter', dirs.adapter, '--compare', dirs.merged]),
      },
      {
        case: 'lora-merged',
        description: 'the LoRA run merged into the base (W + alpha/r·B·A), model folder exported float32',
        sha256: hashes(set.lora.merged),
        ids: PROBE_IDS,
        reference: reference(['--model', dirs.merged]),
      },
    ];
    mkdirSync(EXPORT_FIXTURES, { recursive: true });
    for (const f of fixtures) {
      writeFileSync(path.join(EXPORT_FIXTURES, `${f.case}.json`), fixtureText(f));
      process.stdout.write(`${f.case}: logits max |x| ${f.reference.logits_max_abs.toPrecision(4)}, checks ${JSON.stringify(f.reference.checks)}\n`);
    }
  } finally {
    if (keep < 0) rmSync(tmp, { recursive: true, force: true });
    else process.stdout.write(`kept the exported folders in ${tmp}\n`);
    set.dispose();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
}
