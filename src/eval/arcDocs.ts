/**
 * ARC questions in the Hugging Face `ai2_arc` schema: parsing, the prompt lm-evaluation-harness
 * builds, and the gold index. Pure (no tensors), so the page can read files without the model code.
 */

export interface ArcDoc {
  id: string;
  question: string;
  choices: { text: string[]; label: string[] };
  answerKey: string;
}

const isStringArray = (x: unknown): x is string[] => Array.isArray(x) && x.every((s) => typeof s === 'string');

/** A problem with one parsed line, or null when it is a usable doc. */
function docProblem(o: unknown): string | null {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return 'not a JSON object';
  const d = o as Record<string, unknown>;
  if (typeof d.id !== 'string') return '"id" is missing or not a string';
  if (typeof d.question !== 'string') return '"question" is missing or not a string';
  if (typeof d.answerKey !== 'string') return '"answerKey" is missing or not a string';
  const c = d.choices as Record<string, unknown> | undefined;
  if (typeof c !== 'object' || c === null || !isStringArray(c.text) || !isStringArray(c.label)) return '"choices" must be {text: string[], label: string[]}';
  if (c.text.length < 2 || c.text.length !== c.label.length) return `"choices" needs at least 2 texts and as many labels (got ${c.text.length} and ${c.label.length})`;
  if (c.text.some((t) => t.length === 0)) return 'a choice text is empty (acc_norm divides by its length)';
  if (!c.label.includes(d.answerKey)) return `answerKey "${d.answerKey}" is not one of the labels ${c.label.join(', ')}`;
  return null;
}

/** ai2_arc JSONL (one {id, question, choices: {text, label}, answerKey} per line); every bad line is reported by number. */
export function parseArc(text: string): { docs: ArcDoc[]; problems: string[] } {
  const docs: ArcDoc[] = [];
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    let o: unknown;
    try {
      o = JSON.parse(line);
    } catch (e) {
      problems.push(`line ${i + 1}: not valid JSON (${(e as Error).message})`);
      return;
    }
    const problem = docProblem(o);
    if (problem) problems.push(`line ${i + 1}: ${problem}`);
    else docs.push(o as ArcDoc);
  });
  return { docs, problems };
}

export const arcContext = (doc: ArcDoc): string => `Question: ${doc.question}\nAnswer:`;

/** Index of the answer among the choices (labels are "A".."E" or, in some docs, "1".."5"). */
export const arcGold = (doc: ArcDoc): number => doc.choices.label.indexOf(doc.answerKey);

