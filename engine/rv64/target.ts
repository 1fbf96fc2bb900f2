// The rv64 machine as a gdb stub Target: registers (x, pc, f, CSRs, privilege level), memory through the current
// translation or physical, PC-match breakpoints and any number of watchpoints (no memory is ever patched), single
// step and interrupt. One hart: one thread.
import {
  RV_FIRST_CSR,
  RV_FIRST_FP,
  RV_PC,
  RV_PRIV,
  riscv64TargetXml,
  rvRegisterSize,
} from '../../gdbstub/arch/riscv64.js';
import {
  Refused,
  type AddressSpace,
  type BreakpointType,
  type ResumeAction,
  type StopReason,
  type Target,
  type ThreadInfo,
} from '../../gdbstub/target.js';
import type { MachineControl } from './guest.js';
import type { MachineStop } from './machine.js';
import { TimeTravel, type ReverseStop } from './reverse.js';

const SIGINT = 2;
const SIGTRAP = 5;
const HART_THREAD = 1;
const PAGE = 4096;

interface Watch {
  vaddr: bigint;
  paddr: number;
  len: number;
  type: 2 | 3 | 4;
}

const MONITOR_HELP = [
  'rv64 machine:',
  '  phys on|off          gdb memory accesses use physical addresses (on) or the current translation (off)',
  '  info machine         memory layout, privilege level, instructions retired',
  "  when                 the instruction count (the machine's time)",
  '  record info          what the recording for reverse execution holds, and the memory it uses',
  '  record clear         forget the recorded history: reverse execution starts here',
].join('\n');

export class Rv64Target implements Target {
  readonly arch = 'riscv64' as const;
  private stop: StopReason = { kind: 'interrupt', thread: HART_THREAD, signal: SIGTRAP };
  private readonly watches: Watch[] = [];
  private physical = false;
  readonly reverseExecution: boolean;
  private readonly timeTravel: TimeTravel | undefined;

  constructor(private readonly control: MachineControl) {
    const recording = control.recording;
    this.timeTravel = recording && new TimeTravel(control.machine, recording);
    this.reverseExecution = !!recording;
  }

  /** A change the debugger made: the recording keeps it (and drops a recorded future that no longer follows). */
  private wrote(): void {
    this.control.recording?.debuggerWrote();
  }

  private get cpu() {
    return this.control.machine.cpu;
  }

  targetXml(annex: string): string | undefined {
    return riscv64TargetXml(annex);
  }

  async readRegisters(): Promise<Uint8Array> {
    const out = new Uint8Array(33 * 8);
    const view = new DataView(out.buffer);
    for (let r = 0; r < 32; r++) view.setBigUint64(r * 8, this.cpu.getX(r), true);
    view.setBigUint64(RV_PC * 8, this.cpu.getPc(), true);
    return out;
  }

  async readRegister(_thread: number, regno: number): Promise<Uint8Array | undefined> {
    const size = rvRegisterSize(regno);
    const value = this.registerValue(regno);
    if (size === undefined || value === undefined) return undefined;
    const out = new Uint8Array(size);
    const view = new DataView(out.buffer);
    if (size === 4) view.setUint32(0, Number(value & 0xffffffffn), true);
    else view.setBigUint64(0, value, true);
    return out;
  }

  private registerValue(regno: number): bigint | undefined {
    const cpu = this.cpu;
    if (regno < 32) return cpu.getX(regno);
    if (regno === RV_PC) return cpu.getPc();
    if (regno < RV_FIRST_FP + 32) return cpu.getF(regno - RV_FIRST_FP);
    if (regno === RV_PRIV) return BigInt(cpu.priv);
    return cpu.readCsr(regno - RV_FIRST_CSR);
  }

  async writeRegister(_thread: number, regno: number, value: Uint8Array): Promise<void> {
    const size = rvRegisterSize(regno);
    if (size === undefined || value.length < size) throw new Error(`no register ${regno}`);
    const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
    const v = size === 4 ? BigInt(view.getUint32(0, true)) : view.getBigUint64(0, true);
    // gdb writes back what it read (a G of all registers after changing one): an unchanged value changes nothing,
    // and the recorded future still follows; nor does a write to x0, which is always 0
    if (regno === 0 || this.registerValue(regno) === v) return;
    const cpu = this.cpu;
    if (regno < 32) cpu.setX(regno, v);
    else if (regno === RV_PC) cpu.setPc(v);
    else if (regno < RV_FIRST_FP + 32) cpu.setF(regno - RV_FIRST_FP, v);
    else if (regno === RV_PRIV) {
      if (v > 3n || v === 2n) throw new Error('privilege level must be 0 (U), 1 (S) or 3 (M)');
      cpu.priv = Number(v);
      cpu.flushTlb();
    } else if (!cpu.writeCsr(regno - RV_FIRST_CSR, v))
      throw new Error(`cannot write CSR 0x${(regno - RV_FIRST_CSR).toString(16)}`);
    this.wrote();
  }

  async writeRegisters(_thread: number, data: Uint8Array): Promise<void> {
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const cpu = this.cpu;
    let changed = false;
    for (let r = 1; r < 32 && (r + 1) * 8 <= data.length; r++) {
      const v = view.getBigUint64(r * 8, true);
      if (cpu.getX(r) === v) continue;
      cpu.setX(r, v);
      changed = true;
    }
    const pc = data.length >= 33 * 8 ? view.getBigUint64(RV_PC * 8, true) : undefined;
    if (pc !== undefined && cpu.getPc() !== pc) {
      cpu.setPc(pc);
      changed = true;
    }
    if (changed) this.wrote();
  }

  async readMemory(addr: bigint, len: number, space?: AddressSpace): Promise<Uint8Array> {
    const phys = (space ?? (this.physical ? 'physical' : 'virtual')) === 'physical';
    // page by page: gdb wants every byte up to the first unreadable one
    const parts: Uint8Array[] = [];
    let done = 0;
    while (done < len) {
      const at = addr + BigInt(done);
      const chunk = Math.min(len - done, PAGE - Number(BigInt.asUintN(12, at)));
      const bytes = phys ? this.cpu.readPhys(Number(at), chunk) : this.cpu.readVirt(at, chunk);
      if (!bytes) break;
      parts.push(bytes);
      done += chunk;
    }
    if (done === 0) throw new Error(`cannot access memory at 0x${addr.toString(16)}`);
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  async writeMemory(addr: bigint, data: Uint8Array, space?: AddressSpace): Promise<void> {
    const phys = (space ?? (this.physical ? 'physical' : 'virtual')) === 'physical';
    const written = phys ? this.cpu.writePhys(Number(addr), data) : this.cpu.writeVirt(addr, data);
    // a write that failed at its first byte changed nothing: the recorded future still follows
    if (written > 0) this.wrote();
    if (written < data.length) throw new Error(`cannot write memory at 0x${addr.toString(16)}`);
  }

  async insertBreakpoint(type: BreakpointType, addr: bigint, kind: number): Promise<boolean> {
    if (type <= 1) {
      this.cpu.addBreakpoint(Number(BigInt.asIntN(64, addr)));
      return true;
    }
    const paddr = this.cpu.virtToPhys(addr, type === 2);
    if (paddr === undefined) throw new Error(`0x${addr.toString(16)} is not mapped: cannot watch it`);
    const w: Watch = { vaddr: addr, paddr, len: kind, type: type as Watch['type'] };
    this.watches.push(w);
    this.cpu.addWatchpoint({ addr: paddr, len: kind, read: type !== 2, write: type !== 3 });
    return true;
  }

  async removeBreakpoint(type: BreakpointType, addr: bigint, kind: number): Promise<boolean> {
    if (type <= 1) {
      this.cpu.removeBreakpoint(Number(BigInt.asIntN(64, addr)));
      return true;
    }
    const i = this.watches.findIndex((w) => w.vaddr === addr && w.len === kind && w.type === type);
    if (i < 0) return true;
    const [w] = this.watches.splice(i, 1);
    this.cpu.removeWatchpoint(w!.paddr, w!.len);
    return true;
  }

  async resume(action: ResumeAction): Promise<StopReason> {
    if (action.reverse) {
      if (!this.timeTravel) throw new Refused('this guest keeps no recording: it cannot run backwards');
      const stop = action.step ? await this.timeTravel.stepBack() : await this.timeTravel.continueBack();
      this.stop = this.reverseStopReason(stop);
      return this.stop;
    }
    const stop = action.step ? this.control.machine.run(1, true) : await this.control.resume();
    this.stop = this.stopReason(stop, action.step);
    return this.stop;
  }

  private reverseStopReason(stop: ReverseStop): StopReason {
    switch (stop.kind) {
      case 'breakpoint':
      case 'halted':
        return this.stopReason(stop, false);
      case 'watchpoint':
        return this.watchStop(stop.hit);
      case 'history-start':
        return { kind: 'step', thread: HART_THREAD, signal: SIGTRAP, replayLog: 'begin' };
      default:
        return { kind: 'step', thread: HART_THREAD, signal: SIGTRAP };
    }
  }

  private watchStop(hit: { addr: number } | undefined): StopReason {
    const w = hit && this.watches.find((x) => hit.addr >= x.paddr && hit.addr < x.paddr + x.len);
    const watch = w?.type === 2 ? 'write' : w?.type === 3 ? 'read' : 'access';
    const address = w ? w.vaddr + BigInt(hit!.addr - w.paddr) : undefined;
    return { kind: 'watchpoint', thread: HART_THREAD, signal: SIGTRAP, address, watch };
  }

  private stopReason(stop: MachineStop, stepped: boolean): StopReason {
    const pc = this.cpu.getPc();
    switch (stop.kind) {
      case 'power':
        return { kind: 'exited', thread: HART_THREAD, exitCode: stop.event.kind === 'fail' ? stop.event.code : 0 };
      case 'breakpoint':
        return { kind: 'breakpoint', thread: HART_THREAD, signal: SIGTRAP, address: pc };
      case 'watchpoint':
        return this.watchStop(this.cpu.watchHit);
      case 'halted':
        return { kind: 'interrupt', thread: HART_THREAD, signal: SIGINT };
      default:
        return { kind: stepped ? 'step' : 'signal', thread: HART_THREAD, signal: SIGTRAP };
    }
  }

  interrupt(): void {
    this.control.interrupt();
  }

  lastStop(): StopReason {
    return this.stop;
  }

  async threads(): Promise<ThreadInfo[]> {
    return [{ id: HART_THREAD, name: 'hart 0', extra: `hart 0, ${'USHM'[this.cpu.priv]}-mode` }];
  }

  async monitor(command: string): Promise<string | undefined> {
    const words = command.trim().split(/\s+/);
    if (command === 'help') return MONITOR_HELP;
    if (words[0] === 'phys' && (words[1] === 'on' || words[1] === 'off')) {
      this.physical = words[1] === 'on';
      return `memory accesses are ${this.physical ? 'physical' : 'virtual (current translation)'}\n`;
    }
    if (command === 'when') return `${this.cpu.retired()}\n`;
    if (command === 'record info') {
      const r = this.control.recording?.info();
      if (!r) return 'no recording: this guest cannot run backwards\n';
      const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
      return (
        `recorded instructions ${r.start}-${r.end} (now ${this.cpu.retired()}), ${r.snapshots} snapshots, ` +
        `${r.inputs} inputs, memory used ${mib(r.bytes)} of ${mib(r.capBytes)}\n`
      );
    }
    if (command === 'record clear') {
      const recording = this.control.recording;
      if (!recording) return 'no recording: this guest cannot run backwards\n';
      recording.clear();
      return `recording history cleared: it starts at instruction ${this.cpu.retired()}\n`;
    }
    if (command === 'info machine') {
      const m = this.control.machine;
      const hex = (n: number) => `0x${n.toString(16)}`;
      return [
        `RAM ${hex(m.bus.ramBase)}-${hex(m.bus.ramEnd)}  kernel ${hex(m.layout.kernel)}  dtb ${hex(m.layout.dtb)}` +
          (m.layout.initrd ? `  initrd ${hex(m.layout.initrd.start)}-${hex(m.layout.initrd.end)}` : ''),
        `firmware ${m.builtinSbi ? 'kwb built-in SBI' : 'M-mode image'}  privilege ${'USHM'[m.cpu.priv]}  ` +
          `instructions ${m.cpu.retired()}  memory ${this.physical ? 'physical' : 'virtual'}`,
        '',
      ].join('\n');
    }
    return undefined;
  }

  async detach(): Promise<void> {}

  async kill(): Promise<void> {
    await this.control.kill();
  }
}
