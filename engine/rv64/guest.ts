// The rv64 engine's Guest: kwb's built-in RISC-V machine running inside this process, in bursts on the event loop
// (so the console, timers and the gdb stub stay responsive). The debugger target (target.ts) holds and releases it
// through MachineControl; the machine itself knows nothing of either.
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { kernelLogParams, stopsBeforeRoot, type BootOptions, type Guest } from '../guest.js';
import { makeTempDir, removeTempDir } from '../host.js';
import type { KernelInfo } from '../kernel.js';
import { checkNets, kernelIpParam, netSetups, type NetSetup } from '../net.js';
import { checkNetwork, startNetwork } from '../net-host.js';
import { PanicWatch } from '../panic.js';
import { ExitCode, KwbError, type GuestResult } from '../results.js';
import { parseRecord } from '../options.js';
import type { Target } from '../../gdbstub/target.js';
import { warmUp } from './cpu/warmup.js';
import { InputLog } from './input-log.js';
import { parseKernelImage } from './kernel-image.js';
import { Machine, type MachineStop } from './machine.js';
import { connectNic, type NicLink } from './nic-link.js';
import { ConsoleHash, writeRecordFile, type BootMedia, type RecordedEnd } from './record-file.js';
import { Recording } from './recording.js';
import { Rv64Target } from './target.js';
import { TIMEBASE_HZ } from './virt.js';

/** Run the machine this long before letting the event loop in. */
const BURST_MS = 20;
const BURST_INSTRUCTIONS = 2_000_000;
/** After a panic message, let the kernel finish printing its trace for this many instructions. */
const PANIC_TAIL_INSTRUCTIONS = 50_000_000;

/** How a guest's run is kept besides running it. */
export interface RunKeeping {
  /** The recording a debugger goes back through. */
  recording?: Recording;
  /** Called once when the guest has ended, with how (a recording file is written, a replay compared). */
  ended?: (end: RecordedEnd) => string;
  /** End the guest at this instruction count, if it has not ended by then (the replay of a run stopped there). */
  endAt?: number;
}

/** How the debugger drives the machine: it runs only between resume() and the stop that settles it. */
export interface MachineControl {
  readonly machine: Machine;
  /** The recording for reverse execution, when the guest keeps one. */
  readonly recording: Recording | undefined;
  /** Run until something stops the machine for the debugger (breakpoint, watchpoint, interrupt, power). */
  resume(): Promise<MachineStop>;
  /** Stop a running machine soon (resume() then settles with 'halted'). */
  interrupt(): void;
  /** End the guest (gdb's kill). */
  kill(): Promise<void>;
}

export class Rv64Guest implements Guest, MachineControl {
  readonly engine = 'rv64' as const;
  readonly output = new PassThrough();
  readonly input: Writable;
  private readonly panic = new PanicWatch();
  private panicAt: number | undefined;
  private result: GuestResult | undefined;
  private readonly done: Promise<GuestResult>;
  private settle!: (r: GuestResult) => void;
  /** Held for the debugger: it runs again on resume(). */
  private held: boolean;
  private pendingResume: ((stop: MachineStop) => void) | undefined;
  private wakeLoop: (() => void) | undefined;
  private readonly timer: NodeJS.Timeout | undefined;
  private target: Rv64Target | undefined;
  readonly recording: Recording | undefined;
  private readonly consoleHash: ConsoleHash | undefined;
  private note: string | undefined;

  constructor(
    readonly kernel: KernelInfo,
    readonly machine: Machine,
    private readonly opts: BootOptions,
    private readonly realtimeIdle: boolean,
    private readonly keeping: RunKeeping = {},
    /** The guest's network on the host (plug, NAT), stopped when the guest ends. */
    private readonly network?: { stop(): Promise<void> },
  ) {
    this.held = !!opts.debug;
    this.recording = keeping.recording;
    if (keeping.ended) this.consoleHash = new ConsoleHash();
    this.input = new Writable({
      write: (chunk: Buffer, _enc, cb) => {
        machine.input(chunk);
        this.wake();
        cb();
      },
    });
    this.done = new Promise((r) => (this.settle = r));
    if (opts.timeoutSec && opts.timeoutSec > 0)
      this.timer = setTimeout(() => void this.stop('timeout'), opts.timeoutSec * 1000);
    void this.loop();
  }

  /** Console bytes from the machine. */
  consoleOutput(bytes: Uint8Array): void {
    const chunk = Buffer.from(bytes);
    this.consoleHash?.update(chunk);
    this.panic.feed(chunk);
    if (this.panic.message && this.panicAt === undefined) this.panicAt = this.machine.cpu.retired();
    this.output.write(chunk);
  }

  /** A frame from the network for interface `nic`: it may wake an idle hart. */
  frameArrived(nic: number, frame: Uint8Array): void {
    if (this.result) return;
    this.machine.receiveFrame(nic, frame);
    this.wake();
  }

  private wake(): void {
    const w = this.wakeLoop;
    this.wakeLoop = undefined;
    w?.();
  }

  /** Wait for input, a resume or a stop; at most `ms` when given. Returns the milliseconds waited. */
  private async pause(ms?: number): Promise<number> {
    const t0 = performance.now();
    await new Promise<void>((r) => {
      const t = ms === undefined ? undefined : setTimeout(r, ms);
      this.wakeLoop = () => {
        if (t) clearTimeout(t);
        r();
      };
    });
    return performance.now() - t0;
  }

  private async loop(): Promise<void> {
    const m = this.machine;
    await nextTurn(); // start once the caller holds the guest (its console goes to guest.output)
    while (!this.result) {
      if (this.held) {
        await this.pause();
        continue;
      }
      const endAt = this.keeping.endAt ?? Infinity;
      if (m.cpu.retired() >= endAt) {
        this.finish(
          this.panicAt !== undefined
            ? { kind: 'panic', detail: this.panic.message }
            : { kind: 'killed', detail: 'the recording ends here' },
        );
        break;
      }
      const t0 = performance.now();
      let stop: MachineStop;
      do stop = m.run(Math.min(BURST_INSTRUCTIONS, endAt - m.cpu.retired()), !this.realtimeIdle);
      while (stop.kind === 'budget' && m.cpu.retired() < endAt && performance.now() - t0 < BURST_MS);
      if (
        this.panicAt !== undefined &&
        !this.opts.debug &&
        endAt === Infinity && // a replay ends where the recorded run did
        (stop.kind === 'idle' || m.cpu.retired() - this.panicAt > PANIC_TAIL_INSTRUCTIONS)
      ) {
        this.finish({ kind: 'panic', detail: this.panic.message });
        break;
      }
      switch (stop.kind) {
        case 'power':
          this.stopped(stop);
          this.finish(
            stop.event.kind === 'fail'
              ? { kind: 'exited', code: stop.event.code || 1 }
              : stop.event.kind === 'reset'
                ? { kind: 'exited', code: 0, detail: 'the guest rebooted' }
                : { kind: 'exited', code: 0 },
          );
          break;
        case 'breakpoint':
        case 'watchpoint':
        case 'halted':
          if (this.pendingResume) {
            this.held = true;
            this.stopped(stop);
          }
          break;
        case 'idle': {
          if (stop.ticks === Infinity) {
            await this.pause();
            break;
          }
          // an interactive guest idles in real time (a `sleep 1` takes a second); elsewhere run() skipped ahead
          const waited = await this.pause((stop.ticks / TIMEBASE_HZ) * 1000);
          m.advanceTime(Math.round((waited / 1000) * TIMEBASE_HZ));
          break;
        }
        default:
      }
      await nextTurn();
    }
  }

  private stopped(stop: MachineStop): void {
    const r = this.pendingResume;
    this.pendingResume = undefined;
    r?.(stop);
  }

  resume(): Promise<MachineStop> {
    if (this.result) return Promise.resolve({ kind: 'power', event: { kind: 'poweroff', code: 0 } });
    return new Promise((r) => {
      this.pendingResume = r;
      this.held = false;
      this.wake();
    });
  }

  interrupt(): void {
    this.machine.requestStop();
    this.wake();
  }

  async kill(): Promise<void> {
    await this.stop('killed by gdb');
  }

  private finish(result: GuestResult): void {
    if (this.result) return;
    this.result = result;
    if (this.timer) clearTimeout(this.timer);
    this.machine.flushConsole();
    if (this.keeping.ended) {
      const instructions = this.machine.cpu.retired();
      this.note = this.keeping.ended({ instructions, result, console: this.consoleHash!.digest() });
    }
    this.output.end();
    this.machine.close();
    this.stopped({ kind: 'power', event: { kind: 'poweroff', code: 0 } });
    this.wake();
    // a debugger waiting on resume() gets its answer (gdb's "exited") out before the guest counts as gone, and
    // the guest is over only when its network is
    setImmediate(() => void (this.network?.stop() ?? Promise.resolve()).finally(() => this.settle(result)));
  }

  endNote(): string | undefined {
    return this.note;
  }

  wait(): Promise<GuestResult> {
    return this.done;
  }

  async stop(reason = 'killed'): Promise<GuestResult> {
    this.finish(
      reason === 'timeout'
        ? { kind: 'timeout', detail: 'the guest did not finish within the timeout' }
        : { kind: 'killed', detail: reason === 'killed' ? 'stopped by kwb' : reason },
    );
    return this.done;
  }

  async debugChannel(): Promise<{ kind: 'target'; target: Target }> {
    if (!this.opts.debug) throw new Error('this guest was not started for debugging (BootOptions.debug)');
    this.target ??= new Rv64Target(this);
    return { kind: 'target', target: this.target };
  }
}

const MEM_UNITS: Record<string, number> = { '': 1, K: 1 << 10, M: 1 << 20, G: 1 << 30 };

function memBytes(text: string | undefined): number {
  const m = /^(\d+)([KMG]?)$/i.exec(text ?? '256M');
  if (!m) throw new KwbError(`--mem ${text}: give a size like 256M or 1G`);
  const bytes = Number(m[1]) * MEM_UNITS[m[2]!.toUpperCase()]!;
  if (bytes < 16 << 20 || bytes > 2 ** 31) throw new KwbError(`--mem ${text}: the rv64 machine takes 16M to 2G`);
  return Math.floor(bytes / 4096) * 4096;
}

/** A readable regular file, or a one-line error that says which input is wrong. */
function checkFile(path: string, what: string): void {
  let isFile: boolean;
  try {
    isFile = statSync(path).isFile();
  } catch (err) {
    throw new KwbError(`cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? err}; check the path`);
  }
  if (!isFile) throw new KwbError(`${what} ${path} is not a file`);
}

function readInput(path: string, what: string): Uint8Array {
  checkFile(path, what);
  return readFileSync(path);
}

/** Start a guest of `media` (a boot, or the replay of a recording file). */
export function startMachine(
  info: KernelInfo,
  media: BootMedia,
  opts: BootOptions,
  keeping: (machine: Machine) => RunKeeping,
  network?: HostNetwork,
): Rv64Guest {
  warmUp();
  // the machine's console writes and network frames reach the guest object made right after it
  const sink: { guest?: Rv64Guest } = {};
  let machine: Machine;
  try {
    machine = new Machine({
      kernel: parseKernelImage(media.kernel.bytes),
      initrd: media.initrd?.bytes,
      firmware: media.firmware?.bytes,
      bootargs: media.bootargs,
      memBytes: media.memBytes,
      disks: opts.disk ? [opts.disk] : [],
      nics: network?.nics,
      console: (bytes) => sink.guest?.consoleOutput(bytes),
    });
  } catch (err) {
    throw new KwbError((err as Error).message, ExitCode.couldNotTest);
  }
  // a networked guest idles in real time: its peers' packets and its TCP timers run on the same clock
  const realtimeIdle = opts.console === 'terminal' || network !== undefined;
  sink.guest = new Rv64Guest(info, machine, opts, realtimeIdle, keeping(machine), network);
  network?.attach(sink.guest);
  return sink.guest;
}

/** A guest's network on the host: the plug (and the NAT) started, one link per interface. */
interface HostNetwork {
  nics: { mac: string; transmit: (frame: Uint8Array) => void }[];
  /** Frames from the links go to `guest` from now on. */
  attach(guest: Rv64Guest): void;
  stop(): Promise<void>;
}

async function startHostNetwork(opts: BootOptions, setups: NetSetup[]): Promise<HostNetwork> {
  const session = makeTempDir('rv64');
  const links: NicLink[] = [];
  let hostNet: Awaited<ReturnType<typeof startNetwork>> | undefined;
  let guest: Rv64Guest | undefined;
  const stop = async () => {
    links.forEach((l) => l.close());
    await hostNet?.stop();
    removeTempDir(session);
  };
  try {
    const nets = opts.net ?? [];
    hostNet = await startNetwork({ nets, setups, pcap: opts.pcap && resolve(opts.pcap), session, stream: true });
    for (const [i, control] of hostNet.controls.entries()) {
      links.push(await connectNic(control, (frame) => guest?.frameArrived(i, frame)));
    }
  } catch (err) {
    await stop();
    throw err instanceof KwbError ? err : new KwbError((err as Error).message, ExitCode.couldNotTest);
  }
  return {
    nics: setups.map((s, i) => ({ mac: s.mac, transmit: (frame) => links[i]!.send(frame) })),
    attach: (g) => (guest = g),
    stop,
  };
}

export async function startRv64(opts: BootOptions, info: KernelInfo): Promise<Rv64Guest> {
  if (opts.rootfs || opts.share?.length) {
    throw new KwbError('the rv64 engine has no host filesystem: use --initrd FILE (a cpio archive) or --disk IMG');
  }
  if (opts.command?.length) {
    throw new KwbError(
      "the rv64 engine runs your own init (--initrd or --disk); kwb's command runner is UML-only for now: use kwb boot",
    );
  }
  if (!opts.initrd && !opts.disk && !stopsBeforeRoot(opts)) {
    throw new KwbError('the rv64 engine needs a root filesystem: pass --initrd FILE (a cpio archive) or --disk IMG');
  }
  const record = opts.record === undefined ? undefined : parseRecord(opts.record);
  const saveTo = typeof record === 'object' ? record.file : undefined;
  if (saveTo && opts.debug)
    throw new KwbError(
      '--record FILE saves a run to debug later (kwb replay FILE --gdb); with --gdb, give --record SIZE or off',
    );
  if (saveTo && opts.disk)
    throw new KwbError(
      '--record FILE cannot save a run with --disk yet (the image would go in the file): use --initrd',
    );
  const file = (path: string, what: string) => ({ name: path, bytes: readInput(path, what) });
  const kernelLog = opts.kernelLog ?? 'all';
  const nets = opts.net ?? [];
  checkNets(nets, opts.pcap);
  const setups = netSetups(nets);
  // the user's init runs, not kwb's: the kernel addresses the interface itself (ip=), and it can address only one
  const addressed = setups.filter((s) => s.address);
  if (addressed.length > 1) {
    throw new KwbError(
      `--net: kwb gives an address to one rv64 interface (the kernel's ip= parameter), not to ${addressed.map((s) => s.device).join(' and ')}; drop ip= from the others and configure them in your init`,
    );
  }
  if (saveTo && nets.length)
    throw new KwbError('--record FILE cannot save a networked run yet (its peers are not in the file): drop --net');
  const media: BootMedia = {
    kernel: file(opts.kernel, 'kernel'),
    initrd: opts.initrd ? file(opts.initrd, 'initramfs') : undefined,
    firmware: opts.bios && opts.bios !== 'none' ? file(opts.bios, 'firmware') : undefined,
    bootargs: withKernelParams(
      ['console=ttyS0', 'earlycon=sbi', ...kernelLogParams(kernelLog), ...(opts.append ?? [])].join(' '),
      addressed.map(kernelIpParam),
    ),
    memBytes: memBytes(opts.mem),
  };
  if (opts.disk) checkFile(opts.disk, 'disk image');
  await checkNetwork(nets);
  const network = nets.length ? await startHostNetwork(opts, setups) : undefined;
  try {
    return startMachine(
      info,
      media,
      opts,
      (machine) => {
        // a debugged guest is recorded from its first instruction, so gdb can go back to anything it ran
        if (opts.debug && record !== 'off')
          return { recording: new Recording(machine, { capBytes: typeof record === 'number' ? record : undefined }) };
        if (!saveTo) return {};
        const log = new InputLog(machine);
        const symbols = info.vmlinux ? { vmlinux: info.vmlinux, buildId: info.buildId } : undefined;
        return {
          ended: (end) => {
            try {
              const size = writeRecordFile(saveTo, { media, symbols, inputs: log.inputs, end });
              return (
                `recorded ${end.instructions} instructions and ${log.inputs.length} inputs in ${saveTo} ` +
                `(${(size / 2 ** 20).toFixed(1)} MiB); replay it with kwb replay ${saveTo} --gdb :1234`
              );
            } catch (err) {
              return `could not save the recording in ${saveTo}: ${(err as NodeJS.ErrnoException).code ?? err}`;
            }
          },
        };
      },
      network,
    );
  } catch (err) {
    await network?.stop();
    throw err;
  }
}

/** The command line with `params` for the kernel itself: before a `--`, after which the kernel hands every word to
 *  init (where an ip= would configure nothing). */
export function withKernelParams(cmdline: string, params: string[]): string {
  const words = cmdline.split(/\s+/).filter(Boolean);
  const initArgs = words.indexOf('--');
  const at = initArgs < 0 ? words.length : initArgs;
  return [...words.slice(0, at), ...params, ...words.slice(at)].join(' ');
}
