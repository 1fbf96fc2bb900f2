// Physical memory protection: 16 entries (pmpcfg0/pmpcfg2, pmpaddr0..15), OFF/TOR/NA4/NAPOT, lock bits.
// Ranges are recomputed on every write; checks are per access, plus a whole-page check that decides whether a
// translation may be cached in the TLB.

export const PMP_ENTRIES = 16;

export class Pmp {
  readonly cfg = new Uint8Array(PMP_ENTRIES);
  /** pmpaddr values (54 bits) as lo/hi words. */
  readonly addrLo = new Int32Array(PMP_ENTRIES);
  readonly addrHi = new Int32Array(PMP_ENTRIES);
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
      const y = this.value(i);
      if (a === 0) {
        this.lo[i] = 0;
        this.hi[i] = 0;
      } else if (a === 1) {
        this.lo[i] = i === 0 ? 0 : this.value(i - 1) * 4;
        this.hi[i] = y * 4;
      } else if (a === 2) {
        this.lo[i] = y * 4;
        this.hi[i] = y * 4 + 4;
      } else {
        // NAPOT: t trailing ones -> a 2^(t+3)-byte region (computed on the exact words; bounds beyond 2^53 are
        // approximate, which only matters for addresses no RAM or device can have)
        const l = this.addrLo[i]!,
          h = this.addrHi[i]!;
        const t = l === -1 ? 32 + tz(~h) : tz(~l);
        const size = 2 ** (t + 3);
        const baseLo = t >= 32 ? 0 : (l & ~(2 ** t - 1)) >>> 0;
        const baseHi = t >= 32 ? h & ~(2 ** (t - 32) - 1) : h;
        this.lo[i] = (baseHi * 4294967296 + baseLo) * 4;
        this.hi[i] = this.lo[i]! + size;
      }
    }
  }

  /** pmpaddr[i] as a number (exact below 2^53). */
  value(i: number): number {
    return this.addrHi[i]! * 4294967296 + (this.addrLo[i]! >>> 0);
  }

  private locked(i: number): boolean {
    if (this.cfg[i]! & 0x80) return true;
    // pmpaddr[i] is also locked when entry i+1 is a locked TOR entry
    return i + 1 < PMP_ENTRIES && (this.cfg[i + 1]! & 0x98) === 0x88;
  }

  /** Put back saved entries (time travel): lock bits do not stop this. */
  restore(cfg: Uint8Array, addrLo: Int32Array, addrHi: Int32Array): void {
    this.cfg.set(cfg);
    this.addrLo.set(addrLo);
    this.addrHi.set(addrHi);
    this.recompute();
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
    this.addrLo[i] = lo;
    this.addrHi[i] = hi & 0x3fffff;
    this.recompute();
  }

  /** May [paddr, paddr+size) be accessed (acc: 0 read, 1 write, 2 exec) at privilege priv? */
  check(paddr: number, size: number, acc: number, priv: number): boolean {
    const end = paddr + size;
    for (let i = 0; i < PMP_ENTRIES; i++) {
      const c = this.cfg[i]!;
      if ((c & 0x18) === 0) continue;
      const lo = this.lo[i]!,
        hi = this.hi[i]!;
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

/** Count trailing zeros of a 32-bit value (32 for 0). */
function tz(v: number): number {
  return v === 0 ? 32 : 31 - Math.clz32(v & -v);
}
