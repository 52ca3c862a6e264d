/**
 * Downloads a checkpoint (GPT-NeoX, Llama, Qwen2, Qwen3 or GPT-2) from the Hugging Face Hub (or a mirror with the
 * same URL layout). Runs in windows, Web Workers and Node: it only needs `fetch`.
 *
 * Order of requests (first download, nothing cached):
 *   1. config.json                                  - required; gated/missing repos fail here
 *   2. tokenizer.json, tokenizer_config.json,
 *      generation_config.json                       - optional (404 -> null)
 *   3. model.safetensors, else model.safetensors.index.json and its shards (sorted by name),
 *      else HEAD pytorch_model.bin(.index.json) to explain why the repo cannot be loaded.
 * The small optional files are fetched before the weights (rather than after) so that when the
 * big download starts every other size is already known, and `overallTotal` becomes exact as
 * soon as the weights' Content-Length arrives.
 *
 * Progress: per file, `loaded`/`total` (total null without Content-Length); `overallLoaded`
 * sums bytes across files; `overallTotal` is null until the size of every remaining file is
 * known, i.e. from the first event of the last weights file that has a Content-Length (for a
 * sharded checkpoint, from the last shard). The last event of the whole download always has
 * overallLoaded === overallTotal.
 *
 * One commit: the first answer's `X-Repo-Commit` (config.json's) says which commit the revision
 * resolved to, and every later file is asked for at that commit, so a branch that moves during
 * a download cannot mix an old config with new weights. (A server that sends no commit is asked
 * by revision throughout.)
 *
 * Cache: files are cached under their `resolve` URL at that commit, and only after the whole
 * download succeeded, so an aborted or failed download leaves the cache as it was. A small
 * manifest, under the revision's URL, says which commit it was, which optional files exist and
 * which weight files; it is written last and only when every file was stored, so a repeat
 * download needs no network at all, and never finds half a model. A cached "main" keeps serving
 * the commit it was downloaded at (consistently) until it is deleted ("Models in this browser").
 */
import { type FileCache, isQuotaError } from './cache';
import {
  type RequestContext,
  discard,
  httpError,
  oneLine,
  readBody,
  request,
  throwIfAborted,
} from './http';
import { EXAMPLE_REPO_ID, parseRepoRef } from './repoId';

export { parseRepoId, parseRepoRef, type RepoRef } from './repoId';
export { cacheStorageCache, memoryCache, type FileCache, type ListableCache, type MemoryCache } from './cache';

import { DEFAULT_HUB_ENDPOINT, DEFAULT_REVISION } from './endpoint';

export { DEFAULT_HUB_ENDPOINT, DEFAULT_REVISION };

export interface DownloadProgress {
  /** Path of the file inside the repo, e.g. "model.safetensors". */
  file: string;
  loaded: number;
  /** Null while the server has not said how big the file is. */
  total: number | null;
  overallLoaded: number;
  /** Null until every remaining file's size is known (see the module comment). */
  overallTotal: number | null;
}

export interface DownloadOptions {
  /** Hub base URL, e.g. a mirror. Default DEFAULT_HUB_ENDPOINT. */
  endpoint?: string;
  /** Branch, tag, commit or "refs/pr/N". Default: the one in a pasted /tree/<rev> URL, else "main". */
  revision?: string;
  signal?: AbortSignal;
  cache?: FileCache | null;
  onProgress?: (progress: DownloadProgress) => void;
  /** Non-fatal problems, e.g. the cache could not be written because storage is full. */
  onWarning?: (message: string) => void;
  /** Hugging Face access token for gated or private repos (sent as a Bearer token). */
  token?: string;
  fetchImpl?: typeof fetch;
}

export interface DownloadedModel {
  repo: string;
  revision: string;
  /** The commit the revision resolved to, when the server said (the Hub does). */
  commit: string | null;
  config: unknown;
  /** Contents of each safetensors file, in the order of `weightFiles`. */
  weights: ArrayBuffer[];
  /** ["model.safetensors"] or the shard names from the index, sorted. */
  weightFiles: string[];
  tokenizerJson: unknown | null;
  tokenizerConfig: unknown | null;
  generationConfig: unknown | null;
  /** True when every file came from the cache and no request was made. */
  fromCache: boolean;
}

const CONFIG_FILE = 'config.json';
const WEIGHTS_FILE = 'model.safetensors';
const WEIGHTS_INDEX_FILE = 'model.safetensors.index.json';
const OPTIONAL_FILES = ['tokenizer.json', 'tokenizer_config.json', 'generation_config.json'] as const;
const PICKLE_FILES = ['pytorch_model.bin', 'pytorch_model.bin.index.json'];
/** 2: files keyed by commit, and the manifest names it (version 1 keyed files by revision). */
const MANIFEST_VERSION = 2;

type OptionalFile = (typeof OPTIONAL_FILES)[number];

/** Which files a completed download consisted of; lets a cached repeat skip all probing. */
export interface Manifest {
  version: typeof MANIFEST_VERSION;
  /** Where it came from, for the list of models in this browser. */
  endpoint: string;
  repo: string;
  revision: string;
  /** The commit the revision resolved to, or null when the server did not say. */
  commit: string | null;
  weights: string[];
  present: OptionalFile[];
}

interface Weights {
  files: string[];
  data: ArrayBuffer[];
}

/** State of one downloadModel call. */
interface Session {
  ctx: RequestContext;
  cache: FileCache | null;
  progress: OverallProgress;
  warn: (message: string) => void;
  /** Files fetched from the network, written to the cache once everything succeeded. */
  pending: { file: string; data: ArrayBuffer }[];
  usedNetwork: boolean;
  /** The commit the revision resolved to (X-Repo-Commit), once known. */
  commit: string | null;
  /** A cache write failed: the manifest is then not written, so no later load finds half a model. */
  cacheIncomplete: boolean;
}

/** `${endpoint}/${repo}/resolve/${revision}/${file}`, each part percent-encoded. */
export function hubFileUrl(endpoint: string, repo: string, revision: string, file: string): string {
  const base = endpoint.replace(/\/+$/, '');
  return `${base}/${encodePath(repo)}/resolve/${encodeURIComponent(revision)}/${encodePath(file)}`;
}

function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

/**
 * Downloads config, tokenizer files and safetensors weights of `repo` (an id or a pasted Hub
 * URL). Rejects with a one-line Error saying what to do, or with a DOMException named
 * "AbortError" when `signal` aborts.
 */
export async function downloadModel(repo: string, opts: DownloadOptions = {}): Promise<DownloadedModel> {
  const session = openSession(repo, opts);
  try {
    return await run(session);
  } catch (err) {
    // Whatever the abort interrupted (fetch, body, cache, a callback), report it the same way.
    throwIfAborted(opts.signal);
    throw err;
  }
}

function openSession(repoInput: string, opts: DownloadOptions): Session {
  const ref = parseRepoRef(repoInput);
  const revision = (opts.revision ?? ref.revision ?? DEFAULT_REVISION).trim();
  if (revision === '') {
    throw new Error(`The revision is empty: use a branch, tag or commit, e.g. "${DEFAULT_REVISION}".`);
  }
  const impl = opts.fetchImpl;
  const warnings = new Set<string>();
  return {
    ctx: {
      // Called through wrappers so the native fetch never sees `this` = ctx ("Illegal invocation").
      fetch: impl ? (input, init) => impl(input, init) : (input, init) => globalThis.fetch(input, init),
      endpoint: normalizeEndpoint(opts.endpoint ?? DEFAULT_HUB_ENDPOINT),
      repo: ref.repo,
      revision,
      headers: opts.token ? { Authorization: `Bearer ${opts.token}` } : {},
      signal: opts.signal,
      hasToken: Boolean(opts.token),
    },
    cache: opts.cache ?? null,
    progress: new OverallProgress(opts.onProgress),
    warn: (message) => {
      // The same cache problem tends to hit every file; say it once.
      if (warnings.has(message)) return;
      warnings.add(message);
      opts.onWarning?.(message);
    },
    pending: [],
    usedNetwork: false,
    commit: null,
    cacheIncomplete: false,
  };
}

function normalizeEndpoint(endpoint: string): string {
  const trimmed = endpoint.trim().replace(/\/+$/, '');
  let protocol = '';
  try {
    protocol = new URL(trimmed).protocol;
  } catch {
    // Reported below.
  }
  if (protocol !== 'https:' && protocol !== 'http:') {
    throw new Error(`Hub endpoint "${oneLine(endpoint)}" is not an http(s) URL: use ${DEFAULT_HUB_ENDPOINT} or your mirror's address.`);
  }
  return trimmed;
}

async function run(s: Session): Promise<DownloadedModel> {
  throwIfAborted(s.ctx.signal);
  const manifest = await readManifest(s);
  if (manifest) s.commit = manifest.commit;
  const config = parseConfig(s, await fetchRequired(s, CONFIG_FILE, false));
  const extras = await fetchOptionalFiles(s, manifest);
  const weights = manifest ? await fetchWeightFiles(s, manifest.weights) : await discoverWeights(s);
  const written: Manifest = { version: MANIFEST_VERSION, endpoint: s.ctx.endpoint, repo: s.ctx.repo, revision: s.ctx.revision, commit: s.commit, weights: weights.files, present: presentFiles(extras) };
  await commit(s, manifest ? null : written);
  return {
    repo: s.ctx.repo,
    revision: s.ctx.revision,
    commit: s.commit,
    config,
    weights: weights.data,
    weightFiles: weights.files,
    tokenizerJson: extras['tokenizer.json'],
    tokenizerConfig: extras['tokenizer_config.json'],
    generationConfig: extras['generation_config.json'],
    fromCache: !s.usedNetwork,
  };
}

// ---------------------------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------------------------

async function fetchOptionalFiles(s: Session, manifest: Manifest | null): Promise<Record<OptionalFile, unknown>> {
  const out: Record<OptionalFile, unknown> = {
    'tokenizer.json': null,
    'tokenizer_config.json': null,
    'generation_config.json': null,
  };
  for (const file of OPTIONAL_FILES) {
    // A cached manifest already knows which files 404; don't ask again.
    if (manifest && !manifest.present.includes(file)) continue;
    const data = await fetchFile(s, file, { optional: true, last: false });
    out[file] = data ? parseJson(s, file, data) : null;
  }
  return out;
}

function presentFiles(extras: Record<OptionalFile, unknown>): OptionalFile[] {
  return OPTIONAL_FILES.filter((file) => extras[file] !== null);
}

/** First download: single file, else sharded index, else explain what the repo has instead. */
async function discoverWeights(s: Session): Promise<Weights> {
  const single = await fetchFile(s, WEIGHTS_FILE, { optional: true, last: true });
  if (single) return { files: [WEIGHTS_FILE], data: [single] };

  const index = await fetchFile(s, WEIGHTS_INDEX_FILE, { optional: true, last: false });
  if (index) return fetchWeightFiles(s, shardNames(s, parseJson(s, WEIGHTS_INDEX_FILE, index)));

  return refuseWithoutSafetensors(s);
}

async function fetchWeightFiles(s: Session, files: string[]): Promise<Weights> {
  const data: ArrayBuffer[] = [];
  for (const [i, file] of files.entries()) {
    data.push(await fetchRequired(s, file, i === files.length - 1));
  }
  return { files, data };
}

/** Distinct shard files named by the index's weight_map, sorted (model-00001-of-000NN first). */
function shardNames(s: Session, index: unknown): string[] {
  const map = isRecord(index) ? index.weight_map : undefined;
  const malformed = `${WEIGHTS_INDEX_FILE} in "${s.ctx.repo}" at revision "${s.ctx.revision}"`;
  if (!isRecord(map)) {
    throw new Error(`${malformed} has no weight_map: the sharded checkpoint is malformed; try another revision or repo.`);
  }
  const shards = new Set<string>();
  for (const value of Object.values(map)) {
    // The index is remote input: never let it point outside the repo or at non-safetensors files.
    if (typeof value !== 'string' || !isSafeShardName(value)) {
      throw new Error(`${malformed} lists an invalid shard ${JSON.stringify(value)}: only .safetensors files inside the repo can be loaded; try another revision or repo.`);
    }
    shards.add(value);
  }
  if (shards.size === 0) {
    throw new Error(`${malformed} lists no shards: the sharded checkpoint is malformed; try another revision or repo.`);
  }
  return [...shards].sort();
}

function isSafeShardName(name: string): boolean {
  return (
    name.endsWith('.safetensors') &&
    !name.includes('\\') &&
    name.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..')
  );
}

/** Neither safetensors layout exists: find out whether pickled weights are the reason. */
async function refuseWithoutSafetensors(s: Session): Promise<never> {
  const where = `"${s.ctx.repo}" at revision "${s.ctx.revision}"`;
  for (const file of PICKLE_FILES) {
    if (await exists(s, file)) {
      throw new Error(
        `${where} only has pickled PyTorch weights (${file}), which are refused: unpickling can run arbitrary code and needs Python. ` +
          `Pick a repo or revision that has model.safetensors (e.g. a "refs/pr/N" revision from the Safetensors conversion bot) ` +
          `or convert it with the safetensors convert tool (https://huggingface.co/spaces/safetensors/convert).`,
      );
    }
  }
  throw new Error(`${where} has no model weights (no ${WEIGHTS_FILE} or ${WEIGHTS_INDEX_FILE}): pick a Transformers checkpoint such as "${EXAMPLE_REPO_ID}".`);
}

/** HEAD, so that checking for a multi-GB pickle does not download it. */
async function exists(s: Session, file: string): Promise<boolean> {
  s.usedNetwork = true;
  const response = await request(s.ctx, fileUrl(s, file), 'HEAD');
  discard(response);
  return response.ok;
}

async function fetchRequired(s: Session, file: string, last: boolean): Promise<ArrayBuffer> {
  const data = await fetchFile(s, file, { optional: false, last });
  if (!data) throw new Error(`${file} is missing from "${s.ctx.repo}": try again.`); // unreachable: required 404s throw
  return data;
}

/**
 * Cache first, then network. Returns null for a missing optional file (404). `last` marks the
 * final file of the download, whose size completes `overallTotal`.
 */
async function fetchFile(s: Session, file: string, opts: { optional: boolean; last: boolean }): Promise<ArrayBuffer | null> {
  const url = fileUrl(s, file);
  const cached = await cacheGet(s, url);
  if (cached) {
    // One event so the UI's bar for this file still completes.
    s.progress.report(file, cached.byteLength, cached.byteLength, opts.last);
    s.progress.complete(cached.byteLength);
    return cached;
  }
  s.usedNetwork = true;
  const response = await request(s.ctx, url, 'GET');
  if (response.status === 404 && opts.optional) {
    discard(response);
    return null;
  }
  if (!response.ok) {
    discard(response);
    throw httpError(s.ctx, response, file);
  }
  s.commit ??= commitOf(response);
  const data = await readBody(s.ctx, response, file, (loaded, total) => s.progress.report(file, loaded, total, opts.last));
  s.progress.complete(data.byteLength);
  s.pending.push({ file, data });
  return data;
}

/** A commit hash from X-Repo-Commit, or null (absent, or not a hash: it goes into URLs). */
function commitOf(response: Response): string | null {
  const commit = response.headers.get('X-Repo-Commit')?.trim() ?? '';
  return /^[0-9a-f]{7,64}$/i.test(commit) ? commit : null;
}

/** A file's resolve URL at the commit once known, else at the revision. */
function fileUrl(s: Session, file: string): string {
  return hubFileUrl(s.ctx.endpoint, s.ctx.repo, s.commit ?? s.ctx.revision, file);
}

// ---------------------------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------------------------

function parseJson(s: Session, file: string, data: ArrayBuffer): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(data));
  } catch (err) {
    const detail = err instanceof Error ? oneLine(err.message) : 'parse error';
    throw new Error(`${file} from "${s.ctx.repo}" is not valid JSON (${detail}): a proxy or error page may have replaced it; try again.`, {
      cause: err,
    });
  }
}

function parseConfig(s: Session, data: ArrayBuffer): unknown {
  const config = parseJson(s, CONFIG_FILE, data);
  if (!isRecord(config)) {
    throw new Error(`config.json in "${s.ctx.repo}" is not a JSON object, so it is not a Transformers model config: pick a repo such as "${EXAMPLE_REPO_ID}".`);
  }
  return config;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------
// Cache
// ---------------------------------------------------------------------------------------------

/** A read failure (e.g. storage disabled) is a miss, not a failed download. */
async function cacheGet(s: Session, url: string): Promise<ArrayBuffer | null> {
  if (!s.cache) return null;
  let data: ArrayBuffer | null = null;
  try {
    data = await s.cache.get(url);
  } catch (err) {
    s.warn(`Could not read the browser cache (${describe(err)}); downloading from the Hub instead.`);
  }
  throwIfAborted(s.ctx.signal);
  return data;
}

/** A write failure (typically a full quota) only costs caching; the download still succeeds. */
async function cachePut(s: Session, url: string, data: ArrayBuffer, what: string): Promise<void> {
  if (!s.cache) return;
  try {
    await s.cache.put(url, data);
  } catch (err) {
    s.cacheIncomplete = true;
    s.warn(
      isQuotaError(err)
        ? `The model was not saved to the browser cache because site storage is full; it will be downloaded again next time. Free up storage (e.g. clear this site's data) to enable caching.`
        : `Could not save ${what} to the browser cache (${describe(err)}); it will be downloaded again next time.`,
    );
  }
}

/**
 * Writes everything fetched from the network under its URL at the commit (config.json was asked
 * for before the commit was known), then the manifest: last, and only when every file was stored.
 */
async function commit(s: Session, manifest: Manifest | null): Promise<void> {
  for (const { file, data } of s.pending) await cachePut(s, fileUrl(s, file), data, file);
  if (manifest && !s.cacheIncomplete) {
    await cachePut(s, manifestUrl(s), new TextEncoder().encode(JSON.stringify(manifest)).buffer, 'the download manifest');
  }
}

async function readManifest(s: Session): Promise<Manifest | null> {
  const data = await cacheGet(s, manifestUrl(s));
  return data ? parseManifest(data) : null;
}

/** A cached manifest's bytes as a Manifest, or null (another version, or corrupt: that only costs re-probing). */
export function parseManifest(data: ArrayBuffer): Manifest | null {
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(data));
    return isManifest(value) ? value : null;
  } catch {
    return null;
  }
}

/** The cache keys of every file a manifest lists (config.json, the optional files present, the weights). */
export function manifestFiles(m: Manifest): string[] {
  return [CONFIG_FILE, ...m.present, ...m.weights].map((file) => hubFileUrl(m.endpoint, m.repo, m.commit ?? m.revision, file));
}

function isManifest(value: unknown): value is Manifest {
  return (
    isRecord(value) &&
    value.version === MANIFEST_VERSION &&
    typeof value.endpoint === 'string' &&
    typeof value.repo === 'string' &&
    typeof value.revision === 'string' &&
    (value.commit === null || (typeof value.commit === 'string' && /^[0-9a-f]{7,64}$/i.test(value.commit))) &&
    Array.isArray(value.weights) &&
    value.weights.length > 0 &&
    value.weights.every((f) => typeof f === 'string' && isSafeShardName(f)) &&
    Array.isArray(value.present) &&
    value.present.every((f) => (OPTIONAL_FILES as readonly unknown[]).includes(f))
  );
}

/** The query that marks a manifest's cache key. */
export const MANIFEST_QUERY = 'neox-studio-manifest';

/** A query string keeps the key distinct from any real file (the Cache API ignores #fragments). */
function manifestUrl(s: Session): string {
  return `${hubFileUrl(s.ctx.endpoint, s.ctx.repo, s.ctx.revision, '')}?${MANIFEST_QUERY}=${MANIFEST_VERSION}`;
}

function describe(err: unknown): string {
  if (err instanceof Error) return oneLine(`${err.name}: ${err.message}`);
  return oneLine(String(err));
}

// ---------------------------------------------------------------------------------------------
// Progress
// ---------------------------------------------------------------------------------------------

/** Adds per-file progress into overall numbers (files are downloaded one after another). */
class OverallProgress {
  private completed = 0;

  constructor(private readonly listener: ((progress: DownloadProgress) => void) | undefined) {}

  report(file: string, loaded: number, total: number | null, last: boolean): void {
    this.listener?.({
      file,
      loaded,
      total,
      overallLoaded: this.completed + loaded,
      // Earlier files are complete, so only the last file's size can still be unknown.
      overallTotal: last && total !== null ? this.completed + total : null,
    });
  }

  complete(bytes: number): void {
    this.completed += bytes;
  }
}
