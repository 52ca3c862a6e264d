/**
 * Turns a growing list of generated ids into streamed text with stop strings.
 *
 * Text is re-decoded from all ids each step (BPE pieces can merge across tokens), and held back
 * while it ends in an incomplete UTF-8 character or in what could be the start of a stop string,
 * so a stop string is never shown and then taken back.
 */
export class TextStream {
  private emitted = 0; // characters of the decoded text already handed out
  text = '';
  stopped = false;

  constructor(
    private readonly decode: (ids: number[]) => string,
    private readonly stopStrings: string[],
  ) {}

  /** Feed all ids generated so far; returns the new text that is safe to show. */
  push(ids: number[]): string {
    let full = this.decode(ids);
    for (const s of this.stopStrings) {
      const at = s ? full.indexOf(s) : -1;
      if (at >= 0) {
        full = full.slice(0, at);
        this.stopped = true;
      }
    }
    this.text = full;
    let safe = full.length;
    if (!this.stopped) {
      if (full.endsWith('\uFFFD')) safe = full.length - 1; // partial multi-byte character
      for (const s of this.stopStrings) {
        for (let k = Math.min(s.length - 1, full.length); k > 0; k--) {
          if (full.endsWith(s.slice(0, k))) {
            safe = Math.min(safe, full.length - k);
            break;
          }
        }
      }
    }
    if (safe <= this.emitted) return '';
    const delta = full.slice(this.emitted, safe);
    this.emitted = safe;
    return delta;
  }

  /** Whatever was held back, once generation has ended. */
  flush(): string {
    const delta = this.text.slice(this.emitted);
    this.emitted = this.text.length;
    return delta;
  }
}
