import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { pushToHub, type PushFile, type PushParams } from './push';

/**
 * A local stand-in for the Hub, serving exactly the endpoints @huggingface/hub calls for a
 * classic-LFS commit, and checking requests the way the Hub does (token, LFS objects present
 * and matching their sha256 at commit time).
 */

const TOKEN = 'hf_TestWriteToken0123456789abcdefXYZ';

interface Recorded {
  method: string;
  path: string;
  authorization: string | undefined;
  body: Buffer;
}

interface CommitLine {
  key: string;
  value: { path?: string; content?: string; encoding?: string; oid?: string; size?: number; summary?: string; algo?: string };
}

interface FakeHubOptions {
  /** Repos that exist before the test. */
  existing?: string[];
  /** Large objects are offered as multipart uploads with parts of this size. */
  multipartChunkSize?: number;
  /** Answer this route with this status and JSON body instead of serving it. */
  fail?: { route: 'create' | 'preupload' | 'commit' | 'storage'; status: number; body: unknown };
  /** Hold these requests open without answering (to test cancelling mid-request). */
  stall?: 'create' | 'storage';
}

interface FakeHub {
  url: string;
  requests: Recorded[];
  repos: Map<string, { private: boolean }>;
  /** LFS objects by sha256, as the storage received them. */
  storage: Map<string, Buffer>;
  commits: { repo: string; lines: CommitLine[] }[];
  /** Resolves when the first stalled request arrives. */
  stalled: Promise<void>;
  close(): Promise<void>;
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function startFakeHub(opts: FakeHubOptions = {}): Promise<FakeHub> {
  const requests: Recorded[] = [];
  const repos = new Map((opts.existing ?? []).map((id) => [id, { private: false }]));
  const storage = new Map<string, Buffer>();
  const parts = new Map<string, Buffer>();
  const commits: FakeHub['commits'] = [];
  let onStall!: () => void;
  const stalled = new Promise<void>((resolve) => (onStall = resolve));
  let base = '';

  const json = (res: ServerResponse, status: number, body: unknown, type = 'application/json') => {
    res.writeHead(status, { 'Content-Type': type }).end(JSON.stringify(body));
  };

  const handle = (req: IncomingMessage, res: ServerResponse, body: Buffer): void => {
    // API routes also answer under /hub, so a test can put storage outside the hubUrl.
    const path = new URL(req.url ?? '/', base).pathname.replace(/^\/hub\//, '/');
    const method = req.method ?? '';
    requests.push({ method, path, authorization: req.headers.authorization, body });

    // Storage (presigned S3 URLs on the real Hub): no token expected.
    let m = /^\/storage\/([0-9a-f]{64})(?:\/part\/(\d+)|\/(complete))?$/.exec(path);
    if (m) {
      if (opts.stall === 'storage') return onStall();
      if (opts.fail?.route === 'storage') return void res.writeHead(opts.fail.status, { 'Content-Type': 'application/xml' }).end(String(opts.fail.body));
      const [, oid, part, complete] = m;
      if (method === 'PUT' && part) {
        parts.set(`${oid}/${part}`, body);
        res.writeHead(200, { ETag: `"etag-${part}"` }).end();
      } else if (method === 'PUT') {
        storage.set(oid, body);
        res.writeHead(200).end();
      } else if (method === 'POST' && complete) {
        const req = JSON.parse(body.toString()) as { oid: string; parts: { partNumber: number; etag: string }[] };
        const ok = req.oid === oid && req.parts.every((p) => p.etag === `"etag-${p.partNumber}"`);
        if (!ok) return json(res, 400, { error: 'bad multipart completion' });
        storage.set(oid, Buffer.concat(req.parts.map((p) => parts.get(`${oid}/${p.partNumber}`) ?? Buffer.alloc(0))));
        json(res, 200, {});
      } else {
        json(res, 405, { error: 'method not allowed' });
      }
      return;
    }

    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      return json(res, 401, { error: 'Invalid credentials in Authorization header' });
    }

    if (method === 'POST' && path === '/api/repos/create') {
      if (opts.stall === 'create') return onStall();
      if (opts.fail?.route === 'create') return json(res, opts.fail.status, opts.fail.body);
      const { name, organization, type, visibility } = JSON.parse(body.toString());
      const id = `${organization}/${name}`;
      if (type !== 'model') return json(res, 400, { error: `unexpected type ${type}` });
      if (repos.has(id)) return json(res, 409, { error: 'You already created this model repo', url: `${base}/${id}` });
      repos.set(id, { private: visibility === 'private' });
      return json(res, 200, { url: `${base}/${id}`, name: id, id: 'abc' });
    }

    m = /^\/api\/models\/([^/]+\/[^/]+)\/(preupload|commit)\/main$/.exec(path);
    if (m && method === 'POST') {
      const [, repo, route] = m;
      if (opts.fail?.route === route) return json(res, opts.fail.status, opts.fail.body);
      if (!repos.has(repo)) return json(res, 404, { error: 'Repository not found' });
      if (route === 'preupload') {
        const { files } = JSON.parse(body.toString()) as { files: { path: string; size: number }[] };
        // The Hub's rule: .gitattributes patterns (safetensors, bin, …) or over 10 MB go to LFS.
        const lfs = (f: { path: string; size: number }) => /\.(safetensors|bin)$/.test(f.path) || f.size > 10 * 1024 * 1024;
        return json(res, 200, { files: files.map((f) => ({ path: f.path, uploadMode: lfs(f) ? 'lfs' : 'regular' })) });
      }
      const lines = body.toString().split('\n').map((l) => JSON.parse(l) as CommitLine);
      for (const { key, value } of lines) {
        if (key !== 'lfsFile') continue;
        const stored = storage.get(value.oid ?? '');
        if (!stored || sha256(stored) !== value.oid || stored.length !== value.size) {
          return json(res, 422, { error: `LFS object ${value.oid} for ${value.path} is missing or corrupt` });
        }
      }
      commits.push({ repo, lines });
      const oid = createHash('sha1').update(body).digest('hex');
      return json(res, 200, { success: true, commitOid: oid, commitUrl: `${base}/${repo}/commit/${oid}` });
    }

    m = /^\/([^/]+\/[^/]+)\.git\/info\/lfs\/objects\/batch$/.exec(path);
    if (m && method === 'POST') {
      if (!repos.has(m[1])) return json(res, 404, { error: 'Repository not found' });
      const request = JSON.parse(body.toString()) as { operation: string; transfers: string[]; objects: { oid: string; size: number }[] };
      if (request.operation !== 'upload' || request.transfers.includes('xet')) {
        return json(res, 400, { error: `unexpected batch request ${JSON.stringify(request)}` });
      }
      const chunk = opts.multipartChunkSize;
      const objects = request.objects.map(({ oid, size }) => {
        if (storage.has(oid)) return { oid, size }; // already uploaded: no actions
        if (chunk && size > chunk) {
          const header: Record<string, string> = { chunk_size: String(chunk) };
          for (let i = 1; i <= Math.ceil(size / chunk); i++) header[String(i).padStart(5, '0')] = `${base}/storage/${oid}/part/${i}`;
          return { oid, size, actions: { upload: { href: `${base}/storage/${oid}/complete`, header } } };
        }
        return { oid, size, actions: { upload: { href: `${base}/storage/${oid}` } } };
      });
      return json(res, 200, { transfer: 'basic', objects }, 'application/vnd.git-lfs+json');
    }

    json(res, 404, { error: `no route for ${method} ${path}` });
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    requests,
    repos,
    storage,
    commits,
    stalled,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const hubs: FakeHub[] = [];
async function hub(opts?: FakeHubOptions): Promise<FakeHub> {
  const h = await startFakeHub(opts);
  hubs.push(h);
  return h;
}
afterEach(async () => {
  await Promise.all(hubs.splice(0).map((h) => h.close()));
});

const text = (s: string) => new TextEncoder().encode(s);

function adapterFiles(): PushFile[] {
  return [
    { name: 'adapter_config.json', bytes: text('{"r": 8, "lora_alpha": 16}\n') },
    { name: 'README.md', bytes: text('# my adapter\n\nünïcödé ✓\n') },
    { name: 'adapter_model.safetensors', bytes: new Uint8Array(randomBytes(4096)) },
    // Binary bytes in a regular (base64) file: any corruption in encoding shows up.
    { name: 'extra/nested/tokenizer.bin.txt', bytes: new Uint8Array(randomBytes(3000)) },
  ];
}

function params(h: FakeHub, over: Partial<PushParams> = {}): PushParams {
  return { repo: 'me/my-adapter', token: TOKEN, files: adapterFiles(), private: true, hubUrl: h.url, ...over };
}

/** Every file of `files` is in the commit with exactly its bytes, and nothing else is. */
function expectCommitHolds(h: FakeHub, lines: CommitLine[], files: PushFile[]): void {
  const ops = lines.filter((l) => l.key !== 'header');
  expect(ops.map((l) => l.value.path).sort()).toEqual(files.map((f) => f.name).sort());
  for (const f of files) {
    const op = ops.find((l) => l.value.path === f.name)!;
    if (op.key === 'file') {
      expect(op.value.encoding).toBe('base64');
      expect(Buffer.from(op.value.content ?? '', 'base64').equals(Buffer.from(f.bytes))).toBe(true);
    } else {
      expect(op.key).toBe('lfsFile');
      expect(op.value).toMatchObject({ algo: 'sha256', size: f.bytes.byteLength, oid: sha256(f.bytes) });
      // What the storage received hashes to the oid the commit names.
      expect(sha256(h.storage.get(op.value.oid!)!)).toBe(op.value.oid);
    }
  }
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(Error);
  return err as Error;
}

function expectNoToken(err: Error, token = TOKEN): void {
  expect(err.message).not.toContain(token);
  expect(String((err as { cause?: unknown }).cause ?? '')).not.toContain(token);
}

const endpoints = (h: FakeHub) => h.requests.map((r) => `${r.method} ${r.path.replace(/[0-9a-f]{64}/g, '<oid>')}`);

describe('pushToHub', () => {
  it('creates a private model repo and uploads every file in one commit', async () => {
    const h = await hub();
    const progress: number[] = [];
    const calls: string[] = [];
    const recordingFetch: typeof fetch = (input, init) => {
      calls.push(String(input));
      return fetch(input, init);
    };
    const files = adapterFiles();
    const result = await pushToHub(params(h, { files, fetch: recordingFetch, commitMessage: 'Fine-tuned adapter', onProgress: (f) => progress.push(f) }));

    expect(endpoints(h)).toEqual([
      'POST /api/repos/create',
      'POST /api/models/me/my-adapter/preupload/main',
      'POST /me/my-adapter.git/info/lfs/objects/batch',
      'PUT /storage/<oid>',
      'POST /api/models/me/my-adapter/commit/main',
    ]);
    // The given fetch carried every request.
    expect(calls).toHaveLength(h.requests.length);
    // The token goes to the Hub's API, and not to the storage URL.
    for (const r of h.requests) expect(r.authorization).toBe(r.path.startsWith('/storage/') ? undefined : `Bearer ${TOKEN}`);
    expect(JSON.parse(h.requests[0].body.toString())).toMatchObject({ name: 'my-adapter', organization: 'me', type: 'model', visibility: 'private' });
    expect(h.repos.get('me/my-adapter')).toEqual({ private: true });

    expect(h.commits).toHaveLength(1);
    const [{ repo, lines }] = h.commits;
    expect(repo).toBe('me/my-adapter');
    expect(lines[0]).toMatchObject({ key: 'header', value: { summary: 'Fine-tuned adapter' } });
    expectCommitHolds(h, lines, files);
    expect(lines.find((l) => l.value.path === 'adapter_model.safetensors')?.key).toBe('lfsFile');
    expect(lines.find((l) => l.value.path === 'extra/nested/tokenizer.bin.txt')?.key).toBe('file');

    const commitOid = createHash('sha1').update(h.requests.at(-1)!.body).digest('hex');
    expect(result).toEqual({ url: `${h.url}/me/my-adapter`, commit: commitOid });

    expect(progress.at(-1)).toBe(1);
    expect(progress.some((f) => f > 0 && f < 1)).toBe(true); // the LFS file counted before the commit
    for (let i = 1; i < progress.length; i++) expect(progress[i]).toBeGreaterThan(progress[i - 1]);
  });

  it('creates a public repo when asked, and accepts a pasted URL and a hubUrl with a trailing slash', async () => {
    const h = await hub();
    const result = await pushToHub(params(h, { repo: 'https://huggingface.co/me/pub', private: false, hubUrl: `${h.url}/` }));
    expect(JSON.parse(h.requests[0].body.toString())).toMatchObject({ visibility: 'public' });
    expect(h.repos.get('me/pub')).toEqual({ private: false });
    expect(result.url).toBe(`${h.url}/me/pub`);
  });

  it('uploads a file over 10 MB through LFS, in parts when the Hub asks for multipart', async () => {
    const h = await hub({ multipartChunkSize: 4 * 1024 * 1024 });
    const big = new Uint8Array(randomBytes(10 * 1024 * 1024 + 12345)); // ≥ 10 MB: hashed without crypto.subtle
    const files = [{ name: 'weights.dat', bytes: big }, { name: 'config.json', bytes: text('{}') }];
    await pushToHub(params(h, { files }));
    expect(endpoints(h).filter((e) => e.startsWith('PUT')).sort()).toEqual([1, 2, 3].map((i) => `PUT /storage/<oid>/part/${i}`));
    expect(endpoints(h)).toContain('POST /storage/<oid>/complete');
    expect(h.storage.get(sha256(big))?.equals(Buffer.from(big))).toBe(true);
    expectCommitHolds(h, h.commits[0].lines, files);
    expect(h.commits[0].lines.find((l) => l.value.path === 'weights.dat')?.key).toBe('lfsFile');
  });

  it('commits to a repo that already exists (409), skipping LFS objects the Hub already has', async () => {
    const h = await hub({ existing: ['me/my-adapter'] });
    const files = adapterFiles();
    const first = await pushToHub(params(h, { files }));
    expect(h.commits).toHaveLength(1);

    const second = await pushToHub(params(h, { files: [...files, { name: 'notes.txt', bytes: text('v2') }] }));
    expect(h.commits).toHaveLength(2);
    expect(second.commit).not.toBe(first.commit);
    expectCommitHolds(h, h.commits[1].lines, [...files, { name: 'notes.txt', bytes: text('v2') }]);
    // Both creates were answered 409; the second push sent no LFS bytes again.
    expect(endpoints(h).filter((e) => e === 'POST /api/repos/create')).toHaveLength(2);
    expect(endpoints(h).filter((e) => e.startsWith('PUT'))).toHaveLength(1);
  });

  it('says the token was refused on 401, without the token, and stops before uploading', async () => {
    const h = await hub();
    const wrong = 'hf_WrongTokenabcdefghijklmnopqrstuv';
    const err = await rejection(pushToHub(params(h, { token: wrong })));
    expect(err.message).toMatch(/^The Hub refused your token \(HTTP 401\)/);
    expect(err.message).toContain('lacks write access to "me"');
    expect(err.message).toContain('https://huggingface.co/settings/tokens');
    expectNoToken(err, wrong);
    expect(endpoints(h)).toEqual(['POST /api/repos/create']);
  });

  it('says the token lacks write access on 403 at commit time', async () => {
    const h = await hub({ existing: ['someone-else/model'], fail: { route: 'commit', status: 403, body: { error: "You don't have the rights to push to this repo" } } });
    const err = await rejection(pushToHub(params(h, { repo: 'someone-else/model' })));
    expect(err.message).toMatch(/^The Hub refused your token \(HTTP 403\) \(the Hub said: You don't have the rights to push to this repo\): .*write access to "someone-else"/);
    expectNoToken(err);
  });

  it('rejects an empty or malformed token before any request, without echoing it', async () => {
    const h = await hub();
    for (const token of ['', '   ', 'abc123', 'hf_', 'hf_has space', 'hf_line\nbreak']) {
      const err = await rejection(pushToHub(params(h, { token })));
      expect(err.message).toMatch(/paste a write token .*https:\/\/huggingface\.co\/settings\/tokens/);
      if (token.trim().length > 'hf_'.length) expectNoToken(err, token.trim());
    }
    expect(h.requests).toHaveLength(0);
  });

  it('rejects an invalid repo id before any request, saying what a valid one looks like', async () => {
    let calls = 0;
    const spy: typeof fetch = () => {
      calls++;
      return Promise.reject(new Error('no request expected'));
    };
    for (const repo of ['', 'just-a-name', 'a/b/c', 'me/bad name', 'me/-dash', 'https://github.com/me/x']) {
      const err = await rejection(pushToHub({ repo, token: TOKEN, files: adapterFiles(), private: true, fetch: spy }));
      expect(err.message).toContain('EleutherAI/pythia-70m');
    }
    expect(calls).toBe(0);
  });

  it('rejects an empty file list and bad or duplicate paths before any request', async () => {
    const h = await hub();
    await expect(pushToHub(params(h, { files: [] }))).rejects.toThrow(/no files to push/);
    for (const name of ['', '/abs.json', 'a//b', '../up.json', 'x/./y']) {
      await expect(pushToHub(params(h, { files: [{ name, bytes: text('x') }] }))).rejects.toThrow(/not a valid file path/);
    }
    const dup = [{ name: 'a.json', bytes: text('1') }, { name: 'a.json', bytes: text('2') }];
    await expect(pushToHub(params(h, { files: dup }))).rejects.toThrow(/listed twice/);
    expect(h.requests).toHaveLength(0);
  });

  it('says the Hub could not be reached when the connection is refused', async () => {
    const gone = await startFakeHub();
    await gone.close();
    const err = await rejection(pushToHub(params(gone)));
    expect(err.message).toMatch(
      /^Could not reach the Hugging Face Hub at http:\/\/127\.0\.0\.1:\d+ \(fetch failed: ECONNREFUSED\): are you offline\? .*download the zip instead\.$/,
    );
    expectNoToken(err);
  });

  it('reports other HTTP errors with the status and server message, with the token redacted', async () => {
    const h = await hub({ fail: { route: 'preupload', status: 500, body: { error: `Internal error (token ${TOKEN} was fine)` } } });
    const err = await rejection(pushToHub(params(h)));
    expect(err.message).toBe(
      'The Hub answered HTTP 500 while uploading to "me/my-adapter" (the Hub said: Internal error (token hf_*** was fine)): try again later, or download the zip instead.',
    );
    expectNoToken(err);

    const h2 = await hub({ fail: { route: 'create', status: 400, body: { error: 'Invalid license' } } });
    await expect(pushToHub(params(h2))).rejects.toThrow(/^The Hub answered HTTP 400 while creating "me\/my-adapter" \(the Hub said: Invalid license\): check/);
    expect(endpoints(h2)).toEqual(['POST /api/repos/create']);
  });

  it('blames the file storage, not the token, when an LFS upload URL is refused', async () => {
    const xml = '<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>';
    const h = await hub({ fail: { route: 'storage', status: 403, body: xml } });
    const err = await rejection(pushToHub(params(h, { hubUrl: `${h.url}/hub` })));
    expect(err.message).toBe(`The Hub's file storage answered HTTP 403 while uploading to "me/my-adapter" (the Hub said: ${xml}): try again, or download the zip instead.`);
    expect(h.commits).toHaveLength(0);
  });

  it('rejects with an AbortError when cancelled before starting, making no request', async () => {
    const h = await hub();
    const err = await rejection(pushToHub(params(h, { signal: AbortSignal.abort() })));
    expect(err.name).toBe('AbortError');
    expect(h.requests).toHaveLength(0);
  });

  it('rejects with an AbortError when cancelled mid-upload, and never commits', async () => {
    const h = await hub({ stall: 'storage' });
    const controller = new AbortController();
    const pushing = rejection(pushToHub(params(h, { signal: controller.signal })));
    await h.stalled;
    controller.abort();
    const err = await pushing;
    expect(err.name).toBe('AbortError');
    expect(err.message).toBe('The upload to the Hugging Face Hub was cancelled.');
    expect(endpoints(h).some((e) => e.includes('/commit/'))).toBe(false);
    expect(h.commits).toHaveLength(0);
  });

  it('rejects with an AbortError when cancelled while the repo is being created', async () => {
    const h = await hub({ stall: 'create' });
    const controller = new AbortController();
    const pushing = rejection(pushToHub(params(h, { signal: controller.signal })));
    await h.stalled;
    controller.abort();
    expect((await pushing).name).toBe('AbortError');
    expect(endpoints(h)).toEqual(['POST /api/repos/create']);
  });

  it('does not start the commit when cancelled just after the repo was created', async () => {
    const h = await hub();
    const controller = new AbortController();
    const abortAfterCreate: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (!String(input).endsWith('/api/repos/create')) return res;
      const body = await res.text(); // read in full, so only the next step can notice the abort
      controller.abort();
      return new Response(body, { status: res.status, headers: res.headers });
    };
    const err = await rejection(pushToHub(params(h, { signal: controller.signal, fetch: abortAfterCreate })));
    expect(err.name).toBe('AbortError');
    expect(endpoints(h)).toEqual(['POST /api/repos/create']);
  });
});
