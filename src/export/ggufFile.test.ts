/**
 * The GGUF container against independent readers and llama.cpp's own quantizer: Q8_0 blocks equal
 * gguf-py's (quants.py) bytes for its reference vectors; a written file parses with
 * @huggingface/gguf's reader, every key, type, shape, offset and byte where llama.cpp reads it.
 */
import { gguf, GGMLQuantizationType } from '@huggingface/gguf';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { f32, quantizeQ8_0, str, u32, writeGguf, type GgufTensor } from './ggufFile';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('Q8_0', () => {
  it('gives gguf-py\'s bytes for its reference blocks (round half away from zero, float16 scale)', () => {
    // quants.py's Q8_0.quantize_blocks on (arange(64) - 31.5) / 7, as float32 rows of 32.
    const ramp = Float32Array.from({ length: 64 }, (_, i) => Math.fround(Math.fround(i - 31.5) / 7));
    expect(hex(quantizeQ8_0(ramp))).toBe(
      '89288185898d9195999da1a5a9adb1b5b9bdc2c6caced2d6dadee2e6eaeef2f6fafe892802060a0e12161a1e22262a2e32363a3e43474b4f53575b5f63676b6f73777b7f',
    );
    const halves = new Float32Array(32);
    halves.set([127, 2.5, -2.5, 0.5, -0.5, 1.4999999]);
    expect(hex(quantizeQ8_0(halves))).toBe(`003c7f03fd01ff01${'00'.repeat(26)}`);
    expect(hex(quantizeQ8_0(new Float32Array(32)))).toBe('00'.repeat(34));
  });

  it('refuses values that are not whole blocks', () => {
    expect(() => quantizeQ8_0(new Float32Array(48))).toThrow(/multiple of 32/);
  });
});

describe('writeGguf', () => {
  const tensors: GgufTensor[] = [
    { name: 'a.weight', shape: [3, 32], data: Float32Array.from({ length: 96 }, (_, i) => i / 10), type: 'F32' },
    { name: 'b.weight', shape: [2, 64], data: Float32Array.from({ length: 128 }, (_, i) => Math.sin(i)), type: 'Q8_0' },
    { name: 'c.bias', shape: [5], data: Float32Array.from([1, -2, 3.5, 0.25, 65504]), type: 'F16' },
  ];
  const metadata = { 'general.architecture': str('llama'), 'llama.block_count': u32(2), 'llama.rope.freq_base': f32(10000), 'tokenizer.ggml.tokens': { type: 'string[]' as const, value: ['a', 'Ġb', '[PAD2]'] }, 'tokenizer.ggml.token_type': { type: 'i32[]' as const, value: [1, 1, 5] } };

  it('reads back with @huggingface/gguf: metadata, dims fastest first, types, aligned offsets, and the bytes', async () => {
    const bytes = writeGguf(metadata, tensors);
    const dir = mkdtempSync(path.join(tmpdir(), 'gguf-'));
    const file = path.join(dir, 'x.gguf');
    writeFileSync(file, bytes);
    try {
      const parsed = await gguf(file, { allowLocalFile: true });
      expect(parsed.metadata).toMatchObject({ version: 3, tensor_count: 3n, kv_count: 5n, 'general.architecture': 'llama', 'llama.block_count': 2, 'llama.rope.freq_base': 10000, 'tokenizer.ggml.tokens': ['a', 'Ġb', '[PAD2]'], 'tokenizer.ggml.token_type': [1, 1, 5] });
      expect(parsed.tensorInfos.map((t) => [t.name, t.shape.map(Number), t.dtype, Number(t.offset)])).toEqual([
        ['a.weight', [32, 3], GGMLQuantizationType.F32, 0],
        ['b.weight', [64, 2], GGMLQuantizationType.Q8_0, 384],
        ['c.bias', [5], GGMLQuantizationType.F16, 384 + 160], // 4 blocks × 34 = 136 bytes, padded to 160
      ]);
      const start = parsed.tensorDataOffset;
      expect(Number(start) % 32).toBe(0);
      const at = (offset: number, n: number) => bytes.subarray(Number(start) + offset, Number(start) + offset + n);
      expect(new Float32Array(at(0, 384).slice().buffer)).toEqual(tensors[0].data);
      expect(hex(at(384, 136))).toBe(hex(quantizeQ8_0(tensors[1].data)));
      expect(hex(at(544, 10))).toBe('003c00c000430034ff7b'); // 1, -2, 3.5, 0.25, 65504 as float16
      expect(bytes.length).toBe(Number(start) + 576);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses what llama.cpp would reject: a name twice, a shape that is not the data, Q8_0 rows that are not whole blocks, long names', () => {
    const t = tensors[0];
    expect(() => writeGguf(metadata, [t, t])).toThrow('tensor "a.weight" is written twice');
    expect(() => writeGguf(metadata, [{ ...t, shape: [4, 32] }])).toThrow('has shape [4,32] but 96 values');
    expect(() => writeGguf(metadata, [{ ...t, shape: [2, 48], type: 'Q8_0' }])).toThrow('rows of 48 values, not a multiple of 32');
    expect(() => writeGguf(metadata, [{ ...t, name: 'x'.repeat(64) }])).toThrow(/longer than llama\.cpp's 63 bytes/);
  });
});
