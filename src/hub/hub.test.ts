import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startHubServer, type HubServer, type HubServerOptions } from '../../e2e/support/hubServer';
import { cacheStorageCache, memoryCache } from './cache';
import { type DownloadProgress, downloadModel, hubFileUrl, parseRepoId, parseRepoRef } from './hub';

const CONFIG = { architectures: ['GPTNeoXForCausalLM'], hidden_size: 64, num_hidden_layers: 2 };
const TOKENIZER = { version: '1.0', model: { type: 'BPE', vocab: { a: 0 } } };

function bytes(n: number): Uint8Array {
  return new Uint8Array(randomBytes(n));
}

const weights = bytes(300_000);
const shard1 = bytes(90_000);
const shard2 = bytes(70_000);

const REPOS: HubServerOptions['repos'] = {
  'test-org/tiny': {
    'config.json': JSON.stringify(CONFIG),
    'model.safetensors': weights,
    'tokenizer.json': JSON.stringify(TOKENIZER),
  },
  'test-org/sharded': {
    'config.json': JSON.stringify(CONFIG),
    // weight_map order deliberately lists shard 2 first: results must follow shard order.
    'model.safetensors.index.json': JSON.stringify({
      metadata: { total_size: 160_000 },
      weight_map: {
        'embed_out.weight': 'model-00002-of-00002.safetensors',
        'gpt_neox.embed_in.weight': 'model-00001-of-00002.safetensors',
        'gpt_neox.layers.0.attention.dense.weight': 'model-00001-of-00002.safetensors',
      },
    }),
    'model-00001-of-00002.safetensors': shard1,
    'model-00002-of-00002.safetensors': shard2,
  },
  'test-org/pickle': {
    'config.json': JSON.stringify(CONFIG),
    'pytorch_model.bin': bytes(1000),
  },
  'test-org/no-weights': { 'config.json': JSON.stringify(CONFIG) },
  'test-org/not-a-model': { 'README.md': '# hello' },
  'test-org/traversal': {
    'config.json': JSON.stringify(CONFIG),
    'model.safetensors.index.json': JSON.stringify({ weight_map: { w: '../../other/repo/model.safetensors' } }),
  },
  'test-org/gated': {
    'config.json': JSON.stringify(CONFIG),
    'model.safetensors': bytes(1000),
  },
};

let hub: HubServer;

beforeAll(async () => {
  hub = await startHubServer({ repos: REPOS, gated: ['test-org/gated'], token: 'hf_secret' });
});

afterAll(async () => {
  await hub.close();
});

afterEach(() => {
  vi.unstubAllGlobals();
});

function equalBytes(actual: ArrayBuffer, expected: Uint8Array): boolean {
  return Buffer.compare(Buffer.from(actual), Buffer.from(expected)) === 0;
}

/** Checks the per-file and overall invariants of a progress stream. */
function expectWellFormedProgress(events: DownloadProgress[], files: Record<string, number>): void {
  let overall = 0;
  for (const [i, e] of events.entries()) {
    expect(e.overallLoaded).toBeGreaterThanOrEqual(overall);
    overall = e.overallLoaded;
    if (e.total !== null) expect(e.loaded).toBeLessThanOrEqual(e.total);
    const previous = events[i - 1];
    if (previous?.file === e.file) expect(e.loaded).toBeGreaterThanOrEqual(previous.loaded);
  }
  for (const [file, size] of Object.entries(files)) {
    const forFile = events.filter((e) => e.file === file);
    expect(forFile.length, file).toBeGreaterThan(0);
    expect(forFile.at(-1), file).toMatchObject({ loaded: size, total: size });
  }
  const sum = Object.values(files).reduce((a, b) => a + b, 0);
  expect(events.at(-1)).toMatchObject({ overallLoaded: sum, overallTotal: sum });
}

function sizes(repo: string, files: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const file of files) {
    const content = REPOS[repo][file];
    out[file] = typeof content === 'string' ? Buffer.byteLength(content) : content.byteLength;
  }
  return out;
}

describe('parseRepoId', () => {
  it.each([
    ['EleutherAI/pythia-70m', 'EleutherAI/pythia-70m'],
    ['  EleutherAI/pythia-70m-deduped \n', 'EleutherAI/pythia-70m-deduped'],
    ['EleutherAI/pythia-70m/', 'EleutherAI/pythia-70m'],
    ['a_b/c.d_e-1', 'a_b/c.d_e-1'],
    ['https://huggingface.co/EleutherAI/pythia-70m', 'EleutherAI/pythia-70m'],
    ['https://huggingface.co/EleutherAI/pythia-70m/tree/main', 'EleutherAI/pythia-70m'],
    ['https://huggingface.co/EleutherAI/pythia-70m/blob/main/config.json', 'EleutherAI/pythia-70m'],
    ['https://huggingface.co/EleutherAI/pythia-70m?library=transformers#model-card', 'EleutherAI/pythia-70m'],
    ['huggingface.co/EleutherAI/pythia-160m', 'EleutherAI/pythia-160m'],
    ['https://hf.co/EleutherAI/pythia-160m', 'EleutherAI/pythia-160m'],
    ['http://www.huggingface.co/EleutherAI/pythia-160m/', 'EleutherAI/pythia-160m'],
  ])('accepts %j', (input, expected) => {
    expect(parseRepoId(input)).toBe(expected);
  });

  it.each([
    ['', /Enter a model repo id such as "EleutherAI\/pythia-70m"/],
    ['   ', /Enter a model repo id/],
    ['pythia-70m', /missing the owner.*"owner\/name"/],
    ['a/b/c', /exactly one "\/"/],
    ['/pythia-70m', /owner .* is empty/],
    ['EleutherAI/pythia 70m', /contains " "/],
    ['Eleuther@AI/pythia-70m', /contains "@"/],
    ['EleutherAI/-pythia', /must not start or end with "-" or "\."/],
    ['EleutherAI/pythia.', /must not start or end/],
    ['EleutherAI/pythia--70m', /must not contain "--" or "\.\."/],
    ['EleutherAI/pythia..70m', /must not contain "--" or "\.\."/],
    ['EleutherAI/pythia.git', /must not end in "\.git"/],
    [`EleutherAI/${'a'.repeat(97)}`, /longer than 96 characters/],
    ['https://github.com/EleutherAI/pythia', /not a huggingface\.co model URL/],
    ['https://huggingface.co/datasets/EleutherAI/pile', /is a dataset/],
    ['https://huggingface.co/spaces/safetensors/convert', /is a Space/],
    ['https://huggingface.co/EleutherAI', /does not point at a model repo/],
  ])('rejects %j', (input, message) => {
    expect(() => parseRepoId(input)).toThrow(message);
  });

  it('accepts 96-character parts and always mentions a valid example', () => {
    expect(parseRepoId(`EleutherAI/${'a'.repeat(96)}`)).toBe(`EleutherAI/${'a'.repeat(96)}`);
    expect(() => parseRepoId('nope')).toThrow(/EleutherAI\/pythia-70m/);
  });

  it('reads the revision from a pasted URL', () => {
    expect(parseRepoRef('https://huggingface.co/EleutherAI/pythia-70m/tree/refs%2Fpr%2F5')).toEqual({
      repo: 'EleutherAI/pythia-70m',
      revision: 'refs/pr/5',
    });
    expect(parseRepoRef('EleutherAI/pythia-70m')).toEqual({ repo: 'EleutherAI/pythia-70m', revision: null });
  });
});

describe('hubFileUrl', () => {
  it('encodes the revision as one segment and each file path segment separately', () => {
    expect(hubFileUrl('https://huggingface.co/', 'EleutherAI/pythia-70m', 'refs/pr/1', 'sub dir/model.safetensors')).toBe(
      'https://huggingface.co/EleutherAI/pythia-70m/resolve/refs%2Fpr%2F1/sub%20dir/model.safetensors',
    );
  });
});

describe('downloadModel', () => {
  it('downloads config, tokenizer and weights through the redirect with byte progress', async () => {
    const start = hub.requests.length;
    const events: DownloadProgress[] = [];
    const model = await downloadModel('test-org/tiny', { endpoint: hub.url, onProgress: (e) => events.push(e) });

    expect(model).toMatchObject({
      repo: 'test-org/tiny',
      revision: 'main',
      config: CONFIG,
      tokenizerJson: TOKENIZER,
      tokenizerConfig: null,
      generationConfig: null,
      weightFiles: ['model.safetensors'],
      fromCache: false,
    });
    expect(model.weights).toHaveLength(1);
    expect(equalBytes(model.weights[0], weights)).toBe(true);

    // Several events for the 300 KB file, not just start and end.
    expect(events.filter((e) => e.file === 'model.safetensors').length).toBeGreaterThan(3);
    expectWellFormedProgress(events, sizes('test-org/tiny', ['config.json', 'tokenizer.json', 'model.safetensors']));

    // config.json came from the branch, and named its commit; every later file was asked for at
    // that commit, the weights through a redirect to the CDN that fetch followed.
    expect(model.commit).toMatch(/^[0-9a-f]{40}$/);
    const paths = hub.requests.slice(start);
    expect(paths[0]).toBe('/test-org/tiny/resolve/main/config.json');
    const weightsAt = paths.indexOf(`/test-org/tiny/resolve/${model.commit}/model.safetensors`);
    expect(weightsAt).toBeGreaterThanOrEqual(0);
    expect(paths[weightsAt + 1]).toMatch(/^\/cdn-lfs\/[0-9a-f]{64}\?filename=model\.safetensors$/);
    expect(paths.filter((p) => p.startsWith('/cdn-lfs/'))).toHaveLength(1); // small JSON files are answered by resolve itself, as on the Hub
  });

  it('serves a repeat download from the cache with zero requests, keyed by resolve URLs at the commit', async () => {
    const cache = memoryCache();
    const first = await downloadModel('test-org/tiny', { endpoint: hub.url, cache });
    expect(first.fromCache).toBe(false);
    const keys = cache.keys();
    expect(keys).toContain(hubFileUrl(hub.url, 'test-org/tiny', first.commit!, 'model.safetensors'));
    expect(keys).toContain(hubFileUrl(hub.url, 'test-org/tiny', first.commit!, 'config.json'));
    expect(keys.some((k) => k.includes('/cdn-lfs/'))).toBe(false);

    const before = hub.requests.length;
    const events: DownloadProgress[] = [];
    const second = await downloadModel('test-org/tiny', { endpoint: hub.url, cache, onProgress: (e) => events.push(e) });
    expect(hub.requests.length - before).toBe(0);
    expect(second.fromCache).toBe(true);
    expect(second.tokenizerJson).toEqual(TOKENIZER);
    expect(second.tokenizerConfig).toBeNull();
    expect(equalBytes(second.weights[0], weights)).toBe(true);
    // Exactly one completed event per cached file.
    expect(events.map((e) => e.file)).toEqual(['config.json', 'tokenizer.json', 'model.safetensors']);
    expectWellFormedProgress(events, sizes('test-org/tiny', ['config.json', 'tokenizer.json', 'model.safetensors']));
  });

  it('a branch that moves: a cached download keeps its own commit whole, and a download in progress never mixes two', async () => {
    const moving = await startHubServer({ repos: { 'test-org/moving': { 'config.json': JSON.stringify(CONFIG), 'model.safetensors': weights, 'tokenizer.json': JSON.stringify(TOKENIZER) } } });
    try {
      const cache = memoryCache();
      const first = await downloadModel('test-org/moving', { endpoint: moving.url, cache });
      const newConfig = { ...CONFIG, hidden_size: 128 };
      const newWeights = bytes(1000);
      moving.push('test-org/moving', { 'config.json': JSON.stringify(newConfig), 'model.safetensors': newWeights });
      // Cached: the old commit, all of it, with no request.
      const before = moving.requests.length;
      const cached = await downloadModel('test-org/moving', { endpoint: moving.url, cache });
      expect(moving.requests.length).toBe(before);
      expect(cached.commit).toBe(first.commit);
      expect(cached.config).toEqual(CONFIG);
      expect(equalBytes(cached.weights[0], weights)).toBe(true);
      // Not cached: the new commit. And if the branch moves again once config.json has arrived,
      // the rest still comes from the commit that config.json named.
      const newest = bytes(2000);
      const fresh = await downloadModel('test-org/moving', {
        endpoint: moving.url,
        onProgress: (e) => {
          if (e.file === 'config.json' && e.loaded === e.total) moving.push('test-org/moving', { 'config.json': JSON.stringify({ ...CONFIG, hidden_size: 256 }), 'model.safetensors': newest });
        },
      });
      expect(fresh.config).toEqual(newConfig);
      expect(equalBytes(fresh.weights[0], newWeights)).toBe(true);
      expect(fresh.commit).not.toBe(first.commit);
    } finally {
      await moving.close();
    }
  });

  it('writes no manifest when a file could not be cached, so a later load never finds half a model', async () => {
    const stored = memoryCache();
    const cache = {
      get: stored.get,
      put: async (url: string, data: ArrayBuffer) => {
        if (url.endsWith('model.safetensors')) throw new DOMException('Quota exceeded.', 'QuotaExceededError');
        await stored.put(url, data);
      },
    };
    await downloadModel('test-org/tiny', { endpoint: hub.url, cache, onWarning: () => {} });
    expect(stored.keys().some((k) => k.includes('neox-studio-manifest'))).toBe(false);
    const again = await downloadModel('test-org/tiny', { endpoint: hub.url, cache, onWarning: () => {} });
    expect(again.fromCache).toBe(false); // asked the Hub again, rather than trusting a partial cache
    expect(equalBytes(again.weights[0], weights)).toBe(true);
  });

  it('returns copies from the cache, so transferring a result cannot corrupt it', async () => {
    const cache = memoryCache();
    const first = await downloadModel('test-org/tiny', { endpoint: hub.url, cache });
    structuredClone(first.weights[0], { transfer: [first.weights[0]] }); // detaches it
    const second = await downloadModel('test-org/tiny', { endpoint: hub.url, cache });
    expect(second.fromCache).toBe(true);
    expect(equalBytes(second.weights[0], weights)).toBe(true);
  });

  it('downloads every shard of a sharded checkpoint in shard order', async () => {
    const events: DownloadProgress[] = [];
    const cache = memoryCache();
    const model = await downloadModel('test-org/sharded', { endpoint: hub.url, cache, onProgress: (e) => events.push(e) });
    expect(model.weightFiles).toEqual(['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
    expect(equalBytes(model.weights[0], shard1)).toBe(true);
    expect(equalBytes(model.weights[1], shard2)).toBe(true);
    expectWellFormedProgress(
      events,
      sizes('test-org/sharded', ['config.json', 'model.safetensors.index.json', ...model.weightFiles]),
    );

    const before = hub.requests.length;
    const again = await downloadModel('test-org/sharded', { endpoint: hub.url, cache });
    expect(hub.requests.length - before).toBe(0);
    expect(again.fromCache).toBe(true);
    expect(equalBytes(again.weights[1], shard2)).toBe(true);
  });

  it('refuses a checkpoint that only has pickled pytorch_model.bin, probing it with HEAD only', async () => {
    const start = hub.requestLog.length;
    await expect(downloadModel('test-org/pickle', { endpoint: hub.url })).rejects.toThrow(
      /only has pickled PyTorch weights \(pytorch_model\.bin\).*arbitrary code.*Python.*model\.safetensors.*refs\/pr\/N.*safetensors convert tool/,
    );
    const probes = hub.requestLog.slice(start).filter((r) => r.path.includes('pytorch_model.bin'));
    expect(probes.length).toBeGreaterThan(0);
    expect(probes.every((r) => r.method === 'HEAD')).toBe(true);
  });

  it('explains a repo with no weights at all, and one that is not a model repo', async () => {
    await expect(downloadModel('test-org/no-weights', { endpoint: hub.url })).rejects.toThrow(
      /has no model weights.*"EleutherAI\/pythia-70m"/,
    );
    await expect(downloadModel('test-org/not-a-model', { endpoint: hub.url })).rejects.toThrow(
      /has no config\.json, so it is not a Transformers model repo/,
    );
  });

  it('rejects a shard index that points outside the repo', async () => {
    await expect(downloadModel('test-org/traversal', { endpoint: hub.url })).rejects.toThrow(/invalid shard "\.\.\/\.\.\//);
  });

  it('names the repo and revision when either does not exist', async () => {
    await expect(downloadModel('test-org/missing', { endpoint: hub.url })).rejects.toThrow(
      /Model repo "test-org\/missing" or its revision "main" does not exist on the Hub/,
    );
    await expect(downloadModel('test-org/tiny', { endpoint: hub.url, revision: 'v9' })).rejects.toThrow(
      /Revision "v9" does not exist in "test-org\/tiny"/,
    );
  });

  it('says a gated repo needs access and a token, and downloads it with the token', async () => {
    await expect(downloadModel('test-org/gated', { endpoint: hub.url })).rejects.toThrow(
      /"test-org\/gated" is gated or private \(HTTP 401\): request access on .*\/test-org\/gated and provide a Hugging Face access token/,
    );
    await expect(downloadModel('test-org/gated', { endpoint: hub.url, token: 'wrong' })).rejects.toThrow(
      /refused access .*check that your access token is valid/,
    );
    const model = await downloadModel('test-org/gated', { endpoint: hub.url, token: 'hf_secret' });
    expect(model.weights[0].byteLength).toBe(1000);
  });

  it('cancels mid-download with an AbortError and writes nothing to the cache', async () => {
    const slow = await startHubServer({ repos: REPOS, chunkSize: 16 * 1024, chunkDelayMs: 5 });
    try {
      const cache = memoryCache();
      const controller = new AbortController();
      let abortedAt = -1;
      const download = downloadModel('test-org/tiny', {
        endpoint: slow.url,
        cache,
        signal: controller.signal,
        onProgress: (e) => {
          if (e.file === 'model.safetensors' && e.loaded > 0 && abortedAt < 0) {
            abortedAt = e.loaded;
            controller.abort();
          }
        },
      });
      await expect(download).rejects.toMatchObject({ name: 'AbortError' });
      expect(abortedAt).toBeGreaterThan(0);
      expect(abortedAt).toBeLessThan(weights.byteLength);
      expect(cache.keys()).toEqual([]);

      // The cache is still usable: a full download afterwards fills it.
      const model = await downloadModel('test-org/tiny', { endpoint: slow.url, cache });
      expect(model.fromCache).toBe(false);
      expect(equalBytes(model.weights[0], weights)).toBe(true);
    } finally {
      await slow.close();
    }
  });

  it('rejects at once with an AbortError when the signal is already aborted', async () => {
    const start = hub.requests.length;
    await expect(
      downloadModel('test-org/tiny', { endpoint: hub.url, signal: AbortSignal.abort() }),
    ).rejects.toMatchObject({ name: 'AbortError' });
    expect(hub.requests.length).toBe(start);
  });

  it('says the Hub could not be reached when fetch fails', async () => {
    const failing: typeof fetch = () => Promise.reject(new TypeError('Failed to fetch'));
    await expect(downloadModel('EleutherAI/pythia-70m', { fetchImpl: failing })).rejects.toThrow(
      /^Could not reach the Hugging Face Hub at https:\/\/huggingface\.co \(Failed to fetch\): check your internet connection, or load the model from local files instead\.$/,
    );
    // A real refused connection, through Node's own fetch: the port of a server that has closed.
    const gone = await startHubServer({ repos: {} });
    await gone.close();
    await expect(downloadModel('test-org/tiny', { endpoint: gone.url })).rejects.toThrow(
      /^Could not reach the Hugging Face Hub at http:\/\/127\.0\.0\.1:\d+ \(fetch failed: ECONNREFUSED\): check your internet connection/,
    );
  });

  it('handles responses without Content-Length: total is null until the file ends', async () => {
    const chunked = await startHubServer({ repos: REPOS, omitContentLength: true, chunkSize: 16 * 1024, chunkDelayMs: 1 });
    try {
      const events: DownloadProgress[] = [];
      const model = await downloadModel('test-org/tiny', { endpoint: chunked.url, onProgress: (e) => events.push(e) });
      expect(equalBytes(model.weights[0], weights)).toBe(true);
      const weightEvents = events.filter((e) => e.file === 'model.safetensors');
      expect(weightEvents[0]).toMatchObject({ loaded: 0, total: null, overallTotal: null });
      expectWellFormedProgress(events, sizes('test-org/tiny', ['config.json', 'tokenizer.json', 'model.safetensors']));
    } finally {
      await chunked.close();
    }
  });

  it('downloads a "refs/pr/N" revision, also when it comes from a pasted URL', async () => {
    const pr = await startHubServer({ repos: REPOS, revision: 'refs/pr/1' });
    try {
      const model = await downloadModel('test-org/tiny', { endpoint: pr.url, revision: 'refs/pr/1' });
      expect(model.revision).toBe('refs/pr/1');
      expect(pr.requests[0]).toBe('/test-org/tiny/resolve/refs%2Fpr%2F1/config.json'); // the rest at the commit it named
      const fromUrl = await downloadModel('https://huggingface.co/test-org/tiny/tree/refs%2Fpr%2F1', { endpoint: pr.url });
      expect(fromUrl.revision).toBe('refs/pr/1');
    } finally {
      await pr.close();
    }
  });
});

describe('cacheStorageCache', () => {
  /** Just enough of CacheStorage to run the real code path in Node. */
  function fakeCaches(put: (url: string, response: Response) => Promise<void>) {
    const entries = new Map<string, Response>();
    const cache = {
      match: async (url: string) => entries.get(url)?.clone(),
      put: async (url: string, response: Response) => {
        await put(url, response);
        entries.set(url, response);
      },
    };
    return { storage: { open: async () => cache }, entries };
  }

  it('returns null where Cache Storage does not exist (Node)', () => {
    expect(cacheStorageCache()).toBeNull();
  });

  it('stores Responses with Content-Length and reads them back', async () => {
    const { storage, entries } = fakeCaches(async () => undefined);
    vi.stubGlobal('caches', storage);
    const cache = cacheStorageCache();
    expect(cache).not.toBeNull();
    const data = new Uint8Array([1, 2, 3, 4, 5]).buffer;
    await cache?.put('https://huggingface.co/a/b/resolve/main/x', data);
    expect(entries.get('https://huggingface.co/a/b/resolve/main/x')?.headers.get('Content-Length')).toBe('5');
    const back = await cache?.get('https://huggingface.co/a/b/resolve/main/x');
    expect(back && [...new Uint8Array(back)]).toEqual([1, 2, 3, 4, 5]);
    expect(await cache?.get('https://huggingface.co/a/b/resolve/main/y')).toBeNull();
  });

  it('still completes the download and warns when the storage quota is exceeded', async () => {
    const { storage } = fakeCaches(async (url) => {
      if (url.endsWith('model.safetensors')) throw new DOMException('Quota exceeded.', 'QuotaExceededError');
    });
    vi.stubGlobal('caches', storage);
    const warnings: string[] = [];
    const model = await downloadModel('test-org/tiny', {
      endpoint: hub.url,
      cache: cacheStorageCache(),
      onWarning: (w) => warnings.push(w),
    });
    expect(equalBytes(model.weights[0], weights)).toBe(true);
    expect(warnings).toEqual([expect.stringMatching(/not saved to the browser cache because site storage is full/)]);
  });
});
