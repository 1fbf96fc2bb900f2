// The physical address space of the RISC-V machine: one RAM region plus memory-mapped devices.
// The CPU reads and writes plain RAM pages directly (through its TLB); everything else, including device windows that
// overlay RAM pages (e.g. the HTIF tohost word of a bare-metal test), goes through load()/store().

/** A memory-mapped device. Offsets are relative to the device's base; 8-byte accesses arrive as two 4-byte halves (low first). */
export interface MmioDevice {
  readonly name: string;
  load(offset: number, size: 1 | 2 | 4): number;
  store(offset: number, size: 1 | 2 | 4, value: number): void;
}

export interface Bus {
  readonly ram: Uint8Array;
  readonly ramView: DataView;
  /** Physical address of ram[0]. */
  readonly ramBase: number;
  /** Per 4 KiB RAM page: 1 when a device overlays part of it (so the CPU must not access it directly). */
  readonly ioPage: Uint8Array;
  /** Per 4 KiB RAM page: 1 once written since the last takeWritten() (time travel's copy-on-write snapshots).
   *  Whoever writes RAM calls markWritten() first for a page not marked yet. */
  readonly written: Uint8Array;
  markWritten(offset: number, len: number): void;
  /** Per block of RAM (see STORE_BLOCK_SHIFT): 1 once a store instruction wrote there since its page was taken
   *  (takeWritten), as a write watchpoint there would have seen; marked by every store (its page is marked too). */
  readonly stored: Uint8Array;
  /** The pages marked since the last call, marks cleared, their stored blocks' too (into `stored` when given, by
   *  mask: see storedMask). */
  takeWritten(stored?: Map<number, number>): number[];
  /** Access outside plain RAM. Returns undefined when nothing is mapped there (access fault). */
  load(paddr: number, size: 1 | 2 | 4): number | undefined;
  /** Returns false when nothing is mapped there (access fault). */
  store(paddr: number, size: 1 | 2 | 4, value: number): boolean;
}

/** The stored-block marks' granularity: 64 bytes (packed variables: a page is written all the time, a line not). */
export const STORE_BLOCK_SHIFT = 6;
const BLOCKS_PER_PAGE = 4096 >> STORE_BLOCK_SHIFT;
/** Blocks are handed out 32 to a mask (storedMask). */
const MASKS_PER_PAGE = BLOCKS_PER_PAGE / 32;

interface Mapping {
  base: number;
  size: number;
  dev: MmioDevice;
}

export class MemoryBus implements Bus {
  readonly ram: Uint8Array;
  readonly ramView: DataView;
  readonly ioPage: Uint8Array;
  readonly written: Uint8Array;
  readonly stored: Uint8Array;
  private writtenList: number[] = [];
  /** Called before the first write to a page after takeWritten() (a recording keeps what the page held). */
  beforeFirstWrite: ((page: number) => void) | undefined = undefined;
  private maps: Mapping[] = [];

  constructor(
    readonly ramBase: number,
    ramSize: number,
  ) {
    if (ramSize % 4096 !== 0) throw new Error('RAM size must be a multiple of 4096');
    this.ram = new Uint8Array(ramSize);
    this.ramView = new DataView(this.ram.buffer);
    this.ioPage = new Uint8Array(ramSize / 4096);
    this.written = new Uint8Array(ramSize / 4096);
    this.stored = new Uint8Array(ramSize >> STORE_BLOCK_SHIFT);
  }

  markWritten(offset: number, len: number): void {
    for (let p = offset >>> 12, last = (offset + len - 1) >>> 12; p <= last; p++) {
      if (this.written[p]) continue;
      this.beforeFirstWrite?.(p);
      this.written[p] = 1;
      this.writtenList.push(p);
    }
  }

  takeWritten(stored?: Map<number, number>): number[] {
    const pages = this.writtenList;
    this.writtenList = [];
    for (const p of pages) {
      this.written[p] = 0;
      if (stored) {
        for (let i = p * MASKS_PER_PAGE; i < (p + 1) * MASKS_PER_PAGE; i++) {
          const mask = this.storedMask(i);
          if (mask) stored.set(i, mask);
        }
      }
      this.stored.fill(0, p * BLOCKS_PER_PAGE, (p + 1) * BLOCKS_PER_PAGE);
    }
    return pages;
  }

  /** Blocks 32i to 32i+31 as a mask (bit k: block 32i+k), those stored to since their page was taken. */
  storedMask(i: number): number {
    let mask = 0;
    for (let k = 0; k < 32; k++) if (this.stored[i * 32 + k]) mask |= 1 << k;
    return mask;
  }

  get ramEnd(): number {
    return this.ramBase + this.ram.length;
  }

  map(base: number, size: number, dev: MmioDevice): void {
    this.maps.push({ base, size, dev });
    for (let a = base; a < base + size; a += 4096) {
      const off = a - this.ramBase;
      if (off >= 0 && off < this.ram.length) this.ioPage[Math.floor(off / 4096)] = 1;
    }
    const last = base + size - 1 - this.ramBase;
    if (last >= 0 && last < this.ram.length) this.ioPage[Math.floor(last / 4096)] = 1;
  }

  private find(paddr: number): Mapping | undefined {
    for (const m of this.maps) if (paddr >= m.base && paddr < m.base + m.size) return m;
    return undefined;
  }

  load(paddr: number, size: 1 | 2 | 4): number | undefined {
    const m = this.find(paddr);
    if (m) return m.dev.load(paddr - m.base, size);
    const off = paddr - this.ramBase;
    if (off < 0 || off + size > this.ram.length) return undefined;
    return size === 1
      ? this.ram[off]!
      : size === 2
        ? this.ramView.getUint16(off, true)
        : this.ramView.getInt32(off, true);
  }

  store(paddr: number, size: 1 | 2 | 4, value: number): boolean {
    const m = this.find(paddr);
    if (m) {
      m.dev.store(paddr - m.base, size, value);
      return true;
    }
    const off = paddr - this.ramBase;
    if (off < 0 || off + size > this.ram.length) return false;
    this.markWritten(off, size);
    this.stored[off >>> STORE_BLOCK_SHIFT] = 1;
    this.stored[(off + size - 1) >>> STORE_BLOCK_SHIFT] = 1;
    if (size === 1) this.ram[off] = value;
    else if (size === 2) this.ramView.setUint16(off, value & 0xffff, true);
    else this.ramView.setInt32(off, value | 0, true);
    return true;
  }

  /** Copy bytes out of physical memory (RAM only); used by DMA. */
  readPhysRam(paddr: number, len: number): Uint8Array {
    const off = paddr - this.ramBase;
    if (off < 0 || off + len > this.ram.length) {
      throw new RangeError(`0x${paddr.toString(16)}+0x${len.toString(16)} is outside RAM`);
    }
    return this.ram.slice(off, off + len);
  }

  /** Copy bytes into physical memory (RAM only); used by loaders. */
  writePhys(paddr: number, data: Uint8Array): void {
    const off = paddr - this.ramBase;
    if (off < 0 || off + data.length > this.ram.length) {
      throw new RangeError(`segment 0x${paddr.toString(16)}+0x${data.length.toString(16)} is outside RAM`);
    }
    if (data.length) this.markWritten(off, data.length);
    this.ram.set(data, off);
  }
}
