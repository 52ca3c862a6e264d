/**
 * safetensors: an 8-byte little-endian header length, a JSON header
 * `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {...}}`,
 * then the raw little-endian tensor bytes. Offsets are relative to the end of the header.
 *
 * Pickled checkpoints (`pytorch_model.bin`) are never read: unpickling can run arbitrary code.
 */

export type SafeDtype = 'F32' | 'F16' | 'BF16' | 'F64' | 'BOOL' | 'U8' | 'I8' | 'I16' | 'I32' | 'I64';

const DTYPE_BYTES: Record<SafeDtype, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, BOOL: 1, U8: 1, I8: 1, I16: 2, I32: 4, I64: 8 };
const FLOAT_DTYPES = new Set<SafeDtype>(['F32', 'F16', 'BF16', 'F64']);

export class SafetensorsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SafetensorsError';
  }
}

export interface HeaderEntry {
  name: string;
  dtype: SafeDtype;
  shape: number[];
  begin: number; // byte offset into the data section
  end: number;
}

export interface LoadedTensor {
  shape: number[];
  dtype: SafeDtype; // as stored; data is always float32
  data: Float32Array;
}

/** The Rust reader's own cap: a real header is kilobytes; a bigger claim is a damaged or hostile file. */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;

/**
 * The top-level keys of a JSON object's text, in order, duplicates kept. JSON.parse keeps the last
 * of two equal keys silently, so a header naming a tensor twice can only be caught in the text.
 * Called on text JSON.parse has accepted, so a scan for strings and nesting is enough.
 */
export function topLevelKeys(json: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  for (let i = 0; i < json.length; i++) {
    const ch = json[i];
    if (ch === '{' || ch === '[') depth++;
    else if (ch === '}' || ch === ']') depth--;
    else if (ch === '"') {
      const start = i;
      for (i++; json[i] !== '"'; i++) if (json[i] === '\\') i++;
      if (depth !== 1) continue;
      let j = i + 1;
      while (json[j] === ' ' || json[j] === '\t' || json[j] === '\n' || json[j] === '\r') j++;
      if (json[j] === ':') keys.push(JSON.parse(json.slice(start, i + 1)) as string); // decodes escapes: "\u0061" is "a"
    }
  }
  return keys;
}

function refuseDuplicateKeys(text: string): void {
  const seen = new Set<string>();
  for (const key of topLevelKeys(text)) {
    if (seen.has(key)) throw new SafetensorsError(`the header names tensor "${key}" twice: the file is damaged (JSON keeps only the last); re-download or re-export it`);
    seen.add(key);
  }
}

/** Parse and validate the header; every problem names the tensor concerned. */
export function readHeader(bytes: Uint8Array): { entries: HeaderEntry[]; metadata: Record<string, string>; dataStart: number } {
  if (bytes.byteLength < 8) throw new SafetensorsError(`file is ${bytes.byteLength} bytes, too short to be safetensors: is it a complete model.safetensors?`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Both length checks come before anything is decoded or allocated from the claimed length.
  const n = Number(view.getBigUint64(0, true));
  if (n > bytes.byteLength - 8) {
    throw new SafetensorsError(`header length ${n} runs past the end of the ${bytes.byteLength}-byte file: the file is truncated or not safetensors`);
  }
  if (n > MAX_HEADER_BYTES) {
    throw new SafetensorsError(`header length ${n} is over the ${MAX_HEADER_BYTES}-byte limit of safetensors: the file is damaged or not safetensors`);
  }
  let text: string;
  let header: unknown;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
    header = JSON.parse(text);
  } catch {
    throw new SafetensorsError('header is not valid JSON: the file is damaged or not safetensors');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new SafetensorsError('header must be a JSON object');
  refuseDuplicateKeys(text);
  const dataStart = 8 + n;
  const dataLen = bytes.byteLength - dataStart;
  const entries: HeaderEntry[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (raw !== null && (typeof raw !== 'object' || Array.isArray(raw))) throw new SafetensorsError('header "__metadata__" must be a JSON object of strings: the file is damaged');
      metadata = (raw ?? {}) as Record<string, string>;
      continue;
    }
    const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = e?.dtype as SafeDtype;
    if (typeof dtype !== 'string' || !(dtype in DTYPE_BYTES)) throw new SafetensorsError(`tensor "${name}" has unsupported dtype ${JSON.stringify(e?.dtype)}`);
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) throw new SafetensorsError(`tensor "${name}" has an invalid shape ${JSON.stringify(shape)}`);
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isInteger(d) && d >= 0) || off[0] > off[1]) {
      throw new SafetensorsError(`tensor "${name}" has invalid data_offsets ${JSON.stringify(off)}`);
    }
    const [begin, end] = off as [number, number];
    if (end > dataLen) throw new SafetensorsError(`tensor "${name}" ends at byte ${end} but the data section has ${dataLen} bytes: the file is truncated`);
    const expected = (shape as number[]).reduce((a, b) => a * b, 1) * DTYPE_BYTES[dtype];
    if (end - begin !== expected) {
      throw new SafetensorsError(`tensor "${name}" is ${dtype}[${shape}] = ${expected} bytes but its offsets span ${end - begin} bytes`);
    }
    entries.push({ name, dtype, shape: shape as number[], begin, end });
  }
  // Empty tensors (a 0 in the shape, offsets [n, n]) hold no bytes and so overlap nothing: the Rust
  // writer gives them the offset of the tensor after them. Sorted by start, two non-empty tensors
  // overlap if and only if some neighbouring pair does.
  const sorted = entries.filter((e) => e.end > e.begin).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].begin < sorted[i - 1].end) {
      throw new SafetensorsError(`tensors "${sorted[i - 1].name}" and "${sorted[i].name}" overlap in the file: it is damaged`);
    }
  }
  return { entries, metadata, dataStart };
}

let f16Table: Float32Array | null = null;
/** All 65,536 half-precision values as float32, built once: conversion becomes a table look-up. */
function halfTable(): Float32Array {
  if (f16Table) return f16Table;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const s = h & 0x8000 ? -1 : 1;
    const e = (h >> 10) & 0x1f;
    const m = h & 0x3ff;
    if (e === 0) t[h] = s * m * 2 ** -24;
    else if (e === 31) t[h] = m ? NaN : s * Infinity;
    else t[h] = s * (1 + m / 1024) * 2 ** (e - 15);
  }
  return (f16Table = t);
}

function decode(bytes: Uint8Array, dtype: SafeDtype, count: number): Float32Array {
  // Copy first: tensor data need not be aligned for typed-array views. (Not bytes.slice(): on a
  // Node Buffer that is a view, and copy.buffer would be the whole file.)
  const copy = new Uint8Array(bytes);
  switch (dtype) {
    case 'F32':
      return new Float32Array(copy.buffer, 0, count);
    case 'F64':
      return Float32Array.from(new Float64Array(copy.buffer, 0, count));
    case 'F16': {
      const h = new Uint16Array(copy.buffer, 0, count);
      const table = halfTable();
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = table[h[i]];
      return out;
    }
    case 'BF16': {
      const h = new Uint16Array(copy.buffer, 0, count);
      const out = new Uint32Array(count);
      for (let i = 0; i < count; i++) out[i] = h[i] << 16;
      return new Float32Array(out.buffer);
    }
    default:
      throw new SafetensorsError(`dtype ${dtype} cannot be read as float`);
  }
}

/** NaN and ±Inf counts of a tensor, in one pass that allocates nothing. */
export function countNonFinite(data: Float32Array): { nan: number; inf: number } {
  let nan = 0;
  let inf = 0;
  for (let i = 0; i < data.length; i++) {
    const x = data[i];
    if (x - x !== 0) {
      // x - x is 0 for every finite x, NaN for NaN and ±Inf.
      if (x !== x) nan++;
      else inf++;
    }
  }
  return { nan, inf };
}

/** A tensor holding values that are not finite: loaded (an F16 overflow is not fatal), but worth a warning. */
export interface NonFiniteTensor {
  name: string;
  nan: number;
  inf: number;
  count: number; // values in the tensor
}

/**
 * One warning for a file whose tensors hold NaN or ±Inf, naming the worst few; null if none do.
 * `file` names the file ("model.safetensors", a shard).
 */
export function nonFiniteWarning(file: string, list: NonFiniteTensor[]): string | null {
  if (list.length === 0) return null;
  const shown = 3;
  const worst = [...list].sort((a, b) => b.nan + b.inf - (a.nan + a.inf));
  const parts = worst.slice(0, shown).map((t) => {
    const what = [t.nan ? `${t.nan} NaN` : '', t.inf ? `${t.inf} infinite` : ''].filter(Boolean).join(' and ');
    return `"${t.name}" has ${what} of ${t.count} values`;
  });
  const more = list.length > shown ? `, and ${list.length - shown} more tensor${list.length - shown > 1 ? 's' : ''}` : '';
  return `${file}: ${parts.join('; ')}${more}. The model will produce NaN and garbage; re-download the file, or load the checkpoint it came from`;
}

/**
 * Every floating-point tensor as float32, one at a time: `visit` gets each as it is decoded, and
 * nothing keeps it after (a model loads with one tensor's float32 copy at a time beside the file,
 * not all of them). `skip(name)` drops tensors (e.g. the causal-mask and rotary buffers) without
 * decoding them; other non-float tensors are an error. Returns the tensors holding NaN or ±Inf.
 */
export function forEachTensor(
  input: ArrayBuffer | Uint8Array,
  visit: (name: string, shape: number[], dtype: SafeDtype, data: Float32Array) => void,
  skip: (name: string) => boolean = () => false,
): { metadata: Record<string, string>; nonFinite: NonFiniteTensor[] } {
  const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
  const { entries, metadata, dataStart } = readHeader(bytes);
  // Every dtype is checked before the first tensor is decoded: a refused file costs no decoding.
  const wanted = entries.filter((e) => !skip(e.name));
  const bad = wanted.find((e) => !FLOAT_DTYPES.has(e.dtype));
  if (bad) throw new SafetensorsError(`tensor "${bad.name}" is ${bad.dtype}; only F32, F16 and BF16 weights can be loaded`);
  const nonFinite: NonFiniteTensor[] = [];
  for (const e of wanted) {
    const count = e.shape.reduce((a, b) => a * b, 1);
    const data = decode(bytes.subarray(dataStart + e.begin, dataStart + e.end), e.dtype, count);
    const { nan, inf } = countNonFinite(data);
    if (nan + inf > 0) nonFinite.push({ name: e.name, nan, inf, count });
    visit(e.name, e.shape, e.dtype, data);
  }
  return { metadata, nonFinite };
}

/** Every floating-point tensor as float32, all at once (see forEachTensor). */
export function readSafetensors(
  input: ArrayBuffer | Uint8Array,
  skip: (name: string) => boolean = () => false,
): { tensors: Map<string, LoadedTensor>; metadata: Record<string, string>; nonFinite: NonFiniteTensor[] } {
  const tensors = new Map<string, LoadedTensor>();
  const { metadata, nonFinite } = forEachTensor(input, (name, shape, dtype, data) => tensors.set(name, { shape, dtype, data }), skip);
  return { tensors, metadata, nonFinite };
}

/** float32 → IEEE half, round to nearest even (as torch's .half()). */
export function f32ToF16(values: Float32Array): Uint16Array {
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    f[0] = values[i];
    const x = u[0];
    const sign = (x >>> 16) & 0x8000;
    const exp = (x >>> 23) & 0xff;
    let mant = x & 0x7fffff;
    if (exp === 0xff) {
      out[i] = sign | 0x7c00 | (mant ? 0x200 : 0);
      continue;
    }
    const e = exp - 127 + 15;
    if (e >= 31) {
      out[i] = sign | 0x7c00; // overflow → inf
      continue;
    }
    if (e <= 0) {
      // subnormal half (or zero)
      if (e < -10) {
        out[i] = sign;
        continue;
      }
      mant |= 0x800000;
      const shift = 14 - e;
      let h = mant >>> shift;
      const rem = mant & ((1 << shift) - 1);
      const half = 1 << (shift - 1);
      if (rem > half || (rem === half && h & 1)) h++;
      out[i] = sign | h;
      continue;
    }
    let h = (e << 10) | (mant >>> 13);
    const rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++; // a carry into the exponent is still correct
    out[i] = sign | h;
  }
  return out;
}

export interface TensorToWrite {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** Serialise float32 tensors as F32 or F16 safetensors (header padded to 8 bytes, as the Rust writer does). */
export function writeSafetensors(tensors: TensorToWrite[], opts: { dtype?: 'F32' | 'F16'; metadata?: Record<string, string> } = {}): Uint8Array {
  const dtype = opts.dtype ?? 'F32';
  const size = DTYPE_BYTES[dtype];
  const header: Record<string, unknown> = {};
  if (opts.metadata) header.__metadata__ = opts.metadata;
  let offset = 0;
  for (const t of tensors) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) throw new SafetensorsError(`tensor "${t.name}" has ${t.data.length} values but shape [${t.shape}]`);
    header[t.name] = { dtype, shape: t.shape, data_offsets: [offset, offset + count * size] };
    offset += count * size;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerBytes = new Uint8Array(json.length + ((8 - (json.length % 8)) % 8)).fill(0x20); // pad with spaces
  headerBytes.set(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const t of tensors) {
    const raw = dtype === 'F32' ? new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength) : new Uint8Array(f32ToF16(t.data).buffer);
    out.set(raw, pos);
    pos += raw.byteLength;
  }
  return out;
}
