import { describe, expect, it } from 'vitest';
import { approxParamCount, HUB_PRESETS, RANDOM_PRESETS } from './presets';

describe('approxParamCount', () => {
  it('matches the Pythia checkpoints exactly', () => {
    expect(approxParamCount(512, 6)).toBe(70_426_624); // pythia-70m
    expect(approxParamCount(768, 12)).toBe(162_322_944); // pythia-160m
    expect(approxParamCount(1024, 24)).toBe(405_334_016); // pythia-410m
  });

  it('counts the random presets', () => {
    expect(approxParamCount(RANDOM_PRESETS.tiny.hiddenSize, RANDOM_PRESETS.tiny.numLayers)).toBe(6_539_008);
    expect(approxParamCount(RANDOM_PRESETS.small.hiddenSize, RANDOM_PRESETS.small.numLayers)).toBe(28_915_200);
  });
});

describe('HUB_PRESETS', () => {
  it('lists the three sizes with and without dedup', () => {
    expect(HUB_PRESETS.map((p) => p.repo)).toEqual([
      'EleutherAI/pythia-70m',
      'EleutherAI/pythia-70m-deduped',
      'EleutherAI/pythia-160m',
      'EleutherAI/pythia-160m-deduped',
      'EleutherAI/pythia-410m',
      'EleutherAI/pythia-410m-deduped',
    ]);
  });
});
