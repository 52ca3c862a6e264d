/**
 * Turns character offsets into 1-based line numbers. Offsets usually come in increasing order, so
 * counting resumes where the last call stopped: one pass over the text in all.
 */
export class LineCounter {
  private pos = 0;
  private line = 1;

  constructor(private readonly text: string) {}

  lineAt(offset: number): number {
    if (offset < this.pos) {
      this.pos = 0;
      this.line = 1;
    }
    for (let nl = this.text.indexOf('\n', this.pos); nl !== -1 && nl < offset; nl = this.text.indexOf('\n', nl + 1)) {
      this.line++;
    }
    this.pos = offset;
    return this.line;
  }
}

/** The line that holds `offset`, without its line break. */
export function lineTextAt(text: string, offset: number): string {
  const start = offset > 0 ? text.lastIndexOf('\n', offset - 1) + 1 : 0;
  const nl = text.indexOf('\n', offset);
  return text.slice(start, nl === -1 ? text.length : nl);
}
