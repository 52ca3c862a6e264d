/**
 * llama.cpp as a real client for the GGUF exports: node-llama-cpp's prebuilt CPU binaries, from
 * the test workspace clients/llama-cpp (installed by `npm run clients`; kept out of the app's
 * dependencies, its binaries take about 700 MB).
 *
 * Settings chosen for comparisons with the engine: one thread (more oversubscribe two cores, 30×
 * slower), no flash attention and a float32 KV cache (llama.cpp's defaults round keys and values
 * to float16: log-probabilities then differ by ~3e-3 instead of ~4e-6), greedy sampling with no
 * penalties (node-llama-cpp's evaluate at temperature 0 is a plain argmax).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ENTRY = fileURLToPath(new URL('../../clients/llama-cpp/node_modules/node-llama-cpp/dist/index.js', import.meta.url));

/** The parts of node-llama-cpp's API the tests use (its types live in the workspace, out of the app's type check). */
interface Sequence {
  clearHistory(): Promise<void>;
  evaluate(tokens: number[], options: { temperature: number; yieldEogToken: boolean }): AsyncGenerator<number>;
  controlledEvaluate(input: (number | [number, { generateNext: { probabilities: true } }])[]): Promise<({ next: { probabilities?: Map<number, number> } } | undefined)[]>;
  dispose(): Promise<void>;
}
interface Context {
  getSequence(): Sequence;
  dispose(): Promise<void>;
}
interface Model {
  createContext(options: Record<string, unknown>): Promise<Context>;
  dispose(): Promise<void>;
}
interface Llama {
  loadModel(options: { modelPath: string }): Promise<Model>;
  dispose(): Promise<void>;
}
interface NodeLlamaCpp {
  getLlama(options: Record<string, unknown>): Promise<Llama>;
  LlamaLogLevel: { error: string };
}

export interface LoadedGguf {
  /** Greedy continuation of `ids`: `n` new token ids. */
  greedy(ids: number[], n: number): Promise<number[]>;
  /** log p(next token) over the whole vocabulary after each of `ids` (positions with `at`, default the last). */
  logProbs(ids: number[], at?: number[]): Promise<Float64Array[]>;
  dispose(): Promise<void>;
}

let llama: Promise<Llama> | null = null;
let logs: string[] = [];

/** One llama.cpp per process: node-llama-cpp wires its logger to the first getLlama only. */
async function getLlama(): Promise<Llama> {
  if (!existsSync(ENTRY)) throw new Error('llama.cpp (node-llama-cpp) is not installed for the tests: run "npm run clients"');
  llama ??= (import(pathToFileURL(ENTRY).href) as Promise<NodeLlamaCpp>).then((m) =>
    m.getLlama({ gpu: false, build: 'never', maxThreads: 1, logLevel: m.LlamaLogLevel.error, logger: (_level: string, message: string) => logs.push(message) }),
  );
  return llama;
}

export async function loadGguf(path: string, vocabSize: number, adapter?: string): Promise<LoadedGguf> {
  const l = await getLlama();
  logs = [];
  let model: Model;
  try {
    model = await l.loadModel({ modelPath: path });
  } catch (e) {
    await new Promise((r) => setTimeout(r, 20)); // llama.cpp's reason reaches the logger after the rejection
    throw new Error(`${(e as Error).message}: ${logs.join(' ').trim()}`, { cause: e });
  }
  let context: Context;
  try {
    context = await model.createContext({
      contextSize: 256,
      flashAttention: false,
      experimentalKvCacheKeyType: 'F32',
      experimentalKvCacheValueType: 'F32',
      ...(adapter ? { lora: { adapters: [{ filePath: adapter, scale: 1 }] } } : {}),
    });
  } catch (e) {
    await new Promise((r) => setTimeout(r, 20));
    await model.dispose();
    throw new Error(`${(e as Error).message}: ${logs.join(' ').trim()}`, { cause: e });
  }
  const sequence = context.getSequence();
  return {
    async greedy(ids, n) {
      await sequence.clearHistory();
      const out: number[] = [];
      for await (const t of sequence.evaluate(ids, { temperature: 0, yieldEogToken: true })) {
        out.push(t);
        if (out.length >= n) break;
      }
      return out;
    },
    async logProbs(ids, at = [ids.length - 1]) {
      await sequence.clearHistory();
      const input = ids.map((t, i) => (at.includes(i) ? ([t, { generateNext: { probabilities: true } }] as [number, { generateNext: { probabilities: true } }]) : t));
      const res = await sequence.controlledEvaluate(input);
      return at.map((i) => {
        const probs = res[i]?.next.probabilities;
        if (!probs) throw new Error(`llama.cpp gave no probabilities at position ${i}`);
        const lp = new Float64Array(vocabSize).fill(-Infinity);
        for (const [tok, p] of probs) lp[tok] = Math.log(p);
        return lp;
      });
    },
    async dispose() {
      await sequence.dispose();
      await context.dispose();
      await model.dispose();
    },
  };
}
