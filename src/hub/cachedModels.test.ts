/** The "Models in this browser" list over a real download's cache: sizes, shared commits, deleting. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHubServer, type HubServer } from '../../e2e/support/hubServer';
import { deleteCachedModel, listCachedModels, OTHER_FILES } from './cachedModels';
import { memoryCache } from './cache';
import { downloadModel } from './hub';

const CONFIG = JSON.stringify({ architectures: ['GPTNeoXForCausalLM'], hidden_size: 64 });
let hub: HubServer;
beforeAll(async () => {
  hub = await startHubServer({
    repos: {
      'org/a': { 'config.json': CONFIG, 'model.safetensors': new Uint8Array(5000), 'tokenizer.json': '{"model":{}}' },
      'org/b': { 'config.json': CONFIG, 'model.safetensors': new Uint8Array(2000).fill(1) },
    },
  });
});
afterAll(() => hub.close());

describe('models in this browser', () => {
  it('lists each downloaded model with its files and bytes, largest first, and deletes one without touching the other', async () => {
    const cache = memoryCache();
    const a = await downloadModel('org/a', { endpoint: hub.url, cache });
    await downloadModel('org/b', { endpoint: hub.url, cache });
    const list = await listCachedModels(cache);
    expect(list.map((m) => [m.repo, m.revision, m.files])).toEqual([
      ['org/a', 'main', 3],
      ['org/b', 'main', 2],
    ]);
    expect(list[0].commit).toBe(a.commit);
    expect(list[0].bytes).toBeGreaterThan(5000 + CONFIG.length); // the files plus the small manifest
    expect(list[0].bytes).toBeLessThan(5000 + CONFIG.length + 1000);

    await deleteCachedModel(cache, list[0].key);
    expect((await listCachedModels(cache)).map((m) => m.repo)).toEqual(['org/b']);
    expect(cache.keys().some((k) => k.includes('/org/a/'))).toBe(false);
    const b = await downloadModel('org/b', { endpoint: hub.url, cache });
    expect(b.fromCache).toBe(true);
  });

  it('two revisions at one commit share their files: deleting one keeps the other whole', async () => {
    const cache = memoryCache();
    const main = await downloadModel('org/b', { endpoint: hub.url, cache });
    await downloadModel('org/b', { endpoint: hub.url, cache, revision: main.commit! });
    const list = await listCachedModels(cache);
    expect(list).toHaveLength(2);
    await deleteCachedModel(cache, list.find((m) => m.revision === 'main')!.key);
    const again = await downloadModel('org/b', { endpoint: hub.url, cache, revision: main.commit! });
    expect(again.fromCache).toBe(true);
  });

  it('files no manifest lists are one entry, and deleting it leaves the models alone', async () => {
    const cache = memoryCache();
    await downloadModel('org/b', { endpoint: hub.url, cache });
    await cache.put('https://huggingface.co/old/x/resolve/main/model.safetensors', new ArrayBuffer(700)); // an older studio's key
    const list = await listCachedModels(cache);
    expect(list.at(-1)).toMatchObject({ key: OTHER_FILES, files: 1, bytes: 700 });
    await deleteCachedModel(cache, OTHER_FILES);
    expect((await listCachedModels(cache)).map((m) => m.repo)).toEqual(['org/b']);
    expect((await downloadModel('org/b', { endpoint: hub.url, cache })).fromCache).toBe(true);
  });
});
