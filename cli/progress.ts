// Progress on stderr: on a terminal, one self-rewriting status line plus a line per stage; elsewhere (a pipe, a log
// file, CI) only the stage lines, one plain line each. Nothing at all when disabled (--quiet).
export class Progress {
  private shown = false;
  private last = 0;
  private readonly tty: boolean;

  constructor(private readonly enabled: boolean) {
    this.tty = !!process.stderr.isTTY;
  }

  /** A line that stays: a new stage of the work. */
  stage(line: string): void {
    if (!this.enabled) return;
    this.done();
    process.stderr.write(line + '\n');
  }

  /** The status line, redrawn in place on a terminal; dropped elsewhere. */
  update(line: string): void {
    if (!this.enabled || !this.tty) return;
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
