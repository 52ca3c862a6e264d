/**
 * The GGUF container (version 3, little endian), as llama.cpp's gguf-py GGUFWriter lays it out:
 * header and metadata, then one info record per tensor (name, dims with the fastest-varying
 * first, type, offset), padding to `general.alignment` (32), then the tensor data, each tensor
 * starting on a 32-byte boundary.
 *
 * The metadata key/value block is encoded by @huggingface/gguf's serializeGgufMetadata (the only
 * importer of that package). It pads what it writes to the alignment, which is right only when
 * nothing follows but tensor data; here the tensor infos follow, so it is asked for alignment 1
 * (no padding) and the infos and padding are written below.
 *
 * Tensor types: F32, F16 (round to nearest even) and Q8_0 (blocks of 32: a float16 scale
 * amax/127 and 32 int8, as gguf-py's quants.py quantizes).
 */
import { GGMLQuantizationType, GGUFValueType, serializeGgufMetadata, type GGUFTypedMetadata, type MetadataValue } from '@huggingface/gguf';
import { f32ToF16 } from '../model/safetensors';

export const GGUF_ALIGNMENT = 32;
export const Q8_0_BLOCK = 32;
/** Bytes of one Q8_0 block: a float16 scale and 32 int8 values. */
const Q8_0_BLOCK_BYTES = 2 + Q8_0_BLOCK;

export type GgufTensorType = 'F32' | 'F16' | 'Q8_0';

const GGML_TYPE: Record<GgufTensorType, GGMLQuantizationType> = {
  F32: GGMLQuantizationType.F32,
  F16: GGMLQuantizationType.F16,
  Q8_0: GGMLQuantizationType.Q8_0,
};

/** A metadata value with its GGUF type; arrays name their element type. */
export type GgufValue =
  | { type: 'string'; value: string }
  | { type: 'u32'; value: number }
  | { type: 'i32'; value: number }
  | { type: 'f32'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'string[]'; value: string[] }
  | { type: 'i32[]'; value: number[] }
  | { type: 'f32[]'; value: number[] };

export const str = (value: string): GgufValue => ({ type: 'string', value });
export const u32 = (value: number): GgufValue => ({ type: 'u32', value });
export const f32 = (value: number): GgufValue => ({ type: 'f32', value });
export const bool = (value: boolean): GgufValue => ({ type: 'bool', value });

const SCALAR: Record<string, GGUFValueType> = {
  string: GGUFValueType.STRING,
  u32: GGUFValueType.UINT32,
  i32: GGUFValueType.INT32,
  f32: GGUFValueType.FLOAT32,
  bool: GGUFValueType.BOOL,
};

/** A tensor to write: its GGUF name, its shape as torch gives it (slowest-varying first), row-major data. */
export interface GgufTensor {
  name: string;
  shape: number[];
  data: Float32Array;
  type: GgufTensorType;
}

/** Bytes a tensor of `count` values takes as `type`. */
export function tensorBytes(type: GgufTensorType, count: number): number {
  if (type === 'F32') return count * 4;
  if (type === 'F16') return count * 2;
  return (count / Q8_0_BLOCK) * Q8_0_BLOCK_BYTES;
}

/** Rounds half away from zero, as gguf-py's np_roundf (not JavaScript's Math.round, which rounds -2.5 to -2). */
const roundAway = (x: number): number => Math.sign(x) * Math.floor(Math.abs(x) + 0.5);

/**
 * Q8_0 as gguf-py's quants.py: per block of 32, d = max|x| / 127 (float32), q = roundf(x · (1/d))
 * (0 where d is 0), stored as d in float16 then the 32 int8. The row length must be a multiple of 32.
 */
export function quantizeQ8_0(values: Float32Array): Uint8Array {
  if (values.length % Q8_0_BLOCK !== 0) throw new Error(`Q8_0 needs a multiple of ${Q8_0_BLOCK} values, got ${values.length}`);
  const blocks = values.length / Q8_0_BLOCK;
  const out = new Uint8Array(blocks * Q8_0_BLOCK_BYTES);
  const view = new DataView(out.buffer);
  const d32 = new Float32Array(1);
  for (let b = 0; b < blocks; b++) {
    const at = b * Q8_0_BLOCK;
    let amax = 0;
    for (let i = 0; i < Q8_0_BLOCK; i++) amax = Math.max(amax, Math.abs(values[at + i]));
    d32[0] = amax / 127;
    const d = d32[0];
    d32[0] = d === 0 ? 0 : 1 / d;
    const id = d32[0];
    view.setUint16(b * Q8_0_BLOCK_BYTES, f32ToF16(new Float32Array([d]))[0], true);
    for (let i = 0; i < Q8_0_BLOCK; i++) {
      d32[0] = values[at + i] * id; // float32 product, as numpy's
      view.setInt8(b * Q8_0_BLOCK_BYTES + 2 + i, roundAway(d32[0]));
    }
  }
  return out;
}

function encodeTensor(t: GgufTensor): Uint8Array {
  if (t.type === 'F32') return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  if (t.type === 'F16') {
    const h = f32ToF16(t.data);
    return new Uint8Array(h.buffer, h.byteOffset, h.byteLength);
  }
  return quantizeQ8_0(t.data);
}

function typedMetadata(metadata: Record<string, GgufValue>, tensorCount: number): GGUFTypedMetadata {
  const out: Record<string, { value: MetadataValue; type: GGUFValueType; subType?: GGUFValueType }> = {};
  for (const [key, v] of Object.entries(metadata)) {
    if (v.type.endsWith('[]')) out[key] = { value: v.value as MetadataValue, type: GGUFValueType.ARRAY, subType: SCALAR[v.type.slice(0, -2)] };
    else out[key] = { value: v.value, type: SCALAR[v.type] };
  }
  return {
    version: { value: 3, type: GGUFValueType.UINT32 },
    tensor_count: { value: BigInt(tensorCount), type: GGUFValueType.UINT64 },
    kv_count: { value: BigInt(Object.keys(metadata).length), type: GGUFValueType.UINT64 },
    ...out,
  } as GGUFTypedMetadata;
}

const pad = (n: number) => (GGUF_ALIGNMENT - (n % GGUF_ALIGNMENT)) % GGUF_ALIGNMENT;

/**
 * The whole file. Tensors are written in the order given (llama.cpp looks them up by name).
 * Each tensor is encoded while the file is assembled, so a float32 copy of the model and the
 * file are the peak memory, not one encoded copy per tensor besides.
 */
export function writeGguf(metadata: Record<string, GgufValue>, tensors: GgufTensor[]): Uint8Array {
  const seen = new Set<string>();
  for (const t of tensors) {
    if (seen.has(t.name)) throw new Error(`GGUF: tensor "${t.name}" is written twice`);
    seen.add(t.name);
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) throw new Error(`GGUF: tensor "${t.name}" has shape [${t.shape}] but ${t.data.length} values`);
    if (t.type === 'Q8_0' && t.shape[t.shape.length - 1] % Q8_0_BLOCK !== 0) throw new Error(`GGUF: tensor "${t.name}" has rows of ${t.shape[t.shape.length - 1]} values, not a multiple of ${Q8_0_BLOCK}, so it cannot be Q8_0`);
    if (new TextEncoder().encode(t.name).length > 63) throw new Error(`GGUF: tensor name "${t.name}" is longer than llama.cpp's 63 bytes`);
  }
  const head = serializeGgufMetadata(typedMetadata(metadata, tensors.length), { alignment: 1 });
  // Tensor infos: name (u64 length + UTF-8), n_dims (u32), dims fastest first (u64 each), type (u32), offset (u64).
  const names = tensors.map((t) => new TextEncoder().encode(t.name));
  const infoBytes = tensors.reduce((n, t, i) => n + 8 + names[i].length + 4 + 8 * t.shape.length + 4 + 8, 0);
  const offsets: number[] = [];
  let dataBytes = 0;
  for (const t of tensors) {
    offsets.push(dataBytes);
    const n = tensorBytes(t.type, t.data.length);
    dataBytes += n + pad(n);
  }
  const dataStart = head.length + infoBytes + pad(head.length + infoBytes);
  const out = new Uint8Array(dataStart + dataBytes);
  out.set(head, 0);
  const view = new DataView(out.buffer);
  let at = head.length;
  tensors.forEach((t, i) => {
    view.setBigUint64(at, BigInt(names[i].length), true);
    out.set(names[i], at + 8);
    at += 8 + names[i].length;
    view.setUint32(at, t.shape.length, true);
    at += 4;
    for (const d of [...t.shape].reverse()) {
      view.setBigUint64(at, BigInt(d), true);
      at += 8;
    }
    view.setUint32(at, GGML_TYPE[t.type], true);
    view.setBigUint64(at + 4, BigInt(offsets[i]), true);
    at += 12;
  });
  tensors.forEach((t, i) => out.set(encodeTensor(t), dataStart + offsets[i]));
  return out;
}
