// Run a bare-metal RISC-V ELF (riscv-tests style): load at physical addresses, start in M-mode at the entry, report
// through HTIF tohost. RAM starts at the lowest loaded page (at most 0x80000000) and extends 64 MiB past the image.
import { readFile } from 'node:fs/promises';
import { MemoryBus } from './bus.js';
import { Cpu, Stop } from './cpu/cpu.js';
import { warmUp } from './cpu/warmup.js';
import { CLINT_BASE, CLINT_SIZE, Clint } from './devices/clint.js';
import { Htif } from './devices/htif.js';
import { elfExtent, loadElf, parseElf } from './loader.js';

export interface BareMetalOptions {
  maxInstructions?: number;
  timeoutSec?: number;
  /** Compile hot code into JS functions (default true); false runs everything through the interpreter. */
  jit?: boolean;
  /** Interpreted executions before code is compiled (default: the CPU's; 1 compiles every block at once). */
  jitThreshold?: number;
  /** Where the program's HTIF console output goes (default: process.stdout). */
  output?: (bytes: Uint8Array) => void;
}

export interface BareMetalResult {
  /** tohost reported 1 (exit code 0). */
  passed: boolean;
  /** riscv-tests convention: the failing TESTNUM ((n << 1) | 1 written to tohost). */
  failedTest?: number;
  /** The program's exit code (tohost >> 1); 124 when it did not finish (limit, timeout or a hang in WFI). */
  exitCode: number;
  instructions: number;
  seconds: number;
  /** Why it stopped without reporting, when it did. */
  detail?: string;
}

const SLICE = 200_000;

export async function runBareMetal(elfPath: string, opts: BareMetalOptions = {}): Promise<BareMetalResult> {
  const img = parseElf(new Uint8Array(await readFile(elfPath)));
  return runBareMetalImage(img, opts);
}

export function runBareMetalImage(img: ReturnType<typeof parseElf>, opts: BareMetalOptions = {}): BareMetalResult {
  warmUp();
  const ext = elfExtent(img);
  if (!Number.isFinite(ext.lo)) throw new Error('ELF has no loadable segments');
  const ramBase = Math.min(0x80000000, ext.lo - (ext.lo % 4096));
  const ramSize = Math.ceil((ext.hi - ramBase + 64 * 1024 * 1024) / 4096) * 4096;
  const bus = new MemoryBus(ramBase, ramSize);
  loadElf(img, bus);
  const cpu = new Cpu(bus);
  cpu.jitEnabled = opts.jit ?? true;
  if (opts.jitThreshold !== undefined) cpu.jitThreshold = opts.jitThreshold;
  const out = opts.output ?? ((b: Uint8Array) => process.stdout.write(b));
  let exit: number | undefined;
  const tohost = img.symbols.get('tohost');
  if (tohost !== undefined) {
    const fromhost = img.symbols.get('fromhost');
    const base = tohost - (tohost % 4096);
    const end = Math.max(tohost + 8, (fromhost ?? tohost) + 8);
    const htif = new Htif(
      bus,
      base,
      tohost,
      fromhost,
      (code) => {
        exit = code;
        cpu.requestStop();
      },
      out,
    );
    bus.map(base, Math.ceil((end - base) / 4096) * 4096, htif);
  }
  const clint = new Clint(cpu);
  bus.map(CLINT_BASE, CLINT_SIZE, clint);
  cpu.reset(img.entry);

  const max = opts.maxInstructions ?? 2_000_000_000;
  const deadline = performance.now() + (opts.timeoutSec ?? 60) * 1000;
  const t0 = performance.now();
  let detail: string | undefined;
  for (;;) {
    const left = max - cpu.retired();
    if (left <= 0) {
      detail = `instruction limit (${max}) reached`;
      break;
    }
    const slice = Math.min(left, SLICE, Math.max(1, clint.untilDeadline()));
    const stop = cpu.run(slice);
    clint.tick();
    if (exit !== undefined) break;
    if (stop === Stop.Idle && !clint.skipToDeadline()) {
      detail = 'hart idles in WFI with no timer armed';
      break;
    }
    if (performance.now() > deadline) {
      detail = `timeout after ${opts.timeoutSec ?? 60} s`;
      break;
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const instructions = cpu.retired();
  if (exit === undefined) return { passed: false, exitCode: 124, instructions, seconds, detail: detail ?? 'no result' };
  return exit === 0
    ? { passed: true, exitCode: 0, instructions, seconds }
    : { passed: false, failedTest: exit, exitCode: exit, instructions, seconds };
}
