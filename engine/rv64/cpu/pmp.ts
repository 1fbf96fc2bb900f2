// Physical memory protection: 16 entries (pmpcfg0/pmpcfg2, pmpaddr0..15), OFF/TOR/NA4/NAPOT, lock bits.
// Ranges are recomputed on every write; checks are per access, plus a whole-page check that decides whether a
// translation may be cached in the TLB.

export const PMP_ENTRIES = 16;

export class Pmp {
  readonly cfg = new Uint8Array(PMP_ENTRIES);
  /** pmpaddr values (54-bit, exact in a double). */
  readonly addr = new Float64Array(PMP_ENTRIES);
  private readonly lo = new Float64Array(PMP_ENTRIES);
  private readonly hi = new Float64Array(PMP_ENTRIES);
  /** True when some entry is locked (then M-mode accesses are checked too). */
  anyLocked = false;

  private recompute(): void {
    this.anyLocked = false;
    for (let i = 0; i < PMP_ENTRIES; i++) {
      const c = this.cfg[i]!;
      const a = (c >> 3) & 3;
      if (c & 0x80) this.anyLocked = true;
      const y = this.addr[i]!;
      if (a === 0) { this.lo[i] = 0; this.hi[i] = 0; }
      else if (a === 1) { this.lo[i] = i === 0 ? 0 : this.addr[i - 1]! * 4; this.hi[i] = y * 4; }
      else if (a === 2) { this.lo[i] = y * 4; this.hi[i] = y * 4 + 4; }
      else {
        let t = 0, v = y;
        while (v % 2 === 1) { v = (v - 1) / 2; t++; }
        const size = 2 ** (t + 3);
        this.lo[i] = (y - (2 ** t - 1)) * 4;
        this.hi[i] = this.lo[i]! + size;
      }
    }
  }

  private locked(i: number): boolean {
    if (this.cfg[i]! & 0x80) return true;
    // pmpaddr[i] is also locked when entry i+1 is a locked TOR entry
    return i + 1 < PMP_ENTRIES && (this.cfg[i + 1]! & 0x98) === 0x88;
  }

  writeCfg(i: number, v: number): void {
    if (this.cfg[i]! & 0x80) return;
    let c = v & 0x9f;
    if ((c & 3) === 2) c &= ~3; // W without R is reserved: clear both
    this.cfg[i] = c;
    this.recompute();
  }

  writeAddr(i: number, lo: number, hi: number): void {
    if (this.locked(i)) return;
    this.addr[i] = (hi & 0x3fffff) * 4294967296 + (lo >>> 0);
    this.recompute();
  }

  /** May [paddr, paddr+size) be accessed (acc: 0 read, 1 write, 2 exec) at privilege priv? */
  check(paddr: number, size: number, acc: number, priv: number): boolean {
    const end = paddr + size;
    for (let i = 0; i < PMP_ENTRIES; i++) {
      const c = this.cfg[i]!;
      if ((c & 0x18) === 0) continue;
      const lo = this.lo[i]!, hi = this.hi[i]!;
      if (end <= lo || paddr >= hi) continue;
      if (paddr < lo || end > hi) return false; // partial match
      if (priv === 3 && !(c & 0x80)) return true;
      return ((c >> acc) & 1) === 1;
    }
    return priv === 3;
  }

  /** Does the whole 4 KiB page at pageAddr get the same verdict (allowed) as any access inside it? */
  pageAllowed(pageAddr: number, acc: number, priv: number): boolean {
    return this.check(pageAddr, 4096, acc, priv);
  }
}
