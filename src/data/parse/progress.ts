import type { ParseProgress } from '../types';

/** Progress in terms of the file; called once per chunk read (see READ_CHUNK_BYTES), so rarely enough. */
export class Progress {
  constructor(
    private readonly totalBytes: number,
    private readonly onProgress?: (p: ParseProgress) => void,
  ) {}

  update(bytesRead: number, rows: number, issues: number): void {
    this.onProgress?.({ bytesRead, totalBytes: this.totalBytes, rows, issues });
  }

  done(rows: number, issues: number): void {
    this.update(this.totalBytes, rows, issues);
  }
}
