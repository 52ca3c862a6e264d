/**
 * Runs our own WGSL compute shaders inside tfjs-backend-webgpu 4.22's command stream.
 *
 * tfjs's WebGPUProgram gives a shader one output, bound write-only after read-only inputs. The
 * fused kernels need more: attention writes its output and each row's logsumexp, AdamW updates
 * the parameter and both moments in one pass. So this writes the bindings itself, and records the
 * dispatch into the backend's open compute pass exactly as tfjs's recordAndSubmit does (same
 * encoder, same batching into submits, same ownership bookkeeping), so the order with tfjs's own
 * kernels is kept. It touches tfjs internals (tensorMap, commandEncoder, computePassEncoder,
 * makeUniforms): the backend is pinned at 4.22 and frozen upstream.
 */
import * as tf from '@tensorflow/tfjs-core';

/** The tfjs WebGPU backend's internals used here (4.22). */
export interface WebGPUBackendInternals {
  device: GPUDevice;
  tensorMap: { get(dataId: object): { resource?: unknown; values?: unknown; shape: number[]; dtype: string } };
  commandQueueOwnedIds: WeakSet<object>;
  commandEncoder: GPUCommandEncoder | null;
  computePassEncoder: GPUComputePassEncoder | null;
  dispatchCountInPass: number;
  uploadToGPU(dataId: object): void;
  makeTensorInfo(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  makeUniforms(u: { type: 'int32' | 'float32' | 'uint32'; data: number[] }[]): GPUBufferBinding;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
}

/** What tfjs hands a kernel function: its inputs by name, the backend, the attributes. */
export interface KernelArgs {
  inputs: Record<string, tf.TensorInfo>;
  backend: unknown;
  attrs?: Record<string, unknown>;
}

/** One storage binding: a tensor, read-only or written (written tensors are outputs, or state updated in place). */
export interface Binding {
  t: tf.TensorInfo;
  write?: boolean;
}

export interface Dispatch {
  /** Cache key: one compiled pipeline per key (put every constant baked into the code in it). */
  key: string;
  /**
   * The WGSL after the generated bindings: `fn main(gid: u32, lane: u32, group: u32)` is called once
   * per thread (gid = group·wg + lane). With `guard` (the default) only for gid < threads; without
   * it for every thread of every workgroup, so that main may use workgroupBarrier (which WGSL
   * allows only in uniform control flow): then threads must be a multiple of the workgroup size.
   */
  body: string;
  guard?: boolean;
  bindings: Record<string, Binding>;
  /** Scalar uniforms, in this order in `struct U` (`u.<name>`). */
  uniforms?: Record<string, { i32: number } | { f32: number }>;
  /** Total threads, 1-D; spread over a 2-D grid when it exceeds the per-dimension workgroup limit. */
  threads: number;
  /** Workgroup size (default 64); `wg` in the code. */
  workgroup?: number;
}

const pipelines = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>();
/** Kernels whose shader failed to compile, with the compiler's message. */
const broken = new Map<string, string>();

/** The full shader for a dispatch: storage bindings in the order given, then the uniforms, then the body. */
export function shaderSource(d: Dispatch): string {
  const names = Object.keys(d.bindings);
  const lines = names.map((n, i) => `@group(0) @binding(${i}) var<storage, ${d.bindings[n].write ? 'read_write' : 'read'}> ${n}: array<${d.bindings[n].t.dtype === 'int32' ? 'i32' : 'f32'}>;`);
  const u = Object.entries(d.uniforms ?? {});
  // Padded to 4 scalars: tfjs rounds a uniform buffer to 16 bytes, WGSL's struct must not be smaller.
  const fields = u.map(([n, v]) => `${n}: ${'i32' in v ? 'i32' : 'f32'},`);
  while (fields.length % 4 !== 0 || fields.length === 0) fields.push(`pad${fields.length}: i32,`);
  const wg = d.workgroup ?? 64;
  return `${lines.join('\n')}
struct U { ${fields.join(' ')} threads: u32, gridX: u32, p1: u32, p2: u32, };
@group(0) @binding(${names.length}) var<uniform> u: U;
const wg = ${wg}u;
${d.body}
@compute @workgroup_size(${wg}) fn _start(@builtin(workgroup_id) w: vec3<u32>, @builtin(local_invocation_index) l: u32) {
  let group = w.y * u.gridX + w.x;
  let gid = group * wg + l;
  ${d.guard === false ? 'main(gid, l, group);' : 'if (gid < u.threads) { main(gid, l, group); }'}
}`;
}

function pipelineFor(device: GPUDevice, d: Dispatch): GPUComputePipeline {
  let cache = pipelines.get(device);
  if (!cache) pipelines.set(device, (cache = new Map()));
  const failed = broken.get(d.key);
  if (failed) throw new Error(`the WebGPU kernel ${d.key} does not compile: ${failed}`);
  let p = cache.get(d.key);
  if (!p) {
    // A shader that does not compile makes every later command in its submit fail silently (all
    // zeros read back), so its error is caught here, logged, and thrown at the kernel's next use.
    device.pushErrorScope('validation');
    const module = device.createShaderModule({ code: shaderSource(d), label: d.key });
    p = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: '_start' }, label: d.key });
    void device.popErrorScope().then((e) => {
      if (!e) return;
      broken.set(d.key, e.message);
      console.error(`the WebGPU kernel ${d.key} does not compile: ${e.message}`);
    });
    cache.set(d.key, p);
  }
  return p;
}

/** Max workgroups per grid dimension (WebGPU's default limit). */
const MAX_GRID = 65535;

/** Records one dispatch on the backend's stream. Written bindings' CPU copies are dropped (they are stale). */
export function dispatch(backend: WebGPUBackendInternals, d: Dispatch): void {
  if (d.threads === 0) return;
  const wg = d.workgroup ?? 64;
  if (d.guard === false && d.threads % wg !== 0) throw new Error(`${d.key}: ${d.threads} threads is not a multiple of the workgroup size ${wg}`);
  const groups = Math.ceil(d.threads / wg);
  const gridX = Math.min(groups, MAX_GRID);
  const gridY = Math.ceil(groups / gridX);
  const entries: GPUBindGroupEntry[] = Object.values(d.bindings).map(({ t, write }, i) => {
    backend.uploadToGPU(t.dataId);
    const data = backend.tensorMap.get(t.dataId);
    if (write) data.values = null; // the GPU copy is about to change
    backend.commandQueueOwnedIds.add(t.dataId);
    const size = Math.max(4, tf.util.sizeFromShape(t.shape) * 4);
    return { binding: i, resource: { buffer: data.resource as GPUBuffer, offset: 0, size } };
  });
  const scalars: { type: 'int32' | 'float32' | 'uint32'; data: number[] }[] = Object.values(d.uniforms ?? {}).map((v) => ('i32' in v ? { type: 'int32', data: [v.i32] } : { type: 'float32', data: [v.f32] }));
  while (scalars.length % 4 !== 0 || scalars.length === 0) scalars.push({ type: 'int32', data: [0] });
  scalars.push({ type: 'uint32', data: [d.threads] }, { type: 'uint32', data: [gridX] }, { type: 'uint32', data: [0] }, { type: 'uint32', data: [0] });
  const pipeline = pipelineFor(backend.device, d);
  entries.push({ binding: entries.length, resource: backend.makeUniforms(scalars) });
  const bindGroup = backend.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
  backend.ensureCommandEncoderReady();
  backend.computePassEncoder ??= backend.commandEncoder!.beginComputePass({});
  backend.computePassEncoder.setPipeline(pipeline);
  backend.computePassEncoder.setBindGroup(0, bindGroup);
  backend.computePassEncoder.dispatchWorkgroups(gridX, gridY, 1);
  backend.dispatchCountInPass++;
  if (backend.dispatchCountInPass >= (tf.env().get('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE') as number)) {
    backend.endComputePassEncoder();
    backend.submitQueue();
  }
}

/**
 * WGSL: the sums of v (two at a time) over the workgroup, every thread gets them. Call in uniform
 * control flow, and once per kernel: on llvmpipe (where the tests run) a second reduction whose
 * input depended on the first's result came out wrong (a row's variance 0.8% low), so no kernel
 * here chains two (see layerNorm.ts).
 */
export const WG_SUM = `
var<workgroup> red: array<vec2<f32>, wg>;
fn wgSum(v: vec2<f32>, lane: u32) -> vec2<f32> {
  red[lane] = v;
  workgroupBarrier();
  for (var s = wg / 2u; s > 0u; s = s >> 1u) {
    if (lane < s) { red[lane] = red[lane] + red[lane + s]; }
    workgroupBarrier();
  }
  return workgroupUniformLoad(&red[0]);
}`;

/** WGSL: whether x is finite (no isinf/isnan builtins; a bit test survives fast-math). */
export const IS_FINITE = `fn isFinite(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) < 0x7f800000u; }`;

/** A new float32 tensor's storage on the GPU (its contents are whatever the pooled buffer held: write every element). */
export function output(backend: WebGPUBackendInternals, shape: number[]): tf.TensorInfo {
  const t = backend.makeTensorInfo(shape, 'float32');
  backend.uploadToGPU(t.dataId);
  return t;
}
