// The rv64 machine: one RV64GC hart, RAM and the devices of QEMU's virt layout, firmware (kwb's built-in SBI, or an
// M-mode image such as OpenSBI), a kernel with its initramfs and device tree. It runs in slices on the caller's
// thread; the guest (guest.ts) and the debugger target (target.ts) drive it and know nothing of its devices.
import { MemoryBus } from './bus.js';
import { Cpu, Stop } from './cpu/cpu.js';
import { Clint } from './devices/clint.js';
import { Plic } from './devices/plic.js';
import { Syscon, type PowerEvent } from './devices/syscon.js';
import { Uart16550 } from './devices/uart16550.js';
import { CowDisk } from './devices/cow-disk.js';
import { VirtioBlk } from './devices/virtio-blk.js';
import { VirtioMmio, type Dma } from './devices/virtio-mmio.js';
import { RX_QUEUE, VirtioNet } from './devices/virtio-net.js';
import type { KernelImage } from './kernel-image.js';
import { parseElf, loadElf } from './loader.js';
import { Sbi } from './sbi.js';
import type { CpuState } from './cpu/cpu.js';
import type { Stateful } from './state.js';
import { VIRT, virtDeviceTree } from './virt.js';

export type { PowerEvent };

/** Input from outside the machine, the only thing that makes two runs of it differ. */
export type HostInput =
  | { kind: 'console'; bytes: Uint8Array }
  | { kind: 'time'; ticks: number }
  /** An Ethernet frame for network interface `nic` (eth0 is 0). */
  | { kind: 'frame'; nic: number; frame: Uint8Array };

/** What run() needs from a recording of the machine (recording.ts). */
export interface RunObserver {
  /** The instruction count at which run() must be at a point where input may be given (see Machine.canonical), to
   *  call atInputPoint(); Infinity when none is due. */
  nextStop(): number;
  /** Called at every such point run() passes: snapshots are taken and recorded input replayed here. */
  atInputPoint(): void;
  /** Whether the run is past the end of the recording (running live): the host's input is taken then. */
  readonly live: boolean;
  /** Input from the host: recorded and given to the machine at the next input point when live, held otherwise. */
  hostInput(input: HostInput): void;
}

/** Machine.save(): everything but RAM. */
export interface MachineState {
  cpu: CpuState;
  devices: unknown[];
  power: PowerEvent | undefined;
  sbiConsoleIn: boolean;
  sbiInput: number[];
  consoleBytes: number;
  atInputPoint: boolean;
}

export interface MachineConfig {
  kernel: KernelImage;
  initrd?: Uint8Array;
  bootargs: string;
  memBytes: number;
  /** M-mode firmware (OpenSBI's fw_dynamic/fw_jump, raw or ELF); undefined: kwb's built-in SBI. */
  firmware?: Uint8Array;
  /** Disk images for virtio-blk (vda, vdb, ...): read-only underneath, writes stay in memory. */
  disks?: string[];
  /** Network interfaces (virtio-net, eth0, eth1, ...): each one's MAC and where the frames the guest sends go. */
  nics?: { mac: string; transmit: (frame: Uint8Array) => void }[];
  /** Console output (UART and SBI console), handed over in batches between run slices. */
  console: (bytes: Uint8Array) => void;
  /** Compile hot code to JS functions (default false), only code that stays hot: a block is compiled after its first
   *  instruction ran KERNEL_JIT_HEAT times interpreted. A kernel runs thousands of lukewarm blocks, and V8 runs each
   *  new function unoptimized for its first thousands of calls, slower than the already-optimized interpreter; what
   *  stays that hot (an inflate loop) runs faster compiled. Off by default: counting heat costs the plain boot, which
   *  has no code that hot, ~10%. See README.md, "Where the time goes". */
  jit?: boolean;
}

/** Why run() returned. */
export type MachineStop =
  | { kind: 'budget' }
  | { kind: 'breakpoint' }
  | { kind: 'watchpoint' }
  /** requestStop() (an interrupt from the debugger or the host). */
  | { kind: 'halted' }
  /** The hart waits in WFI and nothing is due for `ticks` timer ticks (Infinity: until console input). */
  | { kind: 'idle'; ticks: number }
  | { kind: 'power'; event: PowerEvent };

/** Instructions per mtime tick: 10 MHz of timebase at 100 MIPS, and time is a pure function of the instruction count. */
const INSTRUCTIONS_PER_TICK = 10;
const SLICE = 1_000_000;
/** Interpreted runs of a block's first instruction before the block is compiled, on a kernel: high, so that only code
 *  that stays hot is compiled (the fixture's plain boot compiles none, the gzipped-initramfs boot ~30 blocks). */
const KERNEL_JIT_HEAT = 250_000;
const ISA = 'rv64imafdc_zicsr_zifencei';
/** OpenSBI's fw_dynamic handshake (include/sbi/fw_dynamic.h): where to go next and in which mode. */
const FW_DYNAMIC_MAGIC = 0x4942534f;
const FW_DYNAMIC_VERSION = 2;
const NEXT_MODE_S = 1;

export class Machine {
  readonly bus: MemoryBus;
  readonly cpu: Cpu;
  readonly clint: Clint;
  readonly plic: Plic;
  readonly uart: Uart16550;
  readonly builtinSbi: boolean;
  /** Physical addresses of what was loaded (for `monitor` and tests). */
  readonly layout: { kernel: number; entry: number; dtb: number; initrd?: { start: number; end: number } };
  private power: PowerEvent | undefined;
  /** requestStop() between runs (the CPU forgets a stop request when a run starts). */
  private stopRequested = false;
  private consoleOut: number[] = [];
  /** The guest reads its console through SBI (hvc0) rather than the UART. */
  private sbiConsoleIn = false;
  private sbiInput: number[] = [];
  private readonly disks: CowDisk[] = [];
  private readonly nics: { device: VirtioNet; slot: VirtioMmio }[] = [];
  /** Devices with state, in a fixed order (save() and restore()). */
  private readonly stateful: Stateful<unknown>[] = [];
  /** Console bytes the guest has written in this timeline (a restored state brings back its own count). */
  private consoleBytes = 0;
  /** Console bytes handed to the host: output replayed after going back in time is not shown again. */
  private consoleShown = 0;
  /** The machine is between instructions as run() leaves them: the last instruction retired, no interrupt taken
   *  since. Input from the host is given only at such points, so a replay that stops at the same instruction count
   *  gives it at the same point. A breakpoint stop may have taken an interrupt; an idle skip has moved time. */
  private inputPoint = true;
  /** A recording of the run (time travel); undefined when none is being made. */
  observer: RunObserver | undefined;

  constructor(private readonly cfg: MachineConfig) {
    const ramBase = VIRT.ram.base;
    this.bus = new MemoryBus(ramBase, cfg.memBytes);
    this.cpu = new Cpu(this.bus);
    this.cpu.jitEnabled = cfg.jit ?? false;
    this.cpu.jitThreshold = KERNEL_JIT_HEAT;
    this.builtinSbi = cfg.firmware === undefined;
    this.clint = new Clint(this.cpu, INSTRUCTIONS_PER_TICK, this.builtinSbi ? 5 : 7);
    this.plic = new Plic(this.cpu);
    this.uart = new Uart16550(this.plic, VIRT.uart.irq, (b) => this.emit(b));
    this.bus.map(VIRT.clint.base, VIRT.clint.size, this.clint);
    this.bus.map(VIRT.plic.base, VIRT.plic.size, this.plic);
    this.bus.map(VIRT.uart.base, VIRT.uart.size, this.uart);
    this.bus.map(VIRT.test.base, VIRT.test.size, new Syscon((e) => this.powerEvent(e)));
    this.stateful.push(this.clint, this.plic, this.uart);
    const dma: Dma = {
      read: (paddr, len) => this.bus.readPhysRam(paddr, len),
      write: (paddr, data) => {
        this.bus.writePhys(paddr, data);
        this.cpu.invalidatePhys(paddr, data.length);
      },
    };
    const disks = cfg.disks ?? [],
      nics = cfg.nics ?? [];
    if (disks.length + nics.length > VIRT.virtio.slots)
      throw new Error(`the machine has ${VIRT.virtio.slots} virtio slots for disks and network interfaces`);
    // disks first, then network interfaces, one slot each in order (the device tree lists them the same way)
    const plug = (device: VirtioBlk | VirtioNet, i: number): VirtioMmio => {
      const slot = new VirtioMmio(device, dma, this.plic, VIRT.virtio.firstIrq + i);
      this.bus.map(VIRT.virtio.base + i * VIRT.virtio.size, VIRT.virtio.size, slot);
      this.stateful.push(slot);
      return slot;
    };
    disks.forEach((path, i) => {
      const disk = new CowDisk(path);
      this.disks.push(disk);
      plug(new VirtioBlk(disk), i);
    });
    nics.forEach((nic, i) => {
      const device = new VirtioNet(nic.mac, nic.transmit);
      this.nics.push({ device, slot: plug(device, disks.length + i) });
    });
    this.layout = this.load();
  }

  /** Lay out kernel, initramfs and device tree in RAM and put the hart at the firmware's or the kernel's entry. */
  private load(): Machine['layout'] {
    const { kernel, initrd, memBytes } = this.cfg;
    const ramBase = VIRT.ram.base,
      ramEnd = ramBase + memBytes;
    const kernelAt = ramBase + kernel.textOffset;
    const kernelEnd = kernelAt + kernel.memSize;
    // device tree at the top of RAM, the initramfs just below it (as far from the kernel's bss as possible)
    const dtbAt = ramEnd - 0x10000;
    let initrdRange: { start: number; end: number } | undefined;
    if (initrd) {
      const start = Math.floor((dtbAt - initrd.length) / 4096) * 4096;
      initrdRange = { start, end: start + initrd.length };
    }
    const lowest = initrdRange?.start ?? dtbAt;
    if (kernelEnd + 0x400000 > lowest) {
      throw new Error(
        `${memBytes >> 20} MiB of guest memory cannot hold this kernel${initrd ? ' and initramfs' : ''}; pass a larger --mem`,
      );
    }
    const dtb = virtDeviceTree({
      memBytes,
      bootargs: this.cfg.bootargs,
      initrd: initrdRange,
      virtioDevices: this.disks.length + this.nics.length,
      isa: ISA,
    });
    this.bus.writePhys(kernelAt, kernel.bytes);
    if (initrd && initrdRange) this.bus.writePhys(initrdRange.start, initrd);
    this.bus.writePhys(dtbAt, dtb);
    const entry = kernelAt + kernel.entryOffset;

    if (this.cfg.firmware) {
      const fwEntry = this.loadFirmware(this.cfg.firmware);
      const info = dtbAt - 0x100;
      const words = [FW_DYNAMIC_MAGIC, FW_DYNAMIC_VERSION, entry, NEXT_MODE_S, 0, 0];
      const buf = new Uint8Array(words.length * 8);
      const view = new DataView(buf.buffer);
      words.forEach((w, i) => view.setBigUint64(i * 8, BigInt(w), true));
      this.bus.writePhys(info, buf);
      this.cpu.reset(fwEntry);
      this.cpu.setX(10, 0n);
      this.cpu.setX(11, BigInt(dtbAt));
      this.cpu.setX(12, BigInt(info));
    } else {
      const sbi = new Sbi(this.cpu, {
        setTimer: (t) => this.clint.setCompare(t),
        putchar: (b) => this.consoleOut.push(b),
        getchar: () => {
          this.sbiConsoleIn = true;
          return this.sbiInput.shift() ?? -1;
        },
        reset: (kind) => this.powerEvent({ kind: kind === 'shutdown' ? 'poweroff' : 'reset', code: 0 }),
      });
      sbi.install();
      sbi.enterSupervisor(entry, dtbAt);
    }
    return { kernel: kernelAt, entry, dtb: dtbAt, initrd: initrdRange };
  }

  /** Firmware goes at the start of RAM (raw binary) or at its ELF physical addresses. Returns its entry. */
  private loadFirmware(fw: Uint8Array): number {
    if (fw.length >= 4 && fw[0] === 0x7f && fw[1] === 0x45 && fw[2] === 0x4c && fw[3] === 0x46) {
      const elf = parseElf(fw);
      loadElf(elf, this.bus);
      return elf.entry;
    }
    this.bus.writePhys(VIRT.ram.base, fw);
    return VIRT.ram.base;
  }

  private powerEvent(e: PowerEvent): void {
    this.power ??= e;
    this.cpu.requestStop();
  }

  private emit(bytes: Uint8Array): void {
    for (const b of bytes) this.consoleOut.push(b);
  }

  /** Stop the machine: a run in progress returns 'halted' after the current instruction, or the next run at once. */
  requestStop(): void {
    this.stopRequested = true;
    this.cpu.requestStop();
  }

  /** Console input from the host. */
  input(bytes: Uint8Array): void {
    this.hostInput({ kind: 'console', bytes });
  }

  /** A frame from the host's network for interface `nic`. */
  receiveFrame(nic: number, frame: Uint8Array): void {
    this.hostInput({ kind: 'frame', nic, frame });
  }

  /** Let `ticks` of wall-clock time pass for an idle hart (at most up to its timer deadline). */
  advanceTime(ticks: number): void {
    this.hostInput({ kind: 'time', ticks });
  }

  private hostInput(input: HostInput): void {
    if (this.observer) this.observer.hostInput(input);
    else this.give(input);
  }

  /** Give the machine an input now (the recording calls this at an input point). */
  give(input: HostInput): void {
    if (input.kind === 'time') this.clint.advance(input.ticks);
    else if (input.kind === 'frame') {
      const nic = this.nics[input.nic];
      nic?.device.receive(input.frame);
      nic?.slot.kick(RX_QUEUE);
    } else if (this.sbiConsoleIn) for (const b of input.bytes) this.sbiInput.push(b);
    else this.uart.receive(input.bytes);
  }

  /** At an input point (see inputPoint): host input may be given now, and a snapshot taken. */
  get atInputPoint(): boolean {
    return this.inputPoint;
  }

  /** Hand buffered console output to the host; what it was shown before (a replay) is not shown again. */
  flushConsole(): void {
    this.uart.flush();
    if (this.consoleOut.length === 0) return;
    const bytes = Uint8Array.from(this.consoleOut);
    this.consoleOut = [];
    const seen = Math.min(bytes.length, Math.max(0, this.consoleShown - this.consoleBytes));
    this.consoleBytes += bytes.length;
    this.consoleShown = Math.max(this.consoleShown, this.consoleBytes);
    if (seen < bytes.length) this.cfg.console(bytes.subarray(seen));
  }

  /** The machine's state but RAM (console output is flushed first). */
  save(): MachineState {
    this.flushConsole();
    return {
      cpu: this.cpu.save(),
      devices: this.stateful.map((d) => d.save()),
      power: this.power,
      sbiConsoleIn: this.sbiConsoleIn,
      sbiInput: this.sbiInput.slice(),
      consoleBytes: this.consoleBytes,
      atInputPoint: this.inputPoint,
    };
  }

  /** Put back a saved state (RAM is the recording's to put back). */
  restore(s: MachineState): void {
    this.consoleOut = [];
    this.cpu.restore(s.cpu);
    this.stateful.forEach((d, i) => d.restore(s.devices[i]));
    this.power = s.power;
    this.sbiConsoleIn = s.sbiConsoleIn;
    this.sbiInput = s.sbiInput.slice();
    this.consoleBytes = s.consoleBytes;
    this.inputPoint = s.atInputPoint;
    this.stopRequested = false;
  }

  /** The machine powered off or reset (it does not run again). */
  get powerState(): PowerEvent | undefined {
    return this.power;
  }

  /**
   * Run up to `maxInstructions`. With `skipIdle`, a hart idling in WFI jumps straight to its next timer deadline
   * (deterministic: guest time is the instruction count); otherwise run() returns 'idle' and the caller waits.
   */
  run(maxInstructions: number, skipIdle: boolean): MachineStop {
    const cpu = this.cpu,
      clint = this.clint;
    const end = cpu.retired() + maxInstructions;
    for (;;) {
      if (this.power) return { kind: 'power', event: this.power };
      if (this.stopRequested) {
        this.stopRequested = false;
        return { kind: 'halted' };
      }
      const observer = this.observer;
      if (observer && this.inputPoint) observer.atInputPoint();
      const left = end - cpu.retired();
      if (left <= 0) return { kind: 'budget' };
      let slice = Math.min(left, SLICE, Math.max(1, clint.untilDeadline()));
      // a recording's next stop is reached at an input point; from elsewhere, one instruction gets to one
      if (observer) slice = Math.min(slice, Math.max(1, observer.nextStop() - cpu.retired()));
      const stop = cpu.run(slice);
      this.inputPoint = stop !== Stop.Breakpoint;
      clint.tick();
      this.flushConsole();
      if (this.power) return { kind: 'power', event: this.power };
      switch (stop) {
        case Stop.Breakpoint:
          return { kind: 'breakpoint' };
        case Stop.Watchpoint:
          return { kind: 'watchpoint' };
        case Stop.Halted:
          this.stopRequested = false;
          return { kind: 'halted' };
        case Stop.Idle: {
          const ticks = clint.untilDeadline() / INSTRUCTIONS_PER_TICK;
          // a replay skips ahead as the recorded run did (that run's real-time waits were recorded as time input)
          const waitForHost = !skipIdle && (observer?.live ?? true);
          if (waitForHost || ticks === Infinity) return { kind: 'idle', ticks };
          observer?.atInputPoint(); // input at this instruction comes before the skip, as in the recorded run
          clint.skipToDeadline();
          this.inputPoint = false;
          break;
        }
        default:
      }
    }
  }

  /** Release what the machine holds on the host (disk files). */
  close(): void {
    for (const d of this.disks) d.close();
  }
}
