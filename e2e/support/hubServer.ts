/**
 * A local stand-in for the Hugging Face Hub, for unit tests (Node fetch) and Playwright tests
 * (a browser page with COEP require-corp fetching cross-origin from a worker).
 *
 * It mimics the parts of the Hub that downloadModel relies on:
 * - `GET|HEAD /{owner}/{name}/resolve/{revision}/{file}` answers 302 to a CDN-like URL on the
 *   same server (`/cdn-lfs/{sha256}?filename=…`), as the Hub redirects large (LFS) files to its
 *   CDN; small JSON files it answers itself, as the Hub does for files kept in git. Every resolve
 *   answer carries `X-Repo-Commit`; a revision is the branch (see `revision`) or a commit hash,
 *   and `push` makes a new commit, so a test can move the branch under a cached download;
 * - the CDN URL serves the bytes in chunks with Content-Length, so progress events happen;
 * - errors carry the Hub's `X-Error-Code` (RepoNotFound, RevisionNotFound, EntryNotFound,
 *   GatedRepo), and every response (redirects and errors included) has CORS and CORP headers,
 *   since a browser needs them on each hop of a cross-origin redirect chain.
 * Responses are `Cache-Control: no-store` so browser tests see every request in `requests`.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type HubRepoFiles = Record<string, Uint8Array | string>;

export interface HubServerOptions {
  /** repo id ("owner/name") -> file path inside the repo -> contents. */
  repos: Record<string, HubRepoFiles>;
  /** The only revision that exists in every repo (anything else is RevisionNotFound). Default "main". */
  revision?: string;
  /** Repos that answer 401 GatedRepo unless the request carries `Authorization: Bearer <token>`. */
  gated?: string[];
  /** The access token that unlocks gated repos. Without it, gated repos are never readable. */
  token?: string;
  /** Bytes written per chunk. Default 64 KiB. */
  chunkSize?: number;
  /** Pause between chunks, to make downloads slow enough to watch or abort. Default 0. */
  chunkDelayMs?: number;
  /** Send bodies chunked without Content-Length, like a server that does not know the size. */
  omitContentLength?: boolean;
}

export interface HubServer {
  /** Base URL to pass as the Hub endpoint, e.g. "http://127.0.0.1:41234". */
  url: string;
  /** Raw request paths (with query) in arrival order, for cache and redirect assertions. */
  requests: string[];
  /** Same as `requests`, with the method (to tell HEAD probes from downloads). */
  requestLog: { method: string; path: string }[];
  /** A new commit on the branch: `files` replace or add to the repo's; the older commits stay readable by hash. */
  push(repo: string, files: HubRepoFiles): void;
  close(): Promise<void>;
}

interface StoredFile {
  bytes: Uint8Array;
  file: string;
  sha: string;
}

interface Commit {
  sha: string;
  files: Map<string, StoredFile>;
}

interface ServerState {
  /** Each repo's commits, oldest first; the branch points at the last. */
  repos: Map<string, Commit[]>;
  blobs: Map<string, StoredFile>;
  revision: string;
  gated: Set<string>;
  token: string | undefined;
  chunkSize: number;
  chunkDelayMs: number;
  omitContentLength: boolean;
}

const CORS_HEADERS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Expose-Headers':
    'Content-Length, ETag, X-Repo-Commit, X-Error-Code, X-Error-Message, X-Linked-Size, X-Linked-ETag',
  // The studio page is cross-origin isolated (COEP require-corp).
  'Cross-Origin-Resource-Policy': 'cross-origin',
  'Cache-Control': 'no-store',
} as const;

export async function startHubServer(opts: HubServerOptions): Promise<HubServer> {
  const state = buildState(opts);
  const requests: string[] = [];
  const requestLog: { method: string; path: string }[] = [];

  const server = createServer((req, res) => {
    const path = req.url ?? '/';
    requests.push(path);
    requestLog.push({ method: req.method ?? 'GET', path });
    route(state, req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500, CORS_HEADERS);
      res.end();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    requestLog,
    push: (repo, files) => {
      const commits = state.repos.get(repo);
      if (!commits) throw new Error(`no repo ${repo}`);
      const head = commits[commits.length - 1];
      const next = new Map(head.files);
      for (const [file, content] of Object.entries(files)) next.set(file, store(state.blobs, file, content));
      commits.push({ sha: createHash('sha1').update(`${head.sha}+${commits.length}`).digest('hex'), files: next });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // fetch keeps connections alive; without this, close() waits for them to time out.
        server.closeAllConnections();
      }),
  };
}

function buildState(opts: HubServerOptions): ServerState {
  const revision = opts.revision ?? 'main';
  const repos = new Map<string, Commit[]>();
  const blobs = new Map<string, StoredFile>();
  for (const [repo, files] of Object.entries(opts.repos)) {
    const entries = new Map<string, StoredFile>();
    for (const [file, content] of Object.entries(files)) entries.set(file, store(blobs, file, content));
    repos.set(repo, [{ sha: createHash('sha1').update(revision).digest('hex'), files: entries }]);
  }
  return {
    repos,
    blobs,
    revision,
    gated: new Set(opts.gated ?? []),
    token: opts.token,
    chunkSize: opts.chunkSize ?? 64 * 1024,
    chunkDelayMs: opts.chunkDelayMs ?? 0,
    omitContentLength: opts.omitContentLength ?? false,
  };
}

async function route(state: ServerState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method === 'OPTIONS') return preflight(req, res);
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { ...CORS_HEADERS, Allow: 'GET, HEAD, OPTIONS' });
    res.end();
    return;
  }
  const url = new URL(req.url ?? '/', 'http://hub.invalid');
  // Split before decoding so an encoded "/" (refs%2Fpr%2F1) stays inside its segment.
  const segments = url.pathname.split('/').slice(1).map(decodeURIComponent);
  if (segments[0] === 'cdn-lfs' && segments.length === 2) return serveBlob(state, req, res, segments[1]);
  if (segments.length >= 5 && segments[2] === 'resolve') return resolve(state, req, res, segments);
  return error(res, 404, 'EntryNotFound', 'Not found');
}

function preflight(req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(204, {
    ...CORS_HEADERS,
    'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS',
    // "*" does not cover Authorization, so echo what the browser asks for.
    'Access-Control-Allow-Headers': req.headers['access-control-request-headers'] ?? '*',
    'Access-Control-Max-Age': '86400',
  });
  res.end();
}

/** /{owner}/{name}/resolve/{revision}/{file…} -> 302 to the blob, or the Hub's error. */
function resolve(state: ServerState, req: IncomingMessage, res: ServerResponse, segments: string[]): void {
  const [owner, name, , revision, ...fileParts] = segments;
  const repo = `${owner}/${name}`;
  const commits = state.repos.get(repo);
  if (!commits) return error(res, 404, 'RepoNotFound', 'Repository not found');
  if (state.gated.has(repo) && !authorized(state, req)) {
    return error(res, 401, 'GatedRepo', `Access to model ${repo} is restricted. You must have access to it and be authenticated to access it. Please log in.`);
  }
  const commit = revision === state.revision ? commits[commits.length - 1] : commits.find((c) => c.sha === revision);
  if (!commit) return error(res, 404, 'RevisionNotFound', `Invalid rev id: ${revision}`);
  const blob = commit.files.get(fileParts.join('/'));
  if (!blob) return error(res, 404, 'EntryNotFound', 'Entry not found');

  if (blob.file.endsWith('.json')) {
    // Kept in git on the Hub: answered by resolve itself, with the commit it resolved to.
    res.writeHead(200, { ...CORS_HEADERS, 'Content-Type': 'application/json', ETag: `"${blob.sha}"`, 'X-Repo-Commit': commit.sha, 'Content-Length': String(blob.bytes.byteLength) });
    if (req.method === 'HEAD') return void res.end();
    return void res.end(Buffer.from(blob.bytes));
  }
  const location = `http://${req.headers.host ?? '127.0.0.1'}/cdn-lfs/${blob.sha}?filename=${encodeURIComponent(blob.file)}`;
  res.writeHead(302, {
    ...CORS_HEADERS,
    Location: location,
    ETag: `"${blob.sha}"`,
    'X-Repo-Commit': commit.sha,
    'X-Linked-Size': String(blob.bytes.byteLength),
    'X-Linked-ETag': `"${blob.sha}"`,
    'Content-Length': '0',
  });
  res.end();
}

function authorized(state: ServerState, req: IncomingMessage): boolean {
  return state.token !== undefined && req.headers.authorization === `Bearer ${state.token}`;
}

async function serveBlob(state: ServerState, req: IncomingMessage, res: ServerResponse, sha: string): Promise<void> {
  const blob = state.blobs.get(sha);
  if (!blob) return error(res, 404, 'EntryNotFound', 'Blob not found');
  res.writeHead(200, {
    ...CORS_HEADERS,
    'Content-Type': blob.file.endsWith('.json') ? 'application/json' : 'application/octet-stream',
    ETag: `"${blob.sha}"`,
    ...(state.omitContentLength ? {} : { 'Content-Length': String(blob.bytes.byteLength) }),
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  await writeChunks(res, blob.bytes, state.chunkSize, state.chunkDelayMs);
}

/** Writes in separate chunks (honouring backpressure) and stops if the client goes away. */
async function writeChunks(res: ServerResponse, bytes: Uint8Array, chunkSize: number, delayMs: number): Promise<void> {
  for (let offset = 0; offset < bytes.byteLength; offset += chunkSize) {
    if (res.destroyed) return;
    const flushed = res.write(bytes.subarray(offset, offset + chunkSize));
    if (!flushed) await drainOrClose(res);
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
  }
  if (!res.destroyed) res.end();
}

function drainOrClose(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

function error(res: ServerResponse, status: number, code: string, message: string): void {
  const body = JSON.stringify({ error: message });
  res.writeHead(status, {
    ...CORS_HEADERS,
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(body)),
    'X-Error-Code': code,
    'X-Error-Message': message,
  });
  res.end(body);
}

function store(blobs: Map<string, StoredFile>, file: string, content: Uint8Array | string): StoredFile {
  const bytes = typeof content === 'string' ? new TextEncoder().encode(content) : content;
  const blob = { bytes, file, sha: sha256(bytes) };
  blobs.set(blob.sha, blob);
  return blob;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
