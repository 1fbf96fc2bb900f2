// Time travel on the rv64 machine, on the RISC-V fixture's boot (Linux 6.1 + kwb's test init, built-in SBI), in
// process: the recording's cost on the whole boot against the same boot unrecorded (interleaved, medians of 3), the
// memory it keeps, the latency of a step back and of a continue back over 1M instructions (against running those
// 1M forward), and a continue back across the whole boot to a breakpoint at start_kernel (against the forward run
// of the same stretch with the same breakpoint), and from the end of the boot back to the write of a variable (against
// the boot forward to that write). Run alone with `npx tsx bench/rv64-reverse.ts`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { warmUp } from '../engine/rv64/cpu/warmup';
import { parseKernelImage } from '../engine/rv64/kernel-image';
import { Machine } from '../engine/rv64/machine';
import { Recording } from '../engine/rv64/recording';
import { TimeTravel } from '../engine/rv64/reverse';
import { rv64Fixture, rv64QemuSkipReason } from '../test/helpers/rv64';
import { median, type BenchRow } from './row';

const RUNS = 3;
const APPEND = 'console=ttyS0 earlycon=sbi';

function machine(image: Uint8Array, initrd: Uint8Array): Machine {
  return new Machine({
    kernel: parseKernelImage(image),
    initrd,
    bootargs: APPEND,
    memBytes: 256 << 20,
    console: () => {},
  });
}

/** Seconds to boot to poweroff, recorded or not; the machine and its recording are returned for further use. */
function boot(image: Uint8Array, initrd: Uint8Array, record: boolean) {
  const m = machine(image, initrd);
  const recording = record ? new Recording(m) : undefined;
  const t0 = performance.now();
  while (m.run(50_000_000, true).kind !== 'power') {
    /* until poweroff */
  }
  return { seconds: (performance.now() - t0) / 1000, m, recording };
}

/** The kernel's symbols from its System.map (address, type, name per line), as the CPU's pc holds them (signed). */
function systemMap(path: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const [addr, , name] = line.split(' ');
    if (addr && name) out.set(name, Number(BigInt.asIntN(64, BigInt(`0x${addr}`))));
  }
  return out;
}

const ms = (t0: number) => performance.now() - t0;
const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

export async function benchRv64Reverse(): Promise<BenchRow[]> {
  const skip = rv64QemuSkipReason();
  if (skip) throw new Error(skip);
  const { image: imagePath, initramfs, tree } = rv64Fixture();
  const image = readFileSync(imagePath);
  const initrd = readFileSync(initramfs);
  warmUp();
  const plain: number[] = [];
  const recorded: number[] = [];
  let last: ReturnType<typeof boot> | undefined;
  for (let i = 0; i < RUNS; i++) {
    plain.push(boot(image, initrd, false).seconds);
    last = boot(image, initrd, true);
    recorded.push(last.seconds);
  }
  const { m, recording } = last!;
  const info = recording!.info();
  const travel = new TimeTravel(m, recording!);
  const end = m.cpu.retired();

  // steps back from mid-boot, then running 1M instructions forward as their reference
  const from = Math.floor(end / 2);
  await travel.goTo(from);
  let t0: number;
  const steps: number[] = [];
  for (let i = 0; i < 20; i++) {
    t0 = performance.now();
    await travel.stepBack();
    steps.push(ms(t0));
  }
  await travel.goTo(from - 1_000_000);
  t0 = performance.now();
  m.cpu.setDebugStops(false);
  while (m.cpu.retired() < from) m.run(from - m.cpu.retired(), true);
  const forward1M = ms(t0);
  const symbols = systemMap(join(tree, 'System.map'));
  const startKernel = symbols.get('start_kernel');
  const banner = symbols.get('linux_banner');
  if (startKernel === undefined || banner === undefined) throw new Error('the fixture vmlinux lacks its symbols');
  m.cpu.setDebugStops(true);
  m.cpu.addBreakpoint(startKernel);
  // a watchpoint on what nothing writes (the banner): every access takes the checked path, as "who wrote this" does
  const watched = m.cpu.virtToPhys(BigInt(banner))!;
  m.cpu.addWatchpoint({ addr: watched, len: 8, read: false, write: true });
  await travel.goTo(from);
  t0 = performance.now();
  const back = await travel.continueBack(); // to start_kernel, early in the boot
  const backWhole = ms(t0);
  const stretch = from - m.cpu.retired();
  t0 = performance.now(); // the same stretch forward, the same stops set
  while (m.cpu.retired() < from) m.run(from - m.cpu.retired(), true);
  const forwardWhole = ms(t0);

  // the case: from the end of the boot back to the one assignment of saved_command_line (setup_command_line,
  // early in start_kernel), against the forward run from the start of the boot to it with the same watchpoint
  m.cpu.removeBreakpoint(startKernel);
  m.cpu.removeWatchpoint(watched, 8);
  const commandLine = symbols.get('saved_command_line');
  if (commandLine === undefined) throw new Error('the fixture vmlinux lacks saved_command_line');
  const commandLinePhys = m.cpu.virtToPhys(BigInt(commandLine))!;
  await travel.goTo(end - 1000);
  m.cpu.addWatchpoint({ addr: commandLinePhys, len: 8, read: false, write: true });
  t0 = performance.now();
  const toWrite = await travel.continueBack();
  const backToWrite = ms(t0);
  const writeAt = m.cpu.retired();
  m.cpu.setDebugStops(false);
  await travel.goTo(info.start);
  m.cpu.setDebugStops(true);
  t0 = performance.now();
  while (m.cpu.retired() <= writeAt) if (m.run(writeAt + 1 - m.cpu.retired(), true).kind === 'power') break;
  const forwardToWrite = ms(t0);

  return [
    {
      name: 'rv64 time travel: recording the fixture boot (in-process, to poweroff)',
      value: round(median(recorded)),
      unit: 's',
      reference: round(median(plain)),
      ratio: round(median(recorded) / median(plain)),
      goal: 'ratio <= 1.3',
      note: `recording on vs off, interleaved, medians of ${RUNS}; ${(end / 1e6).toFixed(1)}M instructions`,
    },
    {
      name: 'rv64 time travel: memory the recording of that boot keeps',
      value: round(info.bytes / 2 ** 20, 1),
      unit: 'MiB',
      note: `${info.snapshots} snapshots (every 1M instructions), 256 MiB guest, cap ${info.capBytes / 2 ** 20} MiB`,
    },
    {
      name: 'rv64 time travel: reverse-stepi latency (20 in a row, mid-boot)',
      value: round(median(steps), 1),
      unit: 'ms',
      reference: round(forward1M, 1),
      note: 'median; reference: running 1M instructions forward (a snapshot interval)',
    },
    {
      name: 'rv64 time travel: reverse-continue from mid-boot back to start_kernel (a breakpoint and a watchpoint set)',
      value: round(backWhole / 1000),
      unit: 's',
      reference: round(forwardWhole / 1000),
      ratio: round(backWhole / forwardWhole),
      goal: 'ratio <= 2',
      note: `${(stretch / 1e6).toFixed(1)}M instructions back, stopped at a ${back.kind}; reference: that stretch forward, same stops`,
    },
    {
      name: 'rv64 time travel: reverse-continue from the end of the boot to the write of a variable (saved_command_line)',
      value: round(backToWrite / 1000),
      unit: 's',
      reference: round(forwardToWrite / 1000),
      ratio: round(backToWrite / forwardToWrite),
      goal: 'ratio <= 2',
      note: `${((end - 1000 - writeAt) / 1e6).toFixed(1)}M instructions back to instruction ${writeAt}, stopped at a ${toWrite.kind}; reference: the boot forward from its start to that write, same watchpoint`,
    },
  ];
}

if (require.main === module) void benchRv64Reverse().then((rows) => console.table(rows));
