import { describe, expect, it } from 'vitest';
import { VIEW_DROPPED_TOKENS } from '../protocol/dataProtocol';
import { inProcessDataClient, pythiaTokenizer } from '../testing/dataTesting';
import { readFileSync } from 'node:fs';
import { DEFAULT_TOKENIZE } from '../data/defaults';
import { tokenizerFromJson } from '../data/tokenizer';
import { TOKENIZER_PATH } from '../testing/tinyModel';
import type { Segment } from '../data/types';

const tok = pythiaTokenizer();
const qa = (q: string, a: string): Segment[] => [
  { text: `### Question:\n${q}\n\n### Answer:`, train: false },
  { text: a, train: true },
];

describe('data service', () => {
  it('counts with the loaded model\'s tokenizer once told to, and with the bundled one again after', async () => {
    const data = inProcessDataClient();
    const items = [qa('What is a token?', ' A piece of text.')];
    const bundled = Array.from((await data.request('measure', { items })).lengths);
    // Another tokenizer: Pythia's vocabulary without its merges splits text into far more tokens.
    const pythia = JSON.parse(readFileSync(TOKENIZER_PATH, 'utf8'));
    const other = tokenizerFromJson({ ...pythia, model: { ...pythia.model, merges: [] } });
    await data.request('useTokenizer', { source: { tokenizerJson: { ...pythia, model: { ...pythia.model, merges: [] } }, tokenizerConfig: null } });
    const own = Array.from((await data.request('measure', { items })).lengths);
    expect(own).toEqual([items[0].reduce((n, s) => n + other.encode(s.text).length, 0)]);
    expect(own[0]).toBeGreaterThan(bundled[0]);
    const view = await data.request('tokenView', { segments: items[0], settings: DEFAULT_TOKENIZE });
    expect(view.tokens.map((t) => t.id).slice(0, 5)).toEqual(other.encode(items[0][0].text).slice(0, 5));
    await data.request('useTokenizer', { source: null });
    expect(Array.from((await data.request('measure', { items })).lengths)).toEqual(bundled); // the memo went with the other tokenizer
  });

  it('measure counts tokens per example (no EOS), the same again from its memo', async () => {
    const data = inProcessDataClient();
    const items = [qa('What is a token?', ' A piece of text.'), [], qa('', ' x')];
    const want = items.map((segs) => segs.reduce((n, s) => n + tok.encode(s.text).length, 0));
    expect(Array.from((await data.request('measure', { items })).lengths)).toEqual(want);
    expect(Array.from((await data.request('measure', { items })).lengths)).toEqual(want);
  });

  it('a long truncated row sends the kept tokens and only the dropped ones next to the cut', async () => {
    const data = inProcessDataClient();
    const long = ' word'.repeat(3000);
    for (const truncation of ['left', 'right'] as const) {
      const settings = { ...DEFAULT_TOKENIZE, maxLength: 100, truncation };
      const v = await data.request('tokenView', { segments: qa('Why?', long), settings });
      const kept = v.tokens.filter((t) => t.kept);
      expect(kept).toHaveLength(100);
      expect(v.tokens.length - kept.length).toBe(VIEW_DROPPED_TOKENS);
      expect(v.fullLength).toBe(v.tokens.length + v.omitted);
      expect(v.truncated).toBe(v.fullLength - 100);
      // Left truncation keeps the end: the EOS is kept and learned; right drops it.
      const last = v.tokens[v.tokens.length - 1];
      if (truncation === 'left') expect(last).toMatchObject({ id: tok.eosTokenId, kept: true, loss: true });
      else expect(kept[kept.length - 1].text).toBe(' word');
    }
  });

  it('a token view is not queued behind a long count', async () => {
    const data = inProcessDataClient();
    const items = Array.from({ length: 6000 }, (_, i) => qa(`Question number ${i}?`, ` Answer ${i}.`));
    let countDone = false;
    const count = data.request('measure', { items }).then(() => (countDone = true));
    const view = await data.request('tokenView', { segments: qa('Hi', ' there'), settings: DEFAULT_TOKENIZE });
    expect(view.tokens.length).toBeGreaterThan(0);
    expect(countDone).toBe(false);
    await count;
  });
});
