import type { Progress } from './progress';

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new DOMException('Parsing was cancelled.', 'AbortError');
}

/** Chunk size for reading: progress is reported, and cancellation checked, once per chunk. */
export const READ_CHUNK_BYTES = 512 * 1024;

/**
 * The blob in slices, read one at a time as the parse consumes them. Slicing rather than
 * blob.stream() gives the same chunks everywhere: Node hands an in-memory Blob's stream over as a
 * single chunk, which would leave nothing to report progress on or cancel between.
 */
export async function* readChunks(blob: Blob, signal: AbortSignal | undefined): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < blob.size; offset += READ_CHUNK_BYTES) {
    throwIfAborted(signal);
    yield new Uint8Array(await blob.slice(offset, offset + READ_CHUNK_BYTES).arrayBuffer());
  }
  throwIfAborted(signal);
}

/** The whole blob, for the formats that need all of it at once. */
export async function readAll(blob: Blob, progress: Progress, signal: AbortSignal | undefined): Promise<Uint8Array> {
  const out = new Uint8Array(blob.size);
  let length = 0;
  for await (const chunk of readChunks(blob, signal)) {
    out.set(chunk, length);
    length += chunk.length;
    progress.update(length, 0, 0);
  }
  return out;
}

/** Enough of the file to recognise its format (and, for small files, all of it). */
const HEAD_BYTES = 64 * 1024;

export async function readHead(blob: Blob): Promise<string> {
  const bytes = await blob.slice(0, HEAD_BYTES).arrayBuffer();
  // stream: true holds back a character cut in half at the end instead of turning it into U+FFFD.
  return new TextDecoder().decode(bytes, { stream: blob.size > HEAD_BYTES });
}
