import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { env } from '@huggingface/transformers';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startHubServer, type HubServer } from '../../e2e/support/hubServer';
import { DEFAULT_EMBEDDING_MODEL, type Embedder, cosine, semanticSimilarity, transformersEmbedder } from './similarity';

describe('cosine', () => {
  it.each([
    ['parallel', [1, 2, 3], [2, 4, 6], 1],
    ['orthogonal', [1, 0], [0, 5], 0],
    ['opposite', [1, -2], [-3, 6], -1],
    ['45 degrees', [1, 0], [1, 1], Math.SQRT1_2],
  ])('%s', (_, a, b, expected) => {
    expect(cosine(a, b)).toBeCloseTo(expected, 12);
  });

  it('is 0 (not NaN) when either vector is zero: a zero vector has no direction', () => {
    expect(cosine([0, 0], [1, 2])).toBe(0);
    expect(cosine([1, 2], [0, 0])).toBe(0);
    expect(cosine([0, 0], [0, 0])).toBe(0);
  });

  it('stays within [-1, 1] for float32 vectors and equals 1 for a vector with itself', () => {
    const v = Float32Array.from({ length: 384 }, (_, i) => Math.sin(i * 0.37) * 0.1);
    expect(cosine(v, v)).toBeLessThanOrEqual(1);
    expect(cosine(v, v)).toBeCloseTo(1, 12);
    expect(cosine(v, v.map((x) => -x))).toBeGreaterThanOrEqual(-1);
  });

  it('refuses vectors of different lengths', () => {
    expect(() => cosine([1, 2], [1, 2, 3])).toThrow(/different lengths \(2 and 3\)/);
  });
});

/** A deterministic fake: each text maps to a fixed vector; records every call's batch. */
function fakeEmbedder(table: Record<string, number[]>): Embedder & { calls: string[][] } {
  const calls: string[][] = [];
  const embed = async (texts: string[]) => {
    calls.push(texts);
    return texts.map((t) => {
      if (!(t in table)) throw new Error(`no vector for ${t}`);
      return Float32Array.from(table[t]);
    });
  };
  return Object.assign(embed, { calls });
}

const TABLE = {
  same: [1, 0, 0],
  'same too': [2, 0, 0],
  up: [0, 1, 0],
  down: [0, -1, 0],
  diagonal: [1, 1, 0],
  x: [1, 0, 0],
};

describe('semanticSimilarity with a fake embedder', () => {
  it('scores each output against its own target', async () => {
    const embed = fakeEmbedder(TABLE);
    const result = await semanticSimilarity(['same', 'up', 'up', 'diagonal'], ['same too', 'down', 'x', 'x'], { embedder: embed, model: 'fake/model' });
    expect(result.available).toBe(true);
    if (!result.available) return;
    expect(result.model).toBe('fake/model');
    expect(result.scores).toHaveLength(4);
    expect(result.scores[0]).toBeCloseTo(1, 6);
    expect(result.scores[1]).toBeCloseTo(-1, 6);
    expect(result.scores[2]).toBeCloseTo(0, 6);
    expect(result.scores[3]).toBeCloseTo(Math.SQRT1_2, 6);
  });

  it('embeds outputs then targets in calls of batchSize texts', async () => {
    const embed = fakeEmbedder(TABLE);
    await semanticSimilarity(['same', 'up', 'down'], ['x', 'diagonal', 'same too'], { embedder: embed, batchSize: 4 });
    expect(embed.calls).toEqual([
      ['same', 'up', 'down', 'x'],
      ['diagonal', 'same too'],
    ]);
    const one = fakeEmbedder(TABLE);
    await semanticSimilarity(['same', 'up'], ['x', 'down'], { embedder: one, batchSize: 1 });
    expect(one.calls).toEqual([['same'], ['up'], ['x'], ['down']]);
  });

  it('names the default model and needs no embedder call for no pairs', async () => {
    const embed = fakeEmbedder(TABLE);
    expect(await semanticSimilarity([], [], { embedder: embed })).toEqual({ available: true, model: DEFAULT_EMBEDDING_MODEL, scores: [] });
    expect(embed.calls).toEqual([]);
  });

  it('reports a failing embedder as unavailable with its reason, never as scores', async () => {
    const failing: Embedder = async () => {
      throw new Error('could not download the embedding model: no network');
    };
    expect(await semanticSimilarity(['a'], ['b'], { embedder: failing, model: 'm/x' })).toEqual({
      available: false,
      model: 'm/x',
      reason: 'could not download the embedding model: no network',
    });
  });

  it('reports an embedder that fails on a later batch as unavailable (no partial scores)', async () => {
    const embed = fakeEmbedder(TABLE);
    const result = await semanticSimilarity(['same', 'up'], ['x', 'unknown'], { embedder: embed, batchSize: 2 });
    expect(result).toMatchObject({ available: false, reason: 'no vector for unknown' });
    expect(result).not.toHaveProperty('scores');
  });

  it('reports an embedder that returns the wrong number or size of vectors', async () => {
    const short: Embedder = async (texts) => texts.slice(1).map(() => new Float32Array(3));
    expect(await semanticSimilarity(['a'], ['b'], { embedder: short })).toMatchObject({ available: false, reason: 'the embedder returned 1 vectors for 2 texts' });
    const ragged: Embedder = async (texts) => texts.map((t) => new Float32Array(t.length));
    expect(await semanticSimilarity(['ab'], ['abc'], { embedder: ragged })).toMatchObject({ available: false, reason: expect.stringMatching(/different sizes \(2 and 3\)/) });
  });

  it('rejects mismatched inputs and a bad batch size', async () => {
    const embed = fakeEmbedder(TABLE);
    await expect(semanticSimilarity(['a', 'b'], ['c'], { embedder: embed })).rejects.toThrow(/2 outputs but 1 targets/);
    await expect(semanticSimilarity(['a'], ['c'], { embedder: embed, batchSize: 0 })).rejects.toThrow(/batchSize must be a positive integer/);
  });

  it('rejects with the abort reason when cancelled, between batches or during one', async () => {
    const before = new AbortController();
    before.abort();
    await expect(semanticSimilarity(['same'], ['x'], { embedder: fakeEmbedder(TABLE), signal: before.signal })).rejects.toMatchObject({ name: 'AbortError' });

    const during = new AbortController();
    const embed = fakeEmbedder(TABLE);
    const abortingEmbedder: Embedder = async (texts) => {
      const out = await embed(texts);
      during.abort();
      return out;
    };
    await expect(semanticSimilarity(['same', 'up'], ['x', 'down'], { embedder: abortingEmbedder, batchSize: 2, signal: during.signal })).rejects.toMatchObject({ name: 'AbortError' });
    expect(embed.calls).toHaveLength(1);

    // An embedder that never settles (a download stuck on a dropped connection) does not hold up cancelling.
    const stuck = new AbortController();
    const never: Embedder = () => new Promise(() => undefined);
    const pending = semanticSimilarity(['a'], ['b'], { embedder: never, signal: stuck.signal });
    setTimeout(() => stuck.abort(), 10);
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });

    // A load that fails because it was cancelled is a cancellation, not "unavailable".
    const cancelled = new AbortController();
    const failsOnAbort: Embedder = async () => {
      cancelled.abort();
      throw new Error('the request was aborted');
    };
    await expect(semanticSimilarity(['a'], ['b'], { embedder: failsOnAbort, signal: cancelled.signal })).rejects.toMatchObject({ name: 'AbortError' });
  });
});

/**
 * The real transformers.js embedder with no way to the Hub. Each test points transformers.js at a
 * host that answers in milliseconds (a closed local port, or a local Hub stand-in) rather than
 * relying on this machine having no DNS: a test that depends on the real Hub being unreachable
 * would download the model where it is reachable, and could hang where packets are dropped.
 * Local models are switched off and the file cache is an empty folder, so a copy left by an
 * earlier run cannot answer.
 */
describe('transformersEmbedder without the Hub', () => {
  const saved = { remoteHost: env.remoteHost, allowLocalModels: env.allowLocalModels, allowRemoteModels: env.allowRemoteModels, cacheDir: env.cacheDir };
  const cacheDir = mkdtempSync(join(tmpdir(), 'similarity-test-'));
  let hub: HubServer;
  let closedPort: number;

  beforeAll(async () => {
    // Same config, tokenizer and file layout as the real repo, but the weights are not an ONNX model.
    hub = await startHubServer({
      repos: {
        'test-org/broken-embedder': {
          'config.json': JSON.stringify({ model_type: 'bert', hidden_size: 8 }),
          'tokenizer.json': JSON.stringify({
            version: '1.0',
            added_tokens: [],
            normalizer: null,
            pre_tokenizer: null,
            post_processor: null,
            decoder: null,
            model: { type: 'WordLevel', vocab: { '[UNK]': 0 }, unk_token: '[UNK]' },
          }),
          'tokenizer_config.json': JSON.stringify({}),
          'onnx/model_quantized.onnx': 'this is not an onnx file',
        },
        // The default model's name with other weights: the pin refuses them.
        'Xenova/all-MiniLM-L6-v2': {
          'config.json': JSON.stringify({ model_type: 'bert', hidden_size: 8 }),
          'tokenizer.json': JSON.stringify({ version: '1.0', added_tokens: [], normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null, model: { type: 'WordLevel', vocab: { '[UNK]': 0 }, unk_token: '[UNK]' } }),
          'tokenizer_config.json': JSON.stringify({}),
          'onnx/model_quantized.onnx': 'other weights',
        },
      },
    });
    // A port that was just free: connecting to it is refused at once.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    closedPort = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
  });

  afterAll(async () => {
    await hub.close();
    rmSync(cacheDir, { recursive: true, force: true });
  });

  afterEach(() => {
    Object.assign(env, saved);
  });

  function offline(remoteHost: string): void {
    env.remoteHost = remoteHost;
    env.allowLocalModels = false;
    env.cacheDir = cacheDir;
  }

  it('reports the default model as unavailable, with the reason, when the Hub cannot be reached', async () => {
    offline(`http://127.0.0.1:${closedPort}/`);
    const start = performance.now();
    const result = await semanticSimilarity(['the cat sat'], ['a cat was sitting']);
    const ms = performance.now() - start;
    expect(result.available).toBe(false);
    expect(result).not.toHaveProperty('scores');
    expect(result.model).toBe(DEFAULT_EMBEDDING_MODEL);
    if (result.available) return;
    expect(result.reason).toMatch(/^could not download the embedding model "Xenova\/all-MiniLM-L6-v2" from the Hugging Face Hub \(fetch failed: ECONNREFUSED\)/);
    expect(result.reason).toMatch(/needs an internet connection the first time/);
    expect(ms).toBeLessThan(5_000);
  });

  it('asks the real Hub for the default model, and explains a browser-style offline failure', async () => {
    const urls: string[] = [];
    const realFetch = env.fetch;
    // What a browser's fetch does offline: reject at once with TypeError("Failed to fetch").
    env.fetch = async (url: string | URL) => {
      urls.push(String(url));
      throw new TypeError('Failed to fetch');
    };
    env.allowLocalModels = false;
    env.cacheDir = cacheDir;
    try {
      const result = await semanticSimilarity(['a'], ['b']);
      expect(result).toEqual({
        available: false,
        model: DEFAULT_EMBEDDING_MODEL,
        reason: 'could not download the embedding model "Xenova/all-MiniLM-L6-v2" from the Hugging Face Hub (Failed to fetch): semantic similarity needs an internet connection the first time (the model is cached after that)',
      });
      expect(urls[0]).toBe('https://huggingface.co/Xenova/all-MiniLM-L6-v2/resolve/main/config.json');
    } finally {
      env.fetch = realFetch;
    }
  });

  it('throws a readable error from the embedder itself, and tries again on the next call', async () => {
    offline(`${hub.url}/`);
    const embed = transformersEmbedder('test-org/no-such-model');
    await expect(embed(['x'])).rejects.toThrow(/^the Hub has no usable embedding model "test-org\/no-such-model" \(Could not locate file: .*config\.json.*\): check the model id, e\.g\. "Xenova\/all-MiniLM-L6-v2"$/);
    const seen = hub.requests.length;
    await expect(embed(['x'])).rejects.toThrow(/no usable embedding model/);
    // The failure was not cached: the second call asked the Hub again.
    expect(hub.requests.length).toBeGreaterThan(seen);
    expect(hub.requests.slice(seen)).toContain('/test-org/no-such-model/resolve/main/config.json');
  });

  it('says downloads are switched off when transformers.js may not fetch', async () => {
    offline(`http://127.0.0.1:${closedPort}/`);
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    const result = await semanticSimilarity(['a'], ['b'], { model: 'test-org/not-cached' });
    expect(result).toMatchObject({ available: false, reason: expect.stringMatching(/is not cached here and downloads are switched off .*needs an internet connection the first time/) });
  });

  it('refuses the default model’s weights when they are not the pinned file', async () => {
    offline(`${hub.url}/`);
    const result = await semanticSimilarity(['a'], ['b']);
    expect(result).toEqual({
      available: false,
      model: DEFAULT_EMBEDDING_MODEL,
      reason: expect.stringMatching(/^the embedding model changed on the Hub: Xenova\/all-MiniLM-L6-v2's onnx\/model_quantized\.onnx is 13 bytes, not the 22,972,370 the studio pins/),
    });
    expect(hub.requests).toContain('/Xenova/all-MiniLM-L6-v2/resolve/main/onnx/model_quantized.onnx');
  });

  it('reports a model whose weights cannot be loaded, after fetching the quantized ONNX file', async () => {
    offline(`${hub.url}/`);
    const result = await semanticSimilarity(['a'], ['b'], { model: 'test-org/broken-embedder' });
    expect(result).toMatchObject({ available: false, reason: expect.stringMatching(/^could not load the embedding model "test-org\/broken-embedder" \(.*\): use a transformers\.js sentence-embedding model/) });
    expect(hub.requests).toContain('/test-org/broken-embedder/resolve/main/onnx/model_quantized.onnx');
  });
});
