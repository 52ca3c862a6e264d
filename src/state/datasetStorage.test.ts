import 'fake-indexeddb/auto';
import { createStore, set } from 'idb-keyval';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SPLIT, DEFAULT_TOKENIZE } from '../data/defaults';
import { indexedDbStorage, storageMessage } from './datasetStorage';
import type { Dataset } from './datasetStore';

const dataset = (name: string): Dataset => ({
  name,
  source: 'file',
  format: 'jsonl',
  rows: [
    { id: 0, line: 1, data: { question: 'q', answer: 'ä 😀', n: 3, nested: [{ role: 'user', content: 'x' }] } },
    { id: 5, line: null, data: { question: '', answer: 'added' } },
  ],
  nextId: 6,
  skipped: [{ line: 2, kind: 'invalid-json', message: 'invalid JSON', excerpt: '{' }],
  skippedCount: 1,
  mapping: { kind: 'qa', fields: { question: 'question', answer: 'answer' } },
  template: { id: 'custom', custom: 'Q: {question}\nA:' },
  tokenize: { ...DEFAULT_TOKENIZE, maxLength: 99, truncation: 'left' },
  split: { ...DEFAULT_SPLIT, seed: 7 },
});

describe('IndexedDB dataset storage', () => {
  it('is empty at first, then gives back exactly what was saved, in a fresh connection too', async () => {
    const s = indexedDbStorage('test-roundtrip');
    expect(await s.load()).toBeNull();
    await s.save(dataset('a.jsonl'), true);
    expect(await indexedDbStorage('test-roundtrip').load()).toEqual(dataset('a.jsonl'));
    // A settings-only save keeps the stored rows and updates the rest.
    const b = { ...dataset('b.jsonl'), rows: [] };
    await s.save(b, false);
    expect(await s.load()).toEqual({ ...b, rows: dataset('a.jsonl').rows });
    await s.clear();
    expect(await s.load()).toBeNull();
  });

  it('ignores a record written by another version of the studio', async () => {
    await set('dataset', { version: 1, dataset: { rows: 'old shape' } }, createStore('test-version', 'datasets'));
    await set('dataset-meta', { version: 1, meta: {} }, createStore('test-version', 'datasets'));
    expect(await indexedDbStorage('test-version').load()).toBeNull();
  });

  it('words a full quota as what to do', () => {
    expect(storageMessage(Object.assign(new Error('x'), { name: 'QuotaExceededError' }))).toMatch(/quota is full.*export it/);
  });
});
