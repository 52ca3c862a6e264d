/**
 * Just enough of the WebAssembly binary format to write a few SIMD kernels from TypeScript: one
 * imported memory, functions of i32 parameters, and the instructions those kernels use.
 *
 * Why hand-assembled: the kernels (rowDots.ts) must run inside tfjs-backend-wasm's own memory, on
 * its tensors in place, and the toolchains that compile C or WAT to WASM are not dependencies of
 * this project (and would leave a generated binary to keep in step). The format is small and
 * fixed: https://webassembly.github.io/spec/core/binary/ (SIMD: the fixed-width SIMD proposal,
 * standard since 2021, in every browser tfjs's SIMD build runs in).
 */

export const I32 = 0x7f;
export const V128 = 0x7b;
type ValType = typeof I32 | typeof V128;

/** Unsigned LEB128. */
function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 of a 32-bit integer. */
function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const utf8 = (s: string): number[] => [...new TextEncoder().encode(s)];
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];

/** A function body being written: locals by name, then instructions. */
export class Body {
  readonly bytes: number[] = [];
  private readonly locals: ValType[] = [];
  private readonly index = new Map<string, number>();

  constructor(readonly params: string[]) {
    params.forEach((p, i) => this.index.set(p, i));
  }

  /** Declares locals (after the parameters). */
  local(type: ValType, ...names: string[]): this {
    for (const n of names) {
      this.index.set(n, this.params.length + this.locals.length);
      this.locals.push(type);
    }
    return this;
  }

  private at(name: string): number[] {
    const i = this.index.get(name);
    if (i === undefined) throw new Error(`no local ${name}`);
    return uleb(i);
  }

  private op(...b: number[]): this {
    this.bytes.push(...b);
    return this;
  }

  private simd(code: number, ...rest: number[]): this {
    return this.op(0xfd, ...uleb(code), ...rest);
  }

  get = (n: string) => this.op(0x20, ...this.at(n));
  set = (n: string) => this.op(0x21, ...this.at(n));
  i32 = (v: number) => this.op(0x41, ...sleb(v));
  add = () => this.op(0x6a);
  mul = () => this.op(0x6c);
  ltU = () => this.op(0x49);
  /** A loop whose body `inner` writes; `br_if 0` inside it jumps back to its start. */
  loop(inner: () => void): this {
    this.op(0x03, 0x40);
    inner();
    return this.op(0x0b);
  }
  brIf = (depth: number) => this.op(0x0d, ...uleb(depth));
  /** v128.load from the address on the stack plus `offset` bytes. */
  load = (offset = 0) => this.simd(0x00, 0, ...uleb(offset));
  /** v128.const of four i32 lanes. */
  i32x4 = (lanes: [number, number, number, number]) => this.simd(0x0c, ...lanes.flatMap((v) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff]));
  zero = () => this.i32x4([0, 0, 0, 0]);
  and = () => this.simd(0x4e);
  /** i32x4.shl by the i32 on the stack. */
  i32x4Shl = () => this.simd(0xab);
  f32x4Add = () => this.simd(0xe4);
  f32x4Mul = () => this.simd(0xe6);
  lane = (i: number) => this.simd(0x1f, i);
  f32Add = () => this.op(0x92);
  /** f32.store at the address below the value, plus `offset` bytes. */
  f32Store = (offset = 0) => this.op(0x38, 2, ...uleb(offset));

  encode(): number[] {
    const groups = this.locals.map((t) => [1, t]);
    const code = [...vec(groups), ...this.bytes, 0x0b];
    return [...uleb(code.length), ...code];
  }
}

/**
 * A module importing `env.memory` (shared or not, as the memory it will be given) and exporting
 * each function by name; every function takes i32 parameters and returns nothing.
 */
export function encodeModule(functions: { name: string; body: Body }[], sharedMemory: boolean): Uint8Array<ArrayBuffer> {
  const types = functions.map((f) => [0x60, ...vec(f.body.params.map(() => [I32])), 0]);
  // Limits: shared memories must state a maximum; 65,536 pages (4 GiB) admits any wasm32 memory.
  const limits = sharedMemory ? [0x03, ...uleb(0), ...uleb(65536)] : [0x00, ...uleb(0)];
  const name = (s: string) => [...uleb(utf8(s).length), ...utf8(s)];
  const memoryImport = [...name('env'), ...name('memory'), 0x02, ...limits];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, vec(types)),
    ...section(2, vec([memoryImport])),
    ...section(3, vec(functions.map((_, i) => uleb(i)))),
    ...section(7, vec(functions.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]))),
    ...section(10, vec(functions.map((f) => f.body.encode()))),
  ]);
}
