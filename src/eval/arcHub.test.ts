import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ArcDoc } from './arc';
import { ARC_DATASET, DEFAULT_DATASETS_SERVER, fetchArcDocs } from './arcHub';

/** Made-up ARC docs in the ai2_arc schema; every seventh uses "1".."4" labels as some real ones do. */
function makeDocs(n: number): ArcDoc[] {
  return Array.from({ length: n }, (_, i) => {
    const label = i % 7 === 0 ? ['1', '2', '3', '4'] : ['A', 'B', 'C', 'D'];
    return {
      id: `Test_${i}`,
      question: `Which of these is item number ${i}?`,
      choices: { text: [`item ${i}`, `item ${i + 1}`, `item ${i + 2}`, `item ${i + 3}`], label },
      answerKey: label[i % 4],
    };
  });
}

/** One rows-API page, in the datasets server's shape (features and all). */
function rowsPage(rows: unknown[], offset: number, total: number): unknown {
  return {
    features: [{ feature_idx: 0, name: 'id', type: { dtype: 'string', _type: 'Value' } }],
    rows: rows.map((row, i) => ({ row_idx: offset + i, row, truncated_cells: [] })),
    num_rows_total: total,
    num_rows_per_page: 100,
    partial: false,
  };
}

interface FakeCall {
  url: URL;
  signal: AbortSignal | undefined;
}

/** A fake fetch serving `rows` as the rows API does (length capped at 100), recording each call. */
function fakeRowsApi(rows: unknown[]): typeof fetch & { calls: FakeCall[] } {
  const calls: FakeCall[] = [];
  const fake = async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input));
    calls.push({ url, signal: init?.signal ?? undefined });
    const offset = Number(url.searchParams.get('offset'));
    const length = Math.min(100, Number(url.searchParams.get('length')));
    return Response.json(rowsPage(rows.slice(offset, offset + length), offset, rows.length));
  };
  return Object.assign(fake as typeof fetch, { calls });
}

const pagesOf = (calls: FakeCall[]) => calls.map((c) => [Number(c.url.searchParams.get('offset')), Number(c.url.searchParams.get('length'))]);

describe('fetchArcDocs paging', () => {
  it('fetches a limit of 250 in three requests of at most 100 rows, reporting progress', async () => {
    const all = makeDocs(570);
    const fetch = fakeRowsApi(all);
    const progress: [number, number][] = [];
    const docs = await fetchArcDocs({ config: 'ARC-Easy', split: 'validation', limit: 250 }, { fetch, onProgress: (l, t) => progress.push([l, t]) });
    expect(pagesOf(fetch.calls)).toEqual([
      [0, 100],
      [100, 100],
      [200, 50],
    ]);
    expect(docs).toEqual(all.slice(0, 250));
    expect(progress).toEqual([
      [100, 250],
      [200, 250],
      [250, 250],
    ]);
  });

  it('asks the rows API of the default server for allenai/ai2_arc with the config and split', async () => {
    const fetch = fakeRowsApi(makeDocs(5));
    await fetchArcDocs({ config: 'ARC-Challenge', split: 'test', limit: 5 }, { fetch });
    const { url } = fetch.calls[0];
    expect(`${url.origin}${url.pathname}`).toBe(`${DEFAULT_DATASETS_SERVER}/rows`);
    expect(Object.fromEntries(url.searchParams)).toEqual({ dataset: ARC_DATASET, config: 'ARC-Challenge', split: 'test', offset: '0', length: '5' });
    expect(url.search).toContain('dataset=allenai%2Fai2_arc');
  });

  it('uses another endpoint, with or without a trailing slash', async () => {
    const fetch = fakeRowsApi(makeDocs(3));
    await fetchArcDocs({ config: 'ARC-Easy', split: 'train', limit: 3, endpoint: 'http://mirror.test/ds/' }, { fetch });
    expect(fetch.calls[0].url.href.startsWith('http://mirror.test/ds/rows?')).toBe(true);
  });

  it('stops at the end of a split smaller than the limit', async () => {
    const all = makeDocs(120);
    const fetch = fakeRowsApi(all);
    const progress: [number, number][] = [];
    const docs = await fetchArcDocs({ config: 'ARC-Easy', split: 'test', limit: 1000 }, { fetch, onProgress: (l, t) => progress.push([l, t]) });
    expect(pagesOf(fetch.calls)).toEqual([
      [0, 100],
      [100, 20],
    ]);
    expect(docs).toEqual(all);
    expect(progress).toEqual([
      [100, 120],
      [120, 120],
    ]);
  });

  it('stops on a short page rather than asking again forever', async () => {
    // A server whose num_rows_total promises more rows than it serves.
    const rows = makeDocs(150);
    const fetch = (async (input: string | URL | Request) => {
      const offset = Number(new URL(String(input)).searchParams.get('offset'));
      return Response.json(rowsPage(rows.slice(offset, Math.min(offset + 100, 150)), offset, 400));
    }) as typeof globalThis.fetch;
    expect(await fetchArcDocs({ config: 'ARC-Easy', split: 'test', limit: 400 }, { fetch })).toHaveLength(150);
  });

  it('refuses a limit that is not a positive whole number, before any request', async () => {
    const fetch = fakeRowsApi(makeDocs(3));
    for (const limit of [0, -1, 2.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      await expect(fetchArcDocs({ config: 'ARC-Easy', split: 'test', limit }, { fetch })).rejects.toThrow(/limit must be a positive whole number/);
    }
    expect(fetch.calls).toHaveLength(0);
  });
});

describe('fetchArcDocs rows', () => {
  it('turns rows into ArcDocs without the row_idx / truncated_cells wrapping', async () => {
    const row = {
      id: 'Made_up_1',
      question: 'Which property of a mineral can be determined just by looking at it?',
      choices: { text: ['luster', 'mass', 'weight', 'hardness'], label: ['A', 'B', 'C', 'D'] },
      answerKey: 'A',
    };
    const fetch = (async () => Response.json(rowsPage([row], 0, 1))) as typeof globalThis.fetch;
    expect(await fetchArcDocs({ config: 'ARC-Easy', split: 'test', limit: 1 }, { fetch })).toEqual([row]);
  });

  it('rejects bad rows by their row_idx with the same rules as an ARC file', async () => {
    const rows: unknown[] = makeDocs(110);
    rows[3] = { ...makeDocs(4)[3], answerKey: 'E' };
    rows[50] = 'just text';
    rows[101] = { ...makeDocs(102)[101], choices: { text: ['only one'], label: ['A'] } };
    rows[105] = { ...makeDocs(106)[105], id: 7 };
    const fetch = fakeRowsApi(rows);
    const err = await fetchArcDocs({ config: 'ARC-Easy', split: 'test', limit: 110 }, { fetch }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe(
      '4 of 110 rows of allenai/ai2_arc ARC-Easy/test are not ARC questions (' +
        'row 3: answerKey "E" is not one of the labels A, B, C, D; ' +
        'row 50: not a JSON object; ' +
        'row 101: "choices" needs at least 2 texts and as many labels (got 1 and 1); ' +
        'and 1 more): drop an ARC JSONL file instead',
    );
  });

  it('treats a row with truncated cells as bad (its text is not the whole question)', async () => {
    const [doc] = makeDocs(1);
    const fetch = (async () => Response.json({ rows: [{ row_idx: 0, row: doc, truncated_cells: ['question'] }], num_rows_total: 1 })) as typeof globalThis.fetch;
    await expect(fetchArcDocs({ config: 'ARC-Easy', split: 'test', limit: 1 }, { fetch })).rejects.toThrow(/^1 of 1 rows .* \(row 0: the server truncated "question"\): drop an ARC JSONL file instead$/);
  });

  it('says when the answer is not a rows page, or not JSON at all', async () => {
    const notRows = (async () => Response.json({ hello: 'world' })) as typeof globalThis.fetch;
    await expect(fetchArcDocs({ config: 'ARC-Easy', split: 'test', limit: 1 }, { fetch: notRows })).rejects.toThrow(
      'the datasets server\'s answer for allenai/ai2_arc ARC-Easy/test at offset 0 is not a rows page (no "rows" list): drop an ARC JSONL file instead',
    );
    const html = (async () => new Response('<html>sign in</html>', { headers: { 'Content-Type': 'text/html' } })) as typeof globalThis.fetch;
    await expect(fetchArcDocs({ config: 'ARC-Easy', split: 'test', limit: 1 }, { fetch: html })).rejects.toThrow(/at offset 0 is not JSON .*: drop an ARC JSONL file instead$/);
  });

  it('says when the split has no rows', async () => {
    const fetch = fakeRowsApi([]);
    await expect(fetchArcDocs({ config: 'ARC-Easy', split: 'test', limit: 5 }, { fetch })).rejects.toThrow('allenai/ai2_arc ARC-Easy/test has no rows: pick another split, or drop an ARC JSONL file instead');
  });
});

describe('fetchArcDocs failures', () => {
  it('says the datasets server could not be reached when fetch fails', async () => {
    const offline = (async () => {
      throw new TypeError('fetch failed', { cause: Object.assign(new Error('getaddrinfo ENOTFOUND datasets-server.huggingface.co'), { code: 'ENOTFOUND' }) });
    }) as typeof globalThis.fetch;
    await expect(fetchArcDocs({ config: 'ARC-Easy', split: 'test', limit: 10 }, { fetch: offline })).rejects.toThrow(
      'could not reach the Hugging Face datasets server at https://datasets-server.huggingface.co (fetch failed: ENOTFOUND): drop an ARC JSONL file instead',
    );
    const browserOffline = (async () => {
      throw new TypeError('Failed to fetch');
    }) as typeof globalThis.fetch;
    await expect(fetchArcDocs({ config: 'ARC-Easy', split: 'test', limit: 10 }, { fetch: browserOffline })).rejects.toThrow(/\(Failed to fetch\): drop an ARC JSONL file instead$/);
  });

  it.each([
    [404, 'DatasetNotFoundError', 'The dataset does not exist.', /^the Hugging Face datasets server refused allenai\/ai2_arc ARC-Easy\/test \(HTTP 404, DatasetNotFoundError, The dataset does not exist\.\): drop an ARC JSONL file instead$/],
    [429, null, null, /rate-limiting requests \(HTTP 429\): wait a minute and try again, or drop an ARC JSONL file instead$/],
    [500, 'UnexpectedError', 'Unexpected error.', /had an error serving allenai\/ai2_arc ARC-Easy\/test \(HTTP 500, UnexpectedError, Unexpected error\.\): try again later/],
  ])('explains HTTP %i with the status, error code and the server\'s message', async (status, code, error, message) => {
    const fetch = (async () =>
      Response.json(error ? { error } : {}, { status, headers: code ? { 'X-Error-Code': code } : {} })) as typeof globalThis.fetch;
    await expect(fetchArcDocs({ config: 'ARC-Easy', split: 'test', limit: 10 }, { fetch })).rejects.toThrow(message);
  });

  it('rejects with an AbortError and sends nothing when the signal is already aborted', async () => {
    const fetch = fakeRowsApi(makeDocs(10));
    const controller = new AbortController();
    controller.abort();
    await expect(fetchArcDocs({ config: 'ARC-Easy', split: 'test', limit: 10 }, { fetch, signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
    expect(fetch.calls).toHaveLength(0);
  });

  it('stops between pages when cancelled, and passes the signal to fetch', async () => {
    const fetch = fakeRowsApi(makeDocs(300));
    const controller = new AbortController();
    const run = fetchArcDocs({ config: 'ARC-Easy', split: 'test', limit: 300 }, { fetch, signal: controller.signal, onProgress: () => controller.abort() });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(fetch.calls).toHaveLength(1);
    expect(fetch.calls[0].signal).toBe(controller.signal);
  });

  it('reports a cancel during a request as the AbortError, not as "could not reach"', async () => {
    const controller = new AbortController();
    // Behaves as fetch does: rejects with an AbortError once the signal fires.
    const slow = ((_: unknown, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => reject(new DOMException('This operation was aborted', 'AbortError')));
      })) as typeof globalThis.fetch;
    const run = fetchArcDocs({ config: 'ARC-Easy', split: 'test', limit: 10 }, { fetch: slow, signal: controller.signal });
    setTimeout(() => controller.abort(), 10);
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
  });
});

/**
 * The real fetch against a local stand-in for the datasets server (same path, query, JSON and
 * X-Error-Code errors), so URL building, headers and bodies go through Node's HTTP stack.
 */
describe('fetchArcDocs against a local rows server', () => {
  const all = makeDocs(230);
  const requests: string[] = [];
  let server: Server;
  let url: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      requests.push(req.url ?? '');
      const u = new URL(req.url ?? '/', 'http://local');
      const p = u.searchParams;
      const headers = { 'Content-Type': 'application/json', 'Access-Control-Allow-Origin': '*' };
      if (u.pathname !== '/rows' || p.get('dataset') !== ARC_DATASET) {
        res.writeHead(404, { ...headers, 'X-Error-Code': 'DatasetNotFoundError' });
        res.end(JSON.stringify({ error: "The dataset doesn't exist on the Hub or cannot be accessed." }));
        return;
      }
      if (p.get('config') !== 'ARC-Easy' || p.get('split') !== 'validation') {
        res.writeHead(404, { ...headers, 'X-Error-Code': 'SplitNotFoundError' });
        res.end(JSON.stringify({ error: 'The config or the split does not exist in the dataset' }));
        return;
      }
      const offset = Number(p.get('offset'));
      const length = Number(p.get('length'));
      if (length > 100) {
        res.writeHead(422, { ...headers, 'X-Error-Code': 'InvalidParameter' });
        res.end(JSON.stringify({ error: "Parameter 'length' must not be greater than 100" }));
        return;
      }
      res.writeHead(200, headers);
      res.end(JSON.stringify(rowsPage(all.slice(offset, offset + length), offset, all.length)));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('pages through a split with the real fetch', async () => {
    requests.length = 0;
    const docs = await fetchArcDocs({ config: 'ARC-Easy', split: 'validation', limit: 250, endpoint: url });
    expect(docs).toEqual(all);
    expect(requests).toEqual([
      '/rows?dataset=allenai%2Fai2_arc&config=ARC-Easy&split=validation&offset=0&length=100',
      '/rows?dataset=allenai%2Fai2_arc&config=ARC-Easy&split=validation&offset=100&length=100',
      '/rows?dataset=allenai%2Fai2_arc&config=ARC-Easy&split=validation&offset=200&length=30',
    ]);
  });

  it('passes on the server\'s error code and message', async () => {
    await expect(fetchArcDocs({ config: 'ARC-Challenge', split: 'validation', limit: 5, endpoint: url })).rejects.toThrow(
      'the Hugging Face datasets server refused allenai/ai2_arc ARC-Challenge/validation (HTTP 404, SplitNotFoundError, The config or the split does not exist in the dataset): drop an ARC JSONL file instead',
    );
  });

  it('says the server could not be reached when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(fetchArcDocs({ config: 'ARC-Easy', split: 'validation', limit: 5, endpoint: `http://127.0.0.1:${port}` })).rejects.toThrow(
      `could not reach the Hugging Face datasets server at http://127.0.0.1:${port} (fetch failed: ECONNREFUSED): drop an ARC JSONL file instead`,
    );
  });
});
