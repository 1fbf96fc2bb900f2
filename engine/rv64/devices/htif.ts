// HTIF (host-target interface) as riscv-tests and Spike use it: the program writes the 64-bit `tohost` word.
//   value & 1 with device 0: exit, code = value >> 1 (0 = pass, n = test n failed)
//   device 1, command 1: putchar(value & 0xff)
//   otherwise (device 0, even value): pointer to a "magic memory" syscall block [n, a0, a1, a2, ...]; write (64)
//   and exit (93) are supported; the reply goes to magic_mem[0] and fromhost is set to 1.
// The device overlays the page(s) holding tohost/fromhost and passes every other byte through to RAM; outside RAM
// (e.g. QEMU spike's HTIF window at 0x1000000, which firmware finds in the device tree) it has its own storage.
import type { MemoryBus, MmioDevice } from '../bus.js';

export class Htif implements MmioDevice {
  readonly name = 'htif';
  /** Exit code once the program has exited (0 = pass). */
  exitCode: number | undefined;
  private loWord = 0;

  constructor(
    private readonly bus: MemoryBus,
    /** Base physical address this device is mapped at (page-aligned). */
    readonly base: number,
    private readonly tohost: number,
    private readonly fromhost: number | undefined,
    private readonly onExit: (code: number) => void,
    private readonly onOutput: (bytes: Uint8Array) => void,
    /** Size of the window (for the device's own storage when it is not in RAM). */
    size = 4096,
  ) {
    const inRam = base >= bus.ramBase && base + size <= bus.ramBase + bus.ram.length;
    this.mem = inRam ? bus.ramView : new DataView(new ArrayBuffer(size));
    this.memBase = inRam ? bus.ramBase : base;
  }

  /** Backing store for the window: RAM when the window overlays RAM, else the device's own bytes. */
  private readonly mem: DataView;
  /** Physical address of mem's byte 0. */
  private readonly memBase: number;

  private off(paddr: number): number {
    return paddr - this.memBase;
  }

  load(offset: number, size: 1 | 2 | 4): number {
    const o = this.off(this.base + offset);
    const v = this.mem;
    return size === 1 ? v.getUint8(o) : size === 2 ? v.getUint16(o, true) : v.getInt32(o, true);
  }

  store(offset: number, size: 1 | 2 | 4, value: number): void {
    const o = this.off(this.base + offset);
    const v = this.mem;
    if (size === 1) v.setUint8(o, value & 0xff);
    else if (size === 2) v.setUint16(o, value & 0xffff, true);
    else v.setInt32(o, value | 0, true);
    const pa = this.base + offset;
    if (pa === this.tohost && size === 4) this.loWord = value >>> 0;
    if (pa === this.tohost + 4 && size === 4) this.command(value >>> 0, this.loWord);
  }

  private command(hi: number, lo: number): void {
    if (hi === 0 && lo === 0) return;
    const dev = hi >>> 24,
      cmd = (hi >>> 16) & 0xff;
    const o = this.off(this.tohost);
    if (dev === 0 && lo & 1) {
      const code = (hi & 0xffff) * 2147483648 + (lo >>> 1);
      this.exitCode = code;
      this.onExit(code);
    } else if (dev === 1 && cmd === 1) {
      this.onOutput(new Uint8Array([lo & 0xff]));
      this.ack(1);
    } else if (dev === 0) {
      this.syscall(hi * 4294967296 + lo);
    }
    this.mem.setInt32(o, 0, true);
    this.mem.setInt32(o + 4, 0, true);
  }

  private ack(v: number): void {
    if (this.fromhost === undefined) return;
    const o = this.off(this.fromhost);
    this.mem.setInt32(o, v, true);
    this.mem.setInt32(o + 4, 0, true);
  }

  private syscall(addr: number): void {
    const v = this.bus.ramView;
    const off = addr - this.bus.ramBase;
    if (off < 0 || off + 64 > this.bus.ram.length) return;
    const arg = (i: number) => v.getUint32(off + 8 * i, true) + v.getUint32(off + 8 * i + 4, true) * 4294967296;
    const n = arg(0);
    let ret = -38; // -ENOSYS
    if (n === 64) {
      // write(fd, buf, len)
      const buf = arg(2) - this.bus.ramBase,
        len = arg(3);
      if (buf >= 0 && buf + len <= this.bus.ram.length) {
        this.onOutput(this.bus.ram.slice(buf, buf + len));
        ret = len;
      }
    } else if (n === 93) {
      // exit(code)
      this.exitCode = arg(1);
      this.onExit(arg(1));
      ret = 0;
    }
    v.setInt32(off, ret, true);
    v.setInt32(off + 4, ret < 0 ? -1 : 0, true);
    this.ack(1);
  }
}
