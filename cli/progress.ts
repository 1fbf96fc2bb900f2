// A single self-rewriting status line on a TTY (stderr); nothing when not on a TTY or when disabled.
export class Progress {
  private shown = false;
  private last = 0;
  private readonly enabled: boolean;

  constructor(enabled: boolean) {
    this.enabled = enabled && !!process.stderr.isTTY;
  }

  update(line: string): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.last < 100) return; // a terminal redraw per 100 ms is plenty
    this.last = now;
    const width = (process.stderr.columns || 80) - 1;
    process.stderr.write(`\r\x1b[K${line.slice(0, width)}`);
    this.shown = true;
  }

  done(): void {
    if (this.shown) process.stderr.write('\r\x1b[K');
    this.shown = false;
  }
}
