// Recognises a kernel panic in console output, across chunk boundaries, for every engine.
const PANIC = /Kernel panic - not syncing: [^\r]*/;

export class PanicWatch {
  private found?: string;
  private partial = '';

  feed(chunk: Buffer | string): void {
    if (this.found) return;
    const lines = (this.partial + chunk.toString()).split('\n');
    this.partial = lines.pop()!.slice(-1024);
    for (const line of lines) {
      const match = PANIC.exec(line);
      if (match) {
        this.found = match[0].trimEnd();
        return;
      }
    }
  }

  /** The panic message, once the output has ended (a last line may lack its newline). */
  get message(): string | undefined {
    return this.found ?? PANIC.exec(this.partial)?.[0].trimEnd();
  }
}
