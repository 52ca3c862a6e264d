import { describe, expect, it } from 'vitest';
import { parseConfig } from '../model/config';
import { countParams } from '../model/params';
import { DISTILGPT2, GPT2, QWEN25_05B, QWEN3_06B, SMOLLM2_135M, SMOLLM2_360M } from '../testing/hubConfigs';
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
  it('lists Pythia\'s three sizes with and without dedup, then the other families', () => {
    expect(HUB_PRESETS.map((p) => p.repo)).toEqual([
      'EleutherAI/pythia-70m',
      'EleutherAI/pythia-70m-deduped',
      'EleutherAI/pythia-160m',
      'EleutherAI/pythia-160m-deduped',
      'EleutherAI/pythia-410m',
      'EleutherAI/pythia-410m-deduped',
      'HuggingFaceTB/SmolLM2-135M',
      'HuggingFaceTB/SmolLM2-135M-Instruct',
      'HuggingFaceTB/SmolLM2-360M',
      'HuggingFaceTB/SmolLM2-360M-Instruct',
      'Qwen/Qwen2.5-0.5B',
      'Qwen/Qwen2.5-0.5B-Instruct',
      'Qwen/Qwen3-0.6B',
      'openai-community/gpt2',
      'distilbert/distilgpt2',
    ]);
  });

  it.each([
    ['HuggingFaceTB/SmolLM2-135M', SMOLLM2_135M, 2],
    ['HuggingFaceTB/SmolLM2-360M', SMOLLM2_360M, 2],
    ['Qwen/Qwen2.5-0.5B', QWEN25_05B, 2],
    ['Qwen/Qwen3-0.6B', QWEN3_06B, 2],
    ['openai-community/gpt2', GPT2, 4],
    ['distilbert/distilgpt2', DISTILGPT2, 4],
  ] as const)('%s: the parameter count of its config.json, and a download of its weights at the stored width', (repo, json, bytesPerWeight) => {
    const p = HUB_PRESETS.find((x) => x.repo === repo)!;
    const config = parseConfig(json);
    expect(p.paramCount).toBe(countParams(config));
    // The file holds every parameter once (Qwen3's also its tied head again; GPT-2's its 1×1×n×n float32 causal masks).
    const extra = repo === 'Qwen/Qwen3-0.6B' ? config.vocabSize * config.hiddenSize : repo.includes('gpt2') ? config.numLayers * config.maxPositions ** 2 : 0;
    expect(Math.abs(p.downloadBytes - (p.paramCount + extra) * bytesPerWeight) / p.downloadBytes).toBeLessThan(1e-3);
  });
});
