/**
 * Splits a byte stream into lines on 0x0A, which never occurs inside a UTF-8 sequence, so lines can
 * be cut before decoding. A line within one chunk is handed over as a view of that chunk (no copy);
 * only a line that spans chunks is assembled, from a list of pieces (never by repeated concatenation).
 */

export interface LineSink {
  /** A line without its line break (a trailing \r is dropped too). `bytes` may view the chunk: use it before returning. */
  line(bytes: Uint8Array, lineNo: number): void;
  /** A line longer than the limit: `size` is its full length, `head` its first bytes (at most TOO_LONG_HEAD_BYTES). */
  tooLong(lineNo: number, size: number, head: Uint8Array): void;
}

/** Enough bytes for a 120-character excerpt even in 4-byte characters. */
export const TOO_LONG_HEAD_BYTES = 480;

const LF = 0x0a;
const CR = 0x0d;

/** Returns the number of bytes read. `afterChunk` runs after each chunk (progress, cancellation). */
export async function splitLines(
  chunks: AsyncIterable<Uint8Array>,
  sink: LineSink,
  maxLineBytes: number,
  afterChunk?: (bytesRead: number) => void,
): Promise<number> {
  let lineNo = 1;
  let bytesRead = 0;
  // The current line so far, when it started in an earlier chunk.
  let pieces: Uint8Array[] = [];
  let lineBytes = 0;
  // Inside a line over the limit: bytes are only counted until the next LF, and the first few kept.
  let head: Uint8Array | null = null;
  let headLength = 0;
  const keepHead = (piece: Uint8Array) => {
    const take = piece.subarray(0, TOO_LONG_HEAD_BYTES - headLength);
    head?.set(take, headLength);
    headLength += take.length;
  };

  const emit = (bytes: Uint8Array) => {
    sink.line(bytes.length > 0 && bytes[bytes.length - 1] === CR ? bytes.subarray(0, bytes.length - 1) : bytes, lineNo);
  };

  const endLine = () => {
    if (head) sink.tooLong(lineNo, lineBytes, head.subarray(0, headLength));
    else emit(pieces.length === 1 ? pieces[0] : concat(pieces, lineBytes));
    pieces = [];
    lineBytes = 0;
    head = null;
    lineNo++;
  };

  for await (const chunk of chunks) {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(LF, start);
      const end = nl === -1 ? chunk.length : nl;
      const piece = chunk.subarray(start, end);
      if (head) {
        keepHead(piece);
        lineBytes += piece.length;
      } else if (lineBytes + piece.length > maxLineBytes) {
        head = new Uint8Array(TOO_LONG_HEAD_BYTES);
        headLength = 0;
        for (const p of pieces) keepHead(p);
        keepHead(piece);
        pieces = [];
        lineBytes += piece.length;
      } else if (nl !== -1 && pieces.length === 0) {
        // The common case: the whole line is in this chunk.
        emit(piece);
        lineNo++;
        start = nl + 1;
        continue;
      } else if (piece.length > 0) {
        pieces.push(piece);
        lineBytes += piece.length;
      }
      if (nl === -1) break;
      endLine();
      start = nl + 1;
    }
    bytesRead += chunk.length;
    afterChunk?.(bytesRead);
  }
  // The last line has no line break.
  if (lineBytes > 0 || head) endLine();
  return bytesRead;
}

function concat(pieces: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let offset = 0;
  for (const piece of pieces) {
    out.set(piece, offset);
    offset += piece.length;
  }
  return out;
}
