// Write watchpoints served by the relay itself, for a server whose hardware watchpoints are accepted but never fire
// (x86 debug registers under nested virtualisation): the target is single-stepped and the watched bytes compared
// after each step (stepping.ts). This module only keeps the watched ranges and their last known values.
import { Refused, type BreakpointType } from './target.js';

export interface WatchedRange {
  addr: bigint;
  len: number;
}

interface Watch extends WatchedRange {
  value: Buffer;
}

export const EMULATION_NOTICE =
  "this host's debug registers do not fire: kwb emulates write watchpoints by single-stepping the guest (slow)";

export class WatchEmulation {
  private readonly watches = new Map<string, Watch>();
  private told = false;

  constructor(private readonly notice: (line: string) => void) {}

  get active(): boolean {
    return this.watches.size > 0;
  }

  /** Watch [addr, addr + len) for writes; `read` gives its bytes now. Read and access watchpoints are refused:
   *  a step cannot tell that an instruction read memory. */
  async insert(type: BreakpointType, addr: bigint, len: number, read: () => Promise<Buffer>): Promise<void> {
    if (type !== 2)
      throw new Refused(
        'kwb: read and access watchpoints need hardware debug registers, which do not fire on this host; use watch',
      );
    if (len <= 0 || len > 4096) throw new Refused(`kwb: cannot watch ${len} bytes (at most 4096)`);
    if (!this.told) {
      this.told = true;
      this.notice(EMULATION_NOTICE);
    }
    this.watches.set(key(addr, len), { addr, len, value: await read() });
  }

  remove(addr: bigint, len: number): void {
    this.watches.delete(key(addr, len));
  }

  /** The ranges to read after each step, in a fixed order (the order changed() takes the data in). */
  ranges(): WatchedRange[] {
    return [...this.watches.values()];
  }

  /** The first watched range whose bytes (data[i] for ranges()[i]) differ from what was last seen; every range
   *  takes its new value. Unreadable data (undefined) counts as unchanged. */
  changed(data: (Buffer | undefined)[]): WatchedRange | undefined {
    let first: WatchedRange | undefined;
    [...this.watches.values()].forEach((w, i) => {
      const now = data[i];
      if (!now || now.length !== w.len || now.equals(w.value)) return;
      w.value = now;
      first ??= { addr: w.addr, len: w.len };
    });
    return first;
  }
}

function key(addr: bigint, len: number): string {
  return `${addr.toString(16)},${len}`;
}
