// Interactive console: this terminal in raw mode wired to the guest console, so keys (Ctrl-C included) reach the
// guest. Ctrl-A x leaves (as in QEMU); Ctrl-A Ctrl-A sends a Ctrl-A. The terminal is restored on every exit path.
import type { Readable, Writable } from 'node:stream';

const CTRL_A = 0x01;

export interface TerminalLink {
  /** Resolves when the user asked to leave with Ctrl-A x. */
  readonly escaped: Promise<void>;
  restore(): void;
}

export function linkTerminal(guestInput: Writable, guestOutput: Readable): TerminalLink {
  const stdin = process.stdin;
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    if (stdin.isTTY) stdin.setRawMode(false);
    stdin.pause();
    stdin.removeListener('data', onKey);
  };
  process.once('exit', restore);
  let leave!: () => void;
  const escaped = new Promise<void>((r) => (leave = r));
  let pendingEscape = false;
  const onKey = (chunk: Buffer) => {
    const out: number[] = [];
    for (const byte of chunk) {
      if (pendingEscape) {
        pendingEscape = false;
        if (byte === 0x78 /* x */ || byte === 0x58) return leave();
        out.push(byte === CTRL_A ? CTRL_A : byte);
        continue;
      }
      if (byte === CTRL_A) pendingEscape = true;
      else out.push(byte);
    }
    if (out.length) guestInput.write(Buffer.from(out));
  };
  if (stdin.isTTY) stdin.setRawMode(true);
  stdin.on('data', onKey);
  stdin.resume();
  guestOutput.pipe(process.stdout, { end: false });
  return { escaped, restore };
}
