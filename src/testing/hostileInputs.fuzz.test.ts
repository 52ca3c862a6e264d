/**
 * Generated hostile inputs against every reader of a user's files: the safetensors reader, the
 * config check, the dataset parsers and the adapter import. Each input must be read or refused
 * with one Error of one line (never a TypeError or RangeError from deep inside, never a hang).
 * fast-check shrinks a failure to its smallest input and prints the seed to replay it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDataset } from '../data/parse';
import { parseConfig } from '../model/config';
import { readSafetensors, writeSafetensors } from '../model/safetensors';
import { parsePeftAdapter, targetPatternMatcher } from '../train/importAdapter';
import { tinyConfig } from '../model/tinyConfig';
import { TINY_SPEC } from './tinyModel';

/** Inputs per property: thousands in all, a few seconds each on two cores. */
const RUNS = 1500;
/**
 * Longer than this for one input is a hang: a guard against exponential work (a backtracking
 * pattern, a quadratic scan), not a speed test. Honest inputs take milliseconds; the margin is for
 * a loaded CI machine.
 */
const SLOW_MS = 2000;

/** Runs f: it may return, or throw a plain Error whose message is one non-empty line. */
function readOrRefuse(f: () => unknown): void {
  const t0 = performance.now();
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(Error);
    expect(e).not.toBeInstanceOf(TypeError); // a property read on undefined: a crash, not a refusal
    expect(e).not.toBeInstanceOf(RangeError); // a stack overflow or an absurd allocation
    const message = (e as Error).message;
    expect(message.length).toBeGreaterThan(0);
    expect(message).not.toMatch(/\n/);
  }
  expect(performance.now() - t0).toBeLessThan(SLOW_MS);
}

const u64 = (n: number) => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
  return b;
};
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

/** A safetensors header's tensor entry, sometimes well-formed, often not. */
const entry = fc.record({
  dtype: fc.oneof(fc.constantFrom('F32', 'F16', 'BF16', 'I64', 'U8', 'F64'), fc.string({ maxLength: 5 }), fc.integer()),
  shape: fc.oneof(fc.array(fc.integer({ min: -2, max: 40 }), { maxLength: 4 }), fc.array(fc.constantFrom(0, 1, 2 ** 31, 2 ** 53), { maxLength: 3 }), fc.string()),
  data_offsets: fc.oneof(fc.tuple(fc.nat(600), fc.nat(600)), fc.array(fc.integer({ min: -5, max: 2 ** 40 }), { maxLength: 3 }), fc.constant(null)),
});

describe('hostile inputs: read, or refused with one line, never a crash or a hang', () => {
  it('safetensors: random bytes, and headers of random entries, lengths and data', () => {
    const header = fc.dictionary(fc.oneof(fc.constantFrom('w', 'b', '__metadata__', 'w '), fc.string({ maxLength: 6 })), fc.oneof(entry, fc.jsonValue({ maxDepth: 3 })), { maxKeys: 5 });
    const file = fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      fc.tuple(header, fc.uint8Array({ maxLength: 600 }), fc.integer({ min: -8, max: 8 })).map(([h, data, skew]) => {
        const json = new TextEncoder().encode(JSON.stringify(h));
        return concat(u64(Math.max(0, json.length + skew)), json, data);
      }),
      fc.tuple(fc.constantFrom(0, 2 ** 31, 2 ** 40, Number.MAX_SAFE_INTEGER), fc.uint8Array({ maxLength: 32 })).map(([n, rest]) => concat(u64(n), rest)),
    );
    fc.assert(fc.property(file, (bytes) => readOrRefuse(() => readSafetensors(bytes))), { numRuns: RUNS });
  });

  it('safetensors: a valid file with one byte changed', () => {
    const good = writeSafetensors([{ name: 'w', shape: [3, 4], data: new Float32Array(12).fill(0.5) }, { name: 'b', shape: [4], data: new Float32Array(4) }]);
    fc.assert(
      fc.property(fc.nat(good.length - 1), fc.nat(255), (at, value) => {
        const bytes = good.slice();
        bytes[at] = value;
        readOrRefuse(() => readSafetensors(bytes));
      }),
      { numRuns: RUNS },
    );
  });

  it('config.json: the real fields with values of any type and size', () => {
    const value = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(0, -1, 1e9, 2 ** 53, Number.NaN, Infinity), fc.string({ maxLength: 8 }), fc.boolean(), fc.constant(null), fc.jsonValue({ maxDepth: 2 }));
    const fields = ['model_type', 'vocab_size', 'hidden_size', 'num_hidden_layers', 'num_attention_heads', 'intermediate_size', 'max_position_embeddings', 'rotary_pct', 'rotary_emb_base', 'layer_norm_eps', 'use_parallel_residual', 'hidden_act', 'tie_word_embeddings', 'rope_scaling'];
    const config = fc.record(Object.fromEntries(fields.map((f) => [f, value])), { requiredKeys: [] });
    const near = fc.record({ model_type: fc.constant('gpt_neox'), vocab_size: fc.integer({ min: -2, max: 70_000 }), hidden_size: fc.integer({ min: -2, max: 1024 }), num_hidden_layers: fc.integer({ min: -1, max: 2000 }), num_attention_heads: fc.integer({ min: -1, max: 70 }), intermediate_size: fc.integer({ min: -1, max: 5000 }), rotary_pct: fc.double({ min: -1, max: 2, noNaN: false }) });
    fc.assert(
      fc.property(fc.oneof(config, near, fc.jsonValue({ maxDepth: 3 })), (c) =>
        readOrRefuse(() => {
          const parsed = parseConfig(c);
          // What it accepts is usable: whole positive sizes, heads that divide the width.
          expect(parsed.hiddenSize % parsed.numHeads).toBe(0);
          expect(Math.min(parsed.vocabSize, parsed.hiddenSize, parsed.numLayers, parsed.intermediateSize)).toBeGreaterThan(0);
        }),
      ),
      { numRuns: RUNS },
    );
  });

  it('datasets: random lines of JSON-ish text, CSV-ish text and deep nesting parse to rows and one-line issues', async () => {
    const jsonish = fc.stringMatching(/^[{}[\]":,a-z0-9 \\\n\t-]{0,120}$/);
    const line = fc.oneof(jsonish, fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)), fc.oneof(fc.nat(100), fc.integer({ min: 10_000, max: 120_000 })).map((d) => '['.repeat(d) + ']'.repeat(d)), fc.string({ maxLength: 40 }));
    const text = fc.array(line, { maxLength: 12 }).map((lines) => lines.join('\n'));
    await fc.assert(
      fc.asyncProperty(text, fc.constantFrom('data.jsonl', 'data.json', 'data.csv', 'data.txt'), async (t, name) => {
        const t0 = performance.now();
        const result = await parseDataset(new File([t], name));
        expect(performance.now() - t0).toBeLessThan(SLOW_MS * 5);
        for (const issue of result.issues) expect(issue.message).not.toMatch(/\n/);
        structuredClone(result.rows); // what crossing to the page does: no row is too deep to copy
      }),
      { numRuns: 600 },
    );
  });

  it('adapter import: random target_modules patterns are matched in linear time or refused', () => {
    const pattern = fc.stringMatching(/^[a-z_.*+?()|\\[\]{}^$\d:!<=-]{0,40}$/);
    fc.assert(
      fc.property(pattern, (p) =>
        readOrRefuse(() => {
          const match = targetPatternMatcher(p);
          match('gpt_neox.layers.0.attention.query_key_value' + 'a'.repeat(200));
        }),
      ),
      { numRuns: RUNS },
    );
  });

  it('adapter import: random adapter_config.json and weights against a base model', () => {
    const base = tinyConfig(TINY_SPEC);
    const cfg = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.record({ r: fc.oneof(fc.integer({ min: -1, max: 64 }), fc.string()), lora_alpha: fc.oneof(fc.double(), fc.string()), target_modules: fc.oneof(fc.array(fc.string({ maxLength: 20 }), { maxLength: 4 }), fc.string({ maxLength: 30 }), fc.constantFrom(['query_key_value'], 'all-linear')), peft_type: fc.constantFrom('LORA', 'IA3', ''), fan_in_fan_out: fc.boolean(), bias: fc.constantFrom('none', 'all') }, { requiredKeys: [] }),
    );
    const weights = fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      fc.tuple(fc.integer({ min: 0, max: 8 }), fc.integer({ min: 0, max: 70 })).map(([r, c]) =>
        writeSafetensors([{ name: 'base_model.model.gpt_neox.layers.0.attention.query_key_value.lora_A.weight', shape: [r, c], data: new Float32Array(r * c) }]),
      ),
    );
    fc.assert(
      fc.property(cfg, weights, (c, w) =>
        readOrRefuse(() => parsePeftAdapter([{ name: 'adapter_config.json', bytes: new TextEncoder().encode(JSON.stringify(c) ?? 'null') }, { name: 'adapter_model.safetensors', bytes: w }], base)),
      ),
      { numRuns: RUNS },
    );
  });
});
