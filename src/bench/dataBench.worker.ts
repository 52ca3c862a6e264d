/// <reference lib="webworker" />
/** Runs the data benchmarks off the page's main thread, as the studio's data worker does its work. */
import { tokenizerFromJson } from '../data/tokenizer';
import type { Row } from '../data/types';
import { runDataBenchmarks } from './dataBenchmarks';

self.onmessage = async (e: MessageEvent<{ rows: Row[] }>) => {
  try {
    const tokenizer = tokenizerFromJson(await (await fetch(`${import.meta.env.BASE_URL}tokenizers/pythia/tokenizer.json`)).json());
    await runDataBenchmarks(tokenizer, e.data.rows, (line) => self.postMessage({ line }));
    self.postMessage({ done: true });
  } catch (err) {
    self.postMessage({ error: (err as Error).message });
  }
};
