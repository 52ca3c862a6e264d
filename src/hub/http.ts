/**
 * Network layer for Hub downloads: one request at a time, streamed bodies with byte progress,
 * and translation of HTTP/network failures into one-line messages that say what to do.
 */
import { EXAMPLE_REPO_ID } from './repoId';

/** What every request needs to know to run and to explain its failures. */
export interface RequestContext {
  fetch: typeof fetch;
  endpoint: string;
  repo: string;
  revision: string;
  headers: Record<string, string>;
  signal?: AbortSignal;
  hasToken: boolean;
}

/** Progress of one body: `total` is null while unknown (no usable Content-Length). */
export type BodyProgress = (loaded: number, total: number | null) => void;

/** Events per file are capped at about this many (plus the first and the last). */
const PROGRESS_STEPS = 256;
/** Without a Content-Length we cannot size steps, so report every MiB. */
const UNKNOWN_TOTAL_STEP = 1 << 20;

/** The error every cancelled download rejects with, whatever stage it was in. */
export function abortError(): DOMException {
  return new DOMException('The model download was cancelled.', 'AbortError');
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError();
}

/** fetch() with redirects followed (the Hub answers `resolve` URLs with 302 to its CDN). */
export async function request(ctx: RequestContext, url: string, method: 'GET' | 'HEAD'): Promise<Response> {
  throwIfAborted(ctx.signal);
  try {
    return await ctx.fetch(url, { method, headers: ctx.headers, redirect: 'follow', signal: ctx.signal });
  } catch (err) {
    throwIfAborted(ctx.signal);
    // fetch reports DNS failures, refused connections, offline mode and CORS blocks as TypeError.
    if (err instanceof TypeError) throw unreachableError(ctx, err);
    throw err;
  }
}

/** Releases the connection of a response whose body we will not read. */
export function discard(response: Response): void {
  response.body?.cancel().catch(() => undefined);
}

/**
 * Reads a body chunk by chunk, reporting progress. The first event has loaded 0, and the last
 * always has loaded === total === the byte count actually received (Content-Length is only a
 * hint: a compressed or lying response may differ). Failures come back as one-line Errors
 * naming `file`; a cancelled download rejects with abortError().
 */
export async function readBody(
  ctx: RequestContext,
  response: Response,
  file: string,
  onProgress: BodyProgress,
): Promise<ArrayBuffer> {
  const expected = contentLength(response);
  let sink: ByteSink;
  try {
    sink = new ByteSink(expected);
  } catch (err) {
    discard(response);
    throw err instanceof RangeError ? tooLargeError(file, expected ?? 0) : err;
  }
  const step = expected !== null ? Math.max(1, Math.floor(expected / PROGRESS_STEPS)) : UNKNOWN_TOTAL_STEP;
  onProgress(0, expected);
  if (response.body) {
    const reader = response.body.getReader();
    try {
      await pump(ctx, reader, file, sink, step, expected, onProgress);
    } catch (err) {
      reader.cancel().catch(() => undefined);
      throw err;
    }
  }
  const data = sink.finish();
  onProgress(data.byteLength, data.byteLength);
  return data;
}

async function pump(
  ctx: RequestContext,
  reader: ReadableStreamDefaultReader<Uint8Array>,
  file: string,
  sink: ByteSink,
  step: number,
  expected: number | null,
  onProgress: BodyProgress,
): Promise<void> {
  let reported = 0;
  for (;;) {
    const { done, value } = await readChunk(ctx, reader, file);
    if (done) return;
    sink.push(value);
    const loaded = sink.length;
    // Leave loaded === expected to the final event so it is reported exactly once.
    if (loaded - reported >= step && (expected === null || loaded < expected)) {
      reported = loaded;
      onProgress(loaded, expected !== null && loaded <= expected ? expected : null);
    }
  }
}

async function readChunk(
  ctx: RequestContext,
  reader: ReadableStreamDefaultReader<Uint8Array>,
  file: string,
): Promise<ReadableStreamReadResult<Uint8Array>> {
  let result: ReadableStreamReadResult<Uint8Array>;
  try {
    result = await reader.read();
  } catch (err) {
    throwIfAborted(ctx.signal);
    throw interruptedError(ctx, file, err);
  }
  // Checked per chunk too: a body that is already buffered in full would keep reading.
  throwIfAborted(ctx.signal);
  return result;
}

function contentLength(response: Response): number | null {
  const header = response.headers.get('Content-Length');
  if (header === null || !/^\d+$/.test(header.trim())) return null;
  const value = Number(header);
  return Number.isSafeInteger(value) ? value : null;
}

/**
 * Collects body bytes. With a known size it writes into one preallocated buffer, so a 1 GB
 * checkpoint needs 1 GB rather than 2 GB at the moment the chunks are joined.
 */
class ByteSink {
  length = 0;
  private buffer: Uint8Array | null;
  private chunks: Uint8Array[] = [];

  constructor(expected: number | null) {
    // Throws RangeError when the announced size cannot be allocated (see readBody).
    this.buffer = expected !== null ? new Uint8Array(expected) : null;
  }

  push(chunk: Uint8Array): void {
    if (this.buffer && this.length + chunk.byteLength <= this.buffer.byteLength) {
      this.buffer.set(chunk, this.length);
    } else {
      // More bytes than announced: fall back to collecting chunks.
      if (this.buffer) this.chunks.push(this.buffer.subarray(0, this.length));
      this.buffer = null;
      this.chunks.push(chunk);
    }
    this.length += chunk.byteLength;
  }

  finish(): ArrayBuffer {
    if (this.buffer) {
      const exact = this.buffer.byteLength === this.length ? this.buffer : this.buffer.slice(0, this.length);
      return exact.buffer as ArrayBuffer;
    }
    const out = new Uint8Array(this.length);
    let offset = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, offset);
      offset += chunk.byteLength;
    }
    return out.buffer;
  }
}

// ---------------------------------------------------------------------------------------------
// Error messages
// ---------------------------------------------------------------------------------------------

/** Turns a non-OK response for `file` into an actionable one-line Error. */
export function httpError(ctx: RequestContext, response: Response, file: string): Error {
  const status = response.status;
  const code = response.headers.get('X-Error-Code');
  const repo = `"${ctx.repo}"`;
  const page = `${ctx.endpoint}/${ctx.repo}`;

  if (status === 401 || status === 403) {
    // The real Hub answers 401 + RepoNotFound for missing repos so as not to reveal private ones.
    if (code === 'RepoNotFound') return notFoundError(ctx);
    if (ctx.hasToken) {
      return new Error(`The Hub refused access to ${repo} (HTTP ${status}): check that your access token is valid and that your account has been granted access on ${page}.`);
    }
    return new Error(`${repo} is gated or private (HTTP ${status}): request access on ${page} and provide a Hugging Face access token, or load the model from local files instead.`);
  }
  if (status === 404) {
    if (code === 'RevisionNotFound') {
      return new Error(`Revision "${ctx.revision}" does not exist in ${repo}: use a branch, tag or commit that exists (usually "main").`);
    }
    if (code === 'EntryNotFound' && file === 'config.json') {
      return new Error(`${repo} at revision "${ctx.revision}" has no config.json, so it is not a Transformers model repo: pick one such as "${EXAMPLE_REPO_ID}".`);
    }
    if (code === 'EntryNotFound') {
      return new Error(`${file} is missing from ${repo} at revision "${ctx.revision}": the repo looks incomplete; try another revision or repo.`);
    }
    return notFoundError(ctx);
  }
  if (status === 429) {
    return new Error(`The Hub is rate-limiting downloads (HTTP 429) while fetching ${file}: wait a minute and try again.`);
  }
  if (status >= 500) {
    return new Error(`The Hub had a server error (HTTP ${status}) while fetching ${file} from ${repo}: try again later, or load the model from local files instead.`);
  }
  return new Error(`Downloading ${file} from ${repo} failed with HTTP ${status}: try again, or load the model from local files instead.`);
}

function notFoundError(ctx: RequestContext): Error {
  return new Error(`Model repo "${ctx.repo}" or its revision "${ctx.revision}" does not exist on the Hub (or is private): check the spelling, e.g. "${EXAMPLE_REPO_ID}" at revision "main".`);
}

function unreachableError(ctx: RequestContext, err: TypeError): Error {
  return new Error(`Could not reach the Hugging Face Hub at ${ctx.endpoint} (${describeNetworkError(err)}): check your internet connection, or load the model from local files instead.`, { cause: err });
}

/** For a body that broke off mid-download (connection reset, server closed early). */
function interruptedError(ctx: RequestContext, file: string, err: unknown): Error {
  return new Error(`The download of ${file} from "${ctx.repo}" was interrupted (${describeNetworkError(err)}): check your internet connection and try again, or load the model from local files instead.`, { cause: err });
}

function tooLargeError(file: string, bytes: number): Error {
  const gib = (bytes / 2 ** 30).toFixed(1);
  return new Error(`${file} is ${gib} GiB, more than this browser can hold in memory: pick a smaller model such as "${EXAMPLE_REPO_ID}".`);
}

/** "fetch failed: ECONNREFUSED" in Node, "Failed to fetch" in browsers. */
function describeNetworkError(err: unknown): string {
  if (!(err instanceof Error)) return oneLine(String(err));
  // Node's "fetch failed" hides the useful part (ECONNREFUSED, ENOTFOUND, …) in `cause`.
  const cause = (err as { cause?: unknown }).cause;
  const code = typeof cause === 'object' && cause !== null ? (cause as { code?: unknown }).code : undefined;
  if (typeof code === 'string') return oneLine(`${err.message}: ${code}`);
  if (cause instanceof Error) return oneLine(`${err.message}: ${cause.message}`);
  return oneLine(err.message);
}

export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
