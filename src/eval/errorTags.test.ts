import { describe, expect, it } from 'vitest';
import { errorTags, longestCommonRun, TAG_LABELS, TAG_ORDER, type TagInput } from './errorTags';

const base: TagInput = {
  prompt: 'Question: What is the capital of France?\nAnswer:',
  target: 'The capital of France is Paris.', // 6 words
  output: 'Paris is the capital of France.',
  stopReason: 'eos',
};
const tags = (over: Partial<TagInput>) => errorTags({ ...base, ...over });

describe('errorTags', () => {
  it('a good answer gets no tags', () => {
    // Restates the question ("is the capital of france", 5 words from the prompt) but contains the
    // answer word "paris", so it is not an echo.
    expect(tags({})).toEqual([]);
    expect(tags({ stopReason: 'stop' })).toEqual([]);
    expect(tags({ stopReason: 'cancelled' })).toEqual([]);
  });

  it('empty: blank output, and no content tags alongside it', () => {
    expect(tags({ output: '' })).toEqual(['empty']);
    expect(tags({ output: ' \n\t ' })).toEqual(['empty']);
    expect(tags({ output: '  \n', stopReason: 'length' })).toEqual(['empty', 'no-stop']);
    expect(tags({ output: '.' })).not.toContain('empty');
  });

  it('no-stop: hit the length limit', () => {
    expect(tags({ stopReason: 'length' })).toEqual(['no-stop']);
  });

  describe('repetition', () => {
    it('a 4-word sequence three times', () => {
      // [paris is the capital] × 3: the 4-gram occurs 3 times (12 words, under the 2·6 + 5 = 17 too-long bar).
      expect(tags({ output: 'Paris is the capital. Paris is the capital. Paris is the capital.' })).toEqual(['repetition']);
      // Twice is not a loop.
      expect(tags({ output: 'Paris is the capital. Paris is the capital.' })).toEqual([]);
    });

    it('a single word looping (overlapping n-grams count)', () => {
      // 6 × "no": the 4-gram "no no no no" starts at 0, 1, 2 → 3 times. 5 × "no" → 2 times.
      expect(tags({ output: 'no no no no no no' })).toEqual(['repetition']);
      expect(tags({ output: 'no no no no no' })).toEqual([]);
    });

    it('the same line three times', () => {
      // 2-word lines: the 4-gram "yes sir yes sir" occurs only twice, so this is the line rule.
      expect(tags({ output: 'Yes, sir!\nYes,  SIR!\nyes, sir!' })).toEqual(['repetition']);
      // Lines under 8 characters are ignored ("}" in code, list bullets).
      expect(tags({ output: '}\n}\n}' })).not.toContain('repetition');
    });

    it('not when the target repeats just as much', () => {
      expect(tags({ target: 'la la la la la la', output: 'La la la la la la!' })).toEqual([]);
      // One more "la" than the target: the 4-gram occurs 4 times vs 3.
      expect(tags({ target: 'la la la la la la', output: 'la la la la la la la' })).toEqual(['repetition']);
    });
  });

  describe('length', () => {
    it('too-long: more than 2 × target words + 5', () => {
      // Target "Paris." has 1 word → limit 2·1 + 5 = 7.
      expect(tags({ target: 'Paris.', output: 'Paris is the capital and largest city of France.' })).toEqual(['too-long']); // 9 > 7
      expect(tags({ target: 'Paris.', output: 'Paris is the capital city of France.' })).toEqual([]); // 7, not > 7
    });

    it('too-short: under half the target words, targets of 4+ words only', () => {
      // Target has 6 words → too short below 3.
      expect(tags({ output: 'Paris' })).toEqual(['too-short']);
      expect(tags({ output: 'Paris, France.' })).toEqual(['too-short']); // 2 < 3
      expect(tags({ output: 'It is Paris.' })).toEqual([]); // 3, not < 3
      // A 3-word target is exempt: "Paris" for "Paris, in France" is fine.
      expect(tags({ target: 'Paris, in France', output: 'Paris' })).toEqual([]);
    });
  });

  describe('echo', () => {
    it('parroting the question', () => {
      // Run of 6 words shared with the prompt (all of the output); the answer word "paris" is missing.
      expect(tags({ output: 'What is the capital of France?' })).toEqual(['echo']);
      // Still mostly copied (6 of 7 words) and still no "paris".
      expect(tags({ output: 'What is the capital of France? Lyon.' })).toEqual(['echo']);
    });

    it('a short overlap is not an echo', () => {
      // "the capital of france" is a 4-word run, under the 5-word minimum.
      expect(tags({ output: 'The capital of France, Lyon.' })).toEqual([]);
      // 5-word run but only 5 of 11 words (< 50%) of the output.
      expect(tags({ target: 'It is Lyon.', output: 'What is the capital of France? I believe it is Lyon.' })).not.toContain('echo');
    });

    it('extractive answers copied from a passage are not echoes, copying the question is', () => {
      const prompt = "Context: The Eiffel Tower was completed in 1889 for the World's Fair in Paris.\nQuestion: When was the Eiffel Tower completed?\nAnswer:";
      // The target "1889" is in the prompt, so its answer words are all its words: {1889}.
      expect(tags({ prompt, target: '1889', output: "The Eiffel Tower was completed in 1889 for the World's Fair." })).toEqual(['too-long']);
      expect(tags({ prompt, target: '1889', output: 'When was the Eiffel Tower completed?' })).toEqual(['echo']);
    });
  });

  describe('off-topic (wrongly refused)', () => {
    const guardrailAnswers = ['I can only answer questions about the Eiffel Tower.'];

    it('a refusal where the target is a real answer', () => {
      expect(tags({ guardrailAnswers, output: 'I can only answer questions about the Eiffel Tower.' })).toEqual(['off-topic']);
      // Paraphrase: [sorry i can only answer questions about eiffel tower] vs the 8 guardrail tokens:
      // same 8, P = 8/9, R = 1, F1 = 16/17 ≈ 0.94 ≥ 0.8.
      expect(tags({ guardrailAnswers, output: 'Sorry, I can only answer questions about the Eiffel Tower!' })).toEqual(['off-topic']);
    });

    it('not when the target is itself a refusal, with no guardrails, or for a real answer', () => {
      const refusal = 'I can only answer questions about the Eiffel Tower.';
      expect(tags({ guardrailAnswers, target: refusal, output: refusal })).toEqual([]);
      expect(tags({ output: refusal })).toEqual([]);
      expect(tags({ guardrailAnswers: [], output: refusal })).toEqual([]);
      expect(tags({ guardrailAnswers })).toEqual([]);
    });
  });

  it('returns several tags in TAG_ORDER', () => {
    const output = 'What is the capital of France? What is the capital of France? What is the capital of France?';
    // 18 words > 17, 6-word run copied from the prompt is only 6/18 of the output → not an echo.
    expect(tags({ output, stopReason: 'length' })).toEqual(['no-stop', 'repetition', 'too-long']);
  });
});

describe('longestCommonRun', () => {
  it('finds the longest contiguous shared run', () => {
    expect(longestCommonRun(['a', 'b', 'c', 'd'], ['x', 'b', 'c', 'd', 'y'])).toBe(3);
    expect(longestCommonRun(['a', 'b'], ['b', 'a'])).toBe(1);
    expect(longestCommonRun([], ['a'])).toBe(0);
  });
});

describe('TAG_LABELS', () => {
  it('labels every tag, and TAG_ORDER lists each once', () => {
    expect([...TAG_ORDER].sort()).toEqual(Object.keys(TAG_LABELS).sort());
    for (const t of TAG_ORDER) {
      expect(TAG_LABELS[t].label).not.toBe('');
      expect(TAG_LABELS[t].description).not.toBe('');
    }
    expect(TAG_LABELS['off-topic'].description).toMatch(/guardrail/);
  });
});
