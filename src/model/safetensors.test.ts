import { describe, expect, it } from 'vitest';
import { loadFixture } from '../testing/fixtures';
import { isSkippedBuffer, paramSpecs } from './params';
import { parseConfig } from './config';
import { countNonFinite, f32ToF16, MAX_HEADER_BYTES, nonFiniteWarning, readHeader, readSafetensors, SafetensorsError, topLevelKeys, writeSafetensors } from './safetensors';

/** A safetensors file from a header object and a data section, built by hand (no padding unless asked). */
function file(header: Record<string, unknown>, data: Uint8Array | number[] = [], pad = false): Uint8Array {
  let json = new TextEncoder().encode(JSON.stringify(header));
  if (pad && json.length % 8) json = new TextEncoder().encode(JSON.stringify(header) + ' '.repeat(8 - (json.length % 8)));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

/** Little-endian bytes of 16-bit words. */
const words = (ws: number[]): number[] => ws.flatMap((w) => [w & 0xff, w >> 8]);

/**
 * Reference float → nearest IEEE half, computed in float64 arithmetic (not bit twiddling):
 * the value's binade fixes the spacing of halves, round half to even on the multiple of that spacing.
 */
function refHalfRound(x: number): number {
  if (Number.isNaN(x) || x === 0 || !Number.isFinite(x)) return x;
  const a = Math.abs(x);
  let e = Math.floor(Math.log2(a));
  while (2 ** e > a) e--;
  while (2 ** (e + 1) <= a) e++;
  const ulp = 2 ** (Math.max(e, -14) - 10); // subnormals share the spacing of the smallest binade
  const q = a / ulp; // exact: a is a float32, ulp a power of two
  let r = Math.floor(q);
  const frac = q - r;
  if (frac > 0.5 || (frac === 0.5 && r % 2 === 1)) r++;
  const v = r * ulp;
  return Math.sign(x) * (v > 65504 ? Infinity : v);
}

describe('F16 encoding (f32ToF16, round to nearest even)', () => {
  const cases: [string, number, number][] = [
    ['one', 1, 0x3c00],
    ['minus two', -2, 0xc000],
    ['0.1 (rounded down)', 0.1, 0x2e66],
    ['1/3', 1 / 3, 0x3555],
    ['largest half', 65504, 0x7bff],
    ['just below the overflow tie', 65519, 0x7bff],
    ['the tie above 65504 rounds to even: inf', 65520, 0x7c00],
    ['overflow', 1e5, 0x7c00],
    ['negative overflow', -1e9, 0xfc00],
    ['+inf', Infinity, 0x7c00],
    ['-inf', -Infinity, 0xfc00],
    ['-0 keeps its sign', -0, 0x8000],
    ['+0', 0, 0x0000],
    ['smallest normal', 2 ** -14, 0x0400],
    ['smallest subnormal', 2 ** -24, 0x0001],
    ['largest subnormal', 1023 * 2 ** -24, 0x03ff],
    ['subnormal that rounds up into the normals (tie, even)', 2 ** -14 - 2 ** -25, 0x0400],
    ['half the smallest subnormal: tie to even gives 0', 2 ** -25, 0x0000],
    ['just above half the smallest subnormal', 2 ** -25 * (1 + 2 ** -10), 0x0001],
    ['1.5 × smallest subnormal: tie to even gives 2', 3 * 2 ** -25, 0x0002],
    ['underflow to -0', -(2 ** -26), 0x8000],
    ['tie 1 + 2^-11 rounds down to even', 1 + 2 ** -11, 0x3c00],
    ['tie 1 + 3·2^-11 rounds up to even', 1 + 3 * 2 ** -11, 0x3c02],
    ['just above a tie rounds up', 1 + 2 ** -11 + 2 ** -20, 0x3c01],
    ['mantissa carry into the exponent', 2 - 2 ** -12, 0x4000],
  ];
  it.each(cases)('%s', (_label, value, bits) => {
    expect(f32ToF16(Float32Array.of(value))[0].toString(16)).toBe(bits.toString(16));
  });

  it('NaN stays NaN', () => {
    const h = f32ToF16(Float32Array.of(NaN))[0];
    expect(h & 0x7c00).toBe(0x7c00);
    expect(h & 0x3ff).not.toBe(0);
  });
});

describe('write → read round trip', () => {
  // Values over the whole half range, including subnormals, ties and values that overflow.
  const values = (() => {
    const v: number[] = [0, -0, 1, -1, 65504, 65519, 65520, 70000, -70000, 2 ** -24, 2 ** -25, 3 * 2 ** -25, 1 + 2 ** -11, 1 + 3 * 2 ** -11];
    let s = 12345;
    for (let i = 0; i < 2000; i++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      const mant = s / 2 ** 32 + 0.5;
      const exp = (i % 46) - 28; // 2^-28 … 2^17: underflow, subnormal, normal, overflow
      v.push((i % 2 ? -1 : 1) * mant * 2 ** exp);
    }
    return Float32Array.from(v);
  })();

  it('F32 is bit exact, with shapes, names and metadata', () => {
    const bytes = writeSafetensors(
      [
        { name: 'a', shape: [values.length], data: values },
        { name: 'b.weight', shape: [2, 3], data: Float32Array.of(1, 2, 3, 4, 5, 6) },
        { name: 'scalar', shape: [], data: Float32Array.of(-1e9) },
      ],
      { metadata: { format: 'pt' } },
    );
    const { tensors, metadata } = readSafetensors(bytes);
    expect(metadata).toEqual({ format: 'pt' });
    expect([...tensors.keys()]).toEqual(['a', 'b.weight', 'scalar']);
    expect(tensors.get('a')!.dtype).toBe('F32');
    expect(tensors.get('a')!.data).toEqual(values);
    expect(tensors.get('b.weight')!.shape).toEqual([2, 3]);
    expect([...tensors.get('b.weight')!.data]).toEqual([1, 2, 3, 4, 5, 6]);
    expect(tensors.get('scalar')!.shape).toEqual([]);
    expect([...tensors.get('scalar')!.data]).toEqual([-1e9]);
    // The header is padded to a multiple of 8, so F32 data starts aligned.
    expect(Number(new DataView(bytes.buffer).getBigUint64(0, true)) % 8).toBe(0);
  });

  it('F16 reads back the half-rounded originals (float64 reference rounding)', () => {
    const { tensors } = readSafetensors(writeSafetensors([{ name: 'a', shape: [values.length], data: values }], { dtype: 'F16' }));
    const back = tensors.get('a')!;
    expect(back.dtype).toBe('F16');
    let mismatches = 0;
    for (let i = 0; i < values.length; i++) {
      const ref = refHalfRound(values[i]);
      if (!Object.is(back.data[i], Math.fround(ref))) mismatches++;
    }
    expect(mismatches).toBe(0);
    // The sample covers what matters: subnormals, underflow to 0 and overflow to inf.
    expect(back.data.some((x) => x !== 0 && Math.abs(x) < 2 ** -14)).toBe(true);
    expect(back.data.some((x, i) => x === 0 && values[i] !== 0)).toBe(true);
    expect(back.data.some((x) => !Number.isFinite(x))).toBe(true);
  });

  it('a value written as F16 and read back is unchanged by a second round trip', () => {
    const once = readSafetensors(writeSafetensors([{ name: 'a', shape: [values.length], data: values }], { dtype: 'F16' })).tensors.get('a')!.data;
    const twice = readSafetensors(writeSafetensors([{ name: 'a', shape: [once.length], data: once }], { dtype: 'F16' })).tensors.get('a')!.data;
    expect(twice).toEqual(once);
  });

  it('refuses to write data that does not match its shape, naming the tensor', () => {
    expect(() => writeSafetensors([{ name: 'w', shape: [2, 2], data: new Float32Array(3) }])).toThrow(/"w".*3 values.*\[2,2\]/);
  });
});

describe('decoding hand-made bytes', () => {
  it('F16 words decode to their IEEE values', () => {
    const ws = [0x3c00, 0xc000, 0x0001, 0x03ff, 0x0400, 0x7bff, 0x7c00, 0xfc00, 0x8000, 0x3555, 0x7e00];
    const { tensors } = readSafetensors(file({ h: { dtype: 'F16', shape: [ws.length], data_offsets: [0, 2 * ws.length] } }, words(ws)));
    const d = [...tensors.get('h')!.data];
    expect(d.slice(0, 10)).toEqual([1, -2, 2 ** -24, 1023 * 2 ** -24, 2 ** -14, 65504, Infinity, -Infinity, -0, Math.fround(0x155 / 1024 * 0.25 + 0.25)]);
    expect(Object.is(d[8], -0)).toBe(true);
    expect(d[10]).toBeNaN();
  });

  it('BF16 words are the upper halves of float32 bits', () => {
    // 0x3F80 → 1, 0xC040 → -3, 0x3E20 → 0.15625, 0x4049 → 3.140625, 0x0001 → 2^-133 (subnormal),
    // 0x7F7F → largest finite bf16, 0x7F80 → inf, 0xFF80 → -inf, 0x8000 → -0, 0x7FC0 → NaN.
    const ws = [0x3f80, 0xc040, 0x3e20, 0x4049, 0x0001, 0x7f7f, 0x7f80, 0xff80, 0x8000, 0x7fc0];
    const { tensors } = readSafetensors(file({ b: { dtype: 'BF16', shape: [2, 5], data_offsets: [0, 20] } }, words(ws)));
    const t = tensors.get('b')!;
    expect(t.shape).toEqual([2, 5]);
    expect(t.dtype).toBe('BF16');
    const d = [...t.data];
    expect(d.slice(0, 9)).toEqual([1, -3, 0.15625, 3.140625, 2 ** -133, (2 - 2 ** -7) * 2 ** 127, Infinity, -Infinity, -0]);
    expect(Object.is(d[8], -0)).toBe(true);
    expect(d[9]).toBeNaN();
  });

  it('F64 is narrowed to float32', () => {
    const data = new Uint8Array(new Float64Array([0.1, -2.5]).buffer);
    const { tensors } = readSafetensors(file({ x: { dtype: 'F64', shape: [2], data_offsets: [0, 16] } }, data));
    expect([...tensors.get('x')!.data]).toEqual([Math.fround(0.1), -2.5]);
  });

  it('reads tensors at unaligned offsets, in data order different from header order', () => {
    // Header length 61+ is not a multiple of 4, and "b" starts 2 bytes into the data: no typed-array alignment.
    const f32 = new Uint8Array(Float32Array.of(1.5, -7).buffer);
    const data = [...words([0x3c00]), ...f32]; // "b" (F16) first, then "a" (F32)
    const bytes = file({ a: { dtype: 'F32', shape: [2], data_offsets: [2, 10] }, b: { dtype: 'F16', shape: [1], data_offsets: [0, 2] } }, data);
    const { tensors } = readSafetensors(bytes);
    expect([...tensors.get('a')!.data]).toEqual([1.5, -7]);
    expect([...tensors.get('b')!.data]).toEqual([1]);
  });

  it('reads a Node Buffer, as fs.readFileSync returns (Buffer.slice is a view, not a copy)', () => {
    const values = Float32Array.of(0.5, -3, 1e-3, 7);
    const written = writeSafetensors([
      { name: 'f32', shape: [4], data: values },
      { name: 'second', shape: [2, 2], data: values },
    ]);
    const pooled = Buffer.from(written); // small Buffers share a pool: byteOffset ≠ 0
    const { tensors } = readSafetensors(pooled);
    expect(tensors.get('f32')!.data).toEqual(values);
    expect(tensors.get('second')!.data).toEqual(values);
    const half = readSafetensors(Buffer.from(writeSafetensors([{ name: 'h', shape: [4], data: values }], { dtype: 'F16' }))).tensors.get('h')!.data;
    expect([...half]).toEqual([0.5, -3, Math.fround(refHalfRound(1e-3)), 7]);
  });

  it('reads from a Uint8Array that is a view into a larger buffer', () => {
    const inner = file({ x: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(Float32Array.of(42).buffer));
    const outer = new Uint8Array(inner.length + 13);
    outer.set(inner, 5);
    expect([...readSafetensors(outer.subarray(5, 5 + inner.length)).tensors.get('x')!.data]).toEqual([42]);
  });
});

describe('the fixtures written by the Python reference', () => {
  /** The data section of a safetensors file. */
  const dataSection = (bytes: Uint8Array): Uint8Array => bytes.subarray(readHeader(bytes).dataStart);

  it.each(['parallel-rot025-f32', 'parallel-rot025-f16'])('%s: decoding then re-encoding reproduces the data bytes exactly', (name) => {
    const f = loadFixture(name);
    const { tensors } = readSafetensors(f.weights);
    const sorted = [...tensors.keys()].sort(); // the fixtures store data in sorted-name order
    const dtype = name.endsWith('f16') ? 'F16' : 'F32';
    expect(new Set([...tensors.values()].map((t) => t.dtype))).toEqual(new Set([dtype]));
    const again = writeSafetensors(
      sorted.map((n) => ({ name: n, shape: tensors.get(n)!.shape, data: tensors.get(n)!.data })),
      { dtype },
    );
    expect(Buffer.from(dataSection(again)).equals(Buffer.from(dataSection(f.weights)))).toBe(true);
  });

  it('sequential-rot050-bf16: every BF16 word decodes to a float32 whose low 16 bits are zero and whose high 16 bits are the word', () => {
    const f = loadFixture('sequential-rot050-bf16');
    const { entries, dataStart } = readHeader(f.weights);
    const { tensors } = readSafetensors(f.weights);
    const e = entries.find((x) => x.name === 'gpt_neox.layers.1.attention.query_key_value.weight')!;
    expect(e.dtype).toBe('BF16');
    const raw = f.weights.slice(dataStart + e.begin, dataStart + e.end);
    const stored = new Uint16Array(raw.buffer);
    const decoded = new Uint32Array(Float32Array.from(tensors.get(e.name)!.data).buffer);
    expect(decoded.length).toBe(192 * 64);
    for (let i = 0; i < stored.length; i++) {
      if (decoded[i] !== stored[i] * 65536) throw new Error(`element ${i}: ${decoded[i].toString(16)} vs word ${stored[i].toString(16)}`);
    }
  });

  describe('hub-style-f16 (buffers, metadata, data order unlike header order)', () => {
    const f = loadFixture('hub-style-f16');
    const config = parseConfig(f.configJson);

    it('with isSkippedBuffer, yields exactly the parameters of the config, and the metadata', () => {
      const { tensors, metadata } = readSafetensors(f.weights, (n) => isSkippedBuffer(config, n));
      expect(metadata).toEqual({ format: 'pt' });
      expect([...tensors.keys()].sort()).toEqual(paramSpecs(config).map((s) => s.name).sort());
      for (const s of paramSpecs(config)) expect(tensors.get(s.name)!.shape, s.name).toEqual(s.shape);
    });

    it('without skipping, the BOOL causal-mask buffer is an error naming it', () => {
      expect(() => readSafetensors(f.weights)).toThrow(SafetensorsError);
      expect(() => readSafetensors(f.weights)).toThrow(/"gpt_neox\.layers\.0\.attention\.bias" is BOOL/);
    });

    it('reads the F32 buffers by their data_offsets: masked_bias -1e9, inv_freq [1, 0.01]', () => {
      const { tensors } = readSafetensors(f.weights, (n) => n.endsWith('attention.bias'));
      for (const i of [0, 1]) {
        expect([...tensors.get(`gpt_neox.layers.${i}.attention.masked_bias`)!.data]).toEqual([-1e9]);
        // 1 / 10000^(arange(0, 4, 2) / 4), in float32 as HF computes it
        expect([...tensors.get(`gpt_neox.layers.${i}.attention.rotary_emb.inv_freq`)!.data]).toEqual([1, Math.fround(0.01)]);
      }
    });

    it('the BOOL mask entry points at a lower-triangular 64×64 block', () => {
      const { entries, dataStart } = readHeader(f.weights);
      const e = entries.find((x) => x.name === 'gpt_neox.layers.1.attention.bias')!;
      expect(e).toMatchObject({ dtype: 'BOOL', shape: [1, 1, 64, 64] });
      const m = f.weights.subarray(dataStart + e.begin, dataStart + e.end);
      let wrong = 0;
      for (let r = 0; r < 64; r++) for (let c = 0; c < 64; c++) if (m[r * 64 + c] !== (c <= r ? 1 : 0)) wrong++;
      expect(wrong).toBe(0);
    });
  });
});

describe('damaged or foreign files fail with a message naming the problem', () => {
  const one = { dtype: 'F32', shape: [2], data_offsets: [0, 8] };
  const eight = new Uint8Array(8);

  it('file shorter than 8 bytes', () => {
    expect(() => readSafetensors(new Uint8Array(5))).toThrow(/5 bytes, too short/);
  });

  it('header length past the end of the file', () => {
    const bytes = file({ w: one }, eight);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(bytes.length), true);
    expect(() => readSafetensors(bytes)).toThrow(/header length \d+ runs past the end/);
  });

  it('header that is not JSON', () => {
    const bytes = file({ w: one }, eight);
    bytes[8] = 0x7b + 1; // '{' → '|'
    expect(() => readSafetensors(bytes)).toThrow(/not valid JSON/);
  });

  it('header that is JSON but not an object', () => {
    expect(() => readSafetensors(file([1, 2] as unknown as Record<string, unknown>))).toThrow(/must be a JSON object/);
  });

  it('unsupported dtype', () => {
    expect(() => readSafetensors(file({ 'layer.w': { ...one, dtype: 'F8_E4M3' } }, eight))).toThrow(/"layer\.w" has unsupported dtype "F8_E4M3"/);
  });

  it('shape and offsets that disagree on the byte count', () => {
    expect(() => readSafetensors(file({ 'layer.w': { ...one, shape: [3] } }, new Uint8Array(12)))).toThrow(/"layer\.w" is F32\[3\] = 12 bytes but its offsets span 8/);
  });

  it('offsets past the end of the data (a truncated file)', () => {
    const whole = writeSafetensors([
      { name: 'first', shape: [4], data: new Float32Array(4) },
      { name: 'last', shape: [4], data: new Float32Array(4) },
    ]);
    expect(() => readSafetensors(whole.subarray(0, whole.length - 3))).toThrow(/"last" ends at byte 32 but the data section has 29 bytes/);
  });

  it('invalid data_offsets', () => {
    expect(() => readSafetensors(file({ w: { ...one, data_offsets: [8, 0] } }, eight))).toThrow(/"w" has invalid data_offsets/);
  });

  it('overlapping tensors, naming both', () => {
    const bytes = file({ p: { ...one, data_offsets: [0, 8] }, q: { ...one, data_offsets: [4, 12] } }, new Uint8Array(12));
    expect(() => readSafetensors(bytes)).toThrow(/"p" and "q" overlap/);
  });

  it('a non-float tensor that is not skipped', () => {
    const bytes = file({ 'tok.ids': { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, eight);
    expect(() => readSafetensors(bytes)).toThrow(/"tok\.ids" is I64; only F32, F16 and BF16/);
    expect(readSafetensors(bytes, (n) => n === 'tok.ids').tensors.size).toBe(0);
  });
});

describe('hostile or odd headers', () => {
  const one = { dtype: 'F32', shape: [2], data_offsets: [0, 8] };
  const eight = new Uint8Array(8);
  /** A file from header text written by hand (JSON.stringify cannot repeat a key). */
  const fromText = (json: string, data: Uint8Array): Uint8Array => {
    const text = new TextEncoder().encode(json);
    const out = new Uint8Array(8 + text.length + data.length);
    new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
    out.set(text, 8);
    out.set(data, 8 + text.length);
    return out;
  };

  it('a tensor named twice in the header is refused, naming it (JSON.parse would keep the last silently)', () => {
    const entry = JSON.stringify(one);
    const bytes = fromText(`{"a.weight": ${entry}, "b": ${entry}, "a.weight" : ${entry}}`, eight);
    expect(() => readSafetensors(bytes)).toThrow(SafetensorsError);
    expect(() => readSafetensors(bytes)).toThrow(/names tensor "a\.weight" twice/);
  });

  it('a duplicate spelled with a JSON escape is still a duplicate', () => {
    const entry = JSON.stringify(one);
    expect(() => readSafetensors(fromText(`{"ab": ${entry}, "\\u0061b": ${entry}}`, eight))).toThrow(/names tensor "ab" twice/);
  });

  it('the same key inside different tensors (dtype, shape) or in __metadata__ is not a duplicate', () => {
    const bytes = fromText(`{"__metadata__": {"a": "x", "b": "{\\"a\\": 1}"}, "a": ${JSON.stringify(one)}, "b": ${JSON.stringify({ ...one, data_offsets: [8, 16] })}}`, new Uint8Array(16));
    expect([...readSafetensors(bytes).tensors.keys()]).toEqual(['a', 'b']);
  });

  it('topLevelKeys reads keys only at the top level, past strings holding braces, quotes and colons', () => {
    expect(topLevelKeys('{"x": {"y": [1, {"z": 2}]}, "q\\"}:": "v:", "w"\n:\t[]}')).toEqual(['x', 'q"}:', 'w']);
    expect(topLevelKeys('{}')).toEqual([]);
  });

  it('zero-size tensors are read, and overlap nothing (offsets [n, n], anywhere)', () => {
    // "empty" sits at the start of "w", as the Rust writer places it; "inside" lies within "w".
    const data = new Uint8Array(Float32Array.of(3, 4).buffer);
    const bytes = file(
      {
        w: one,
        empty: { dtype: 'F32', shape: [0], data_offsets: [0, 0] },
        inside: { dtype: 'F16', shape: [4, 0], data_offsets: [4, 4] },
        atEnd: { dtype: 'BF16', shape: [0, 3], data_offsets: [8, 8] },
      },
      data,
    );
    const { tensors, nonFinite } = readSafetensors(bytes);
    expect([...tensors.get('w')!.data]).toEqual([3, 4]);
    expect(tensors.get('empty')!).toMatchObject({ shape: [0], data: new Float32Array(0) });
    expect(tensors.get('inside')!.shape).toEqual([4, 0]);
    expect(tensors.get('atEnd')!.data.length).toBe(0);
    expect(nonFinite).toEqual([]);
  });

  it('a zero-size tensor past the end of the data is still refused', () => {
    expect(() => readSafetensors(file({ e: { dtype: 'F32', shape: [0], data_offsets: [9, 9] } }, eight))).toThrow(/"e" ends at byte 9 but the data section has 8 bytes/);
  });

  it('two non-empty tensors overlapping behind an empty one are still caught', () => {
    const bytes = file({ p: one, e: { dtype: 'F32', shape: [0], data_offsets: [2, 2] }, q: { ...one, data_offsets: [4, 12] } }, new Uint8Array(12));
    expect(() => readSafetensors(bytes)).toThrow(/"p" and "q" overlap/);
  });

  it('a header length claiming gigabytes (or 2^64 - 1) is refused at once', () => {
    for (const claim of [5n * 2n ** 30n, 2n ** 64n - 1n]) {
      const bytes = file({ w: one }, eight);
      new DataView(bytes.buffer).setBigUint64(0, claim, true);
      expect(() => readSafetensors(bytes)).toThrow(/header length \d+ runs past the end of the \d+-byte file/);
    }
  });

  it('a header length over the 100 MB cap is refused even when the file is that big', () => {
    const bytes = new Uint8Array(MAX_HEADER_BYTES + 64); // zero pages: cheap to allocate
    new DataView(bytes.buffer).setBigUint64(0, BigInt(MAX_HEADER_BYTES + 1), true);
    expect(() => readHeader(bytes)).toThrow(/header length 104857601 is over the 104857600-byte limit/);
  });

  it('__metadata__ that is not an object is refused', () => {
    expect(() => readSafetensors(file({ __metadata__: 'pt', w: one }, eight))).toThrow(/"__metadata__" must be a JSON object/);
  });

  it('a non-float tensor is refused before any tensor is decoded', () => {
    // "ids" comes last in the header; the refusal does not depend on order.
    const bytes = file({ w: one, ids: { dtype: 'I32', shape: [2], data_offsets: [8, 16] } }, new Uint8Array(16));
    expect(() => readSafetensors(bytes)).toThrow(/"ids" is I32/);
  });
});

describe('NaN and infinite weights load, with a warning', () => {
  it('countNonFinite counts NaN and ±Inf apart, and nothing else', () => {
    expect(countNonFinite(Float32Array.of(0, -0, 1, 3.4e38, -3.4e38, 1e-45, NaN, Infinity, -Infinity, NaN))).toEqual({ nan: 2, inf: 2 });
    expect(countNonFinite(new Float32Array(0))).toEqual({ nan: 0, inf: 0 });
  });

  it('readSafetensors reports each tensor holding them, per dtype, and still loads the values', () => {
    const nanInfF16 = words([0x3c00, 0x7e00, 0x7c00, 0xfc00]); // 1, NaN, inf, -inf
    const bytes = file(
      {
        clean: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
        h: { dtype: 'F16', shape: [4], data_offsets: [8, 16] },
        b: { dtype: 'BF16', shape: [1], data_offsets: [16, 18] },
      },
      [...new Uint8Array(Float32Array.of(1, 2).buffer), ...nanInfF16, ...words([0x7fc0])],
    );
    const { tensors, nonFinite } = readSafetensors(bytes);
    expect(nonFinite).toEqual([
      { name: 'h', nan: 1, inf: 2, count: 4 },
      { name: 'b', nan: 1, inf: 0, count: 1 },
    ]);
    expect(tensors.get('h')!.data[0]).toBe(1);
  });

  it('nonFiniteWarning is one message naming the file and the worst tensors, or null', () => {
    expect(nonFiniteWarning('model.safetensors', [])).toBeNull();
    const list = [
      { name: 'a', nan: 1, inf: 0, count: 10 },
      { name: 'b', nan: 0, inf: 5, count: 10 },
      { name: 'c', nan: 2, inf: 2, count: 10 },
      { name: 'd', nan: 1, inf: 0, count: 10 },
      { name: 'e', nan: 1, inf: 0, count: 10 },
    ];
    const m = nonFiniteWarning('model-00002-of-00002.safetensors', list)!;
    expect(m).toMatch(/^model-00002-of-00002\.safetensors: "b" has 5 infinite of 10 values; "c" has 2 NaN and 2 infinite of 10 values; "a" has 1 NaN of 10 values, and 2 more tensors\./);
    expect(m).toMatch(/re-download the file/);
  });
});
