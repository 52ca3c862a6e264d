import { readFileSync } from 'node:fs';
import { expect, test, type Download, type Page } from '@playwright/test';
import { unzipSync } from 'fflate';
import { axeEveryTab } from './support/a11y';
import { createTinyModel, openStudio, watchErrors } from './support/page';

const unzip = async (d: Download) => unzipSync(new Uint8Array(readFileSync((await d.path())!)));
const json = (b: Uint8Array) => JSON.parse(new TextDecoder().decode(b));
/** The JSON header of a safetensors file: tensor name → {dtype, shape, data_offsets}. */
const safetensorsHeader = (b: Uint8Array) => {
  const n = Number(new DataView(b.buffer, b.byteOffset).getBigUint64(0, true));
  return JSON.parse(new TextDecoder().decode(b.subarray(8, 8 + n))) as Record<string, { dtype: string; shape: number[] }>;
};

async function download(page: Page, testId: string): Promise<Download> {
  const [d] = await Promise.all([page.waitForEvent('download'), page.getByTestId(testId).click()]);
  return d;
}

test('a LoRA run exported as a PEFT adapter, a merged float16 model and GGUF, the adapter re-imported, both adapters side by side; every tab passes axe-core', async ({ page }) => {
  const errors = watchErrors(page);
  await openStudio(page, 'backend=wasm');
  await createTinyModel(page);
  await page.getByTestId('tab-train').click();
  await page.getByTestId('train-preset').selectOption('quick');
  await page.getByTestId('train-method-lora').check();
  await page.getByTestId('train-max-steps').fill('6');
  await page.getByTestId('train-max-steps').blur();
  await page.getByTestId('train-start').click();
  await expect(page.getByTestId('run-status')).toHaveText('finished', { timeout: 120_000 });

  // The adapter, as PEFT writes it, with its model card.
  await page.getByTestId('export-kind').selectOption('adapter');
  const adapterZip = await download(page, 'export-zip');
  const adapter = await unzip(adapterZip);
  expect(Object.keys(adapter).sort()).toEqual(['README.md', 'adapter_config.json', 'adapter_model.safetensors']);
  expect(json(adapter['adapter_config.json'])).toMatchObject({ peft_type: 'LORA', task_type: 'CAUSAL_LM', r: 8, bias: 'none', fan_in_fan_out: false });
  const keys = Object.keys(safetensorsHeader(adapter['adapter_model.safetensors'])).filter((k) => k !== '__metadata__');
  expect(keys.length).toBeGreaterThan(0);
  for (const k of keys) expect(k).toMatch(/^base_model\.model\.gpt_neox\.layers\.\d+\.(attention|mlp)\.\w+\.lora_[AB]\.weight$/);
  expect(new TextDecoder().decode(adapter['README.md'])).toMatch(/^---\n[\s\S]*library_name: peft/);

  // The merged model in float16: what from_pretrained reads.
  await page.getByTestId('export-kind').selectOption('merged');
  await page.getByTestId('export-dtype').selectOption('float16');
  const merged = await unzip(await download(page, 'export-zip'));
  expect(Object.keys(merged)).toEqual(expect.arrayContaining(['config.json', 'model.safetensors', 'tokenizer.json', 'generation_config.json', 'README.md']));
  expect(json(merged['config.json'])).toMatchObject({ model_type: 'gpt_neox', torch_dtype: 'float16' });
  const header = safetensorsHeader(merged['model.safetensors']);
  expect(header['gpt_neox.embed_in.weight'].dtype).toBe('F16');
  expect(Object.keys(header).some((k) => k.includes('lora'))).toBe(false);

  // GGUF for llama.cpp and Ollama: the merged model in Q8_0 with its Modelfile, and the adapter for --lora.
  await page.getByTestId('model-export-format').selectOption('gguf');
  await page.getByTestId('export-dtype').selectOption('q8_0');
  const gguf = await unzip(await download(page, 'export-zip'));
  expect(Object.keys(gguf).sort()).toEqual(['Modelfile', 'model.gguf']);
  expect(new TextDecoder().decode(gguf['model.gguf'].subarray(0, 4))).toBe('GGUF');
  expect(new TextDecoder().decode(gguf['Modelfile'])).toMatch(/^# Ollama: .*\nFROM \.\/model\.gguf\nTEMPLATE """[\s\S]*\{\{ \.Prompt \}\}[\s\S]*"""\nPARAMETER stop "<\|endoftext\|>"\n$/);
  await expect(page.getByTestId('export-status')).toContainText('Run it: ollama create my-model -f Modelfile && ollama run my-model  or  llama-cli -m model.gguf');
  await page.getByTestId('export-kind').selectOption('adapter');
  const ggufAdapter = await unzip(await download(page, 'export-zip'));
  expect(Object.keys(ggufAdapter).sort()).toEqual(['Modelfile', 'adapter.gguf']);
  expect(new TextDecoder().decode(ggufAdapter['Modelfile'])).toContain('FROM ./base.gguf\nADAPTER ./adapter.gguf\n');
  await page.getByTestId('model-export-format').selectOption('hf');

  // The recipe for GPUs.
  const recipe = await unzip(await download(page, 'recipe-download'));
  expect(Object.keys(recipe)).toEqual(expect.arrayContaining(['train_hf.py', 'axolotl.yaml', 'accelerate_config.yaml', 'recipe.json', 'data/train.jsonl', 'README.md']));

  // Re-import the adapter zip: it becomes a run of this base.
  await page.getByTestId('import-adapter').setInputFiles((await adapterZip.path())!);
  await expect(page.getByTestId('export-status')).toContainText('Imported a LoRA adapter (r 8');
  await expect(page.getByTestId('run-row')).toHaveCount(2);

  // Both adapters on the one loaded base, side by side: the same weights answer the same.
  await page.getByTestId('tab-evaluate').click();
  await expect(page.getByTestId('pick-model')).toHaveCount(3);
  for (const [i, want] of [[0, false], [1, true], [2, true]] as const) {
    const box = page.getByTestId('pick-model').nth(i);
    if ((await box.isChecked()) !== want) await box.click();
  }
  await page.getByTestId('sbs-prompt').fill('What does the studio export?');
  await page.getByTestId('sbs-run').click();
  await expect(page.getByTestId('sbs-column').nth(1)).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
  const outs = await page.getByTestId('sbs-column').locator('.sbs-output').allTextContents();
  expect(outs).toHaveLength(2);
  expect(outs[0].length).toBeGreaterThan(0);
  expect(outs[1]).toBe(outs[0]);
  // The playground switches between them too.
  await page.getByTestId('tab-model').click();
  await expect(page.getByTestId('generate-with').locator('option')).toHaveCount(3);
  await page.screenshot({ path: 'test-results/models-in-out.png', fullPage: true });
  // Accessibility (axe-core) on every tab, with runs, an import and a comparison on the page.
  expect(await axeEveryTab(page)).toEqual({ model: [], data: [], train: [], evaluate: [] });
  expect(errors).toEqual([]);
});
