// The UML engine: a User-mode Linux kernel run as a host process in a process group of its own, with kwb's root
// filesystem (or the user's), its console on pipes, and everything it creates on the host inside one temp dir.
import type { ChildProcess } from 'node:child_process';
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  watch,
  writeFileSync,
} from 'node:fs';
import { constants as os } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { Duplex, PassThrough, type Readable, type Writable } from 'node:stream';
import type { BootOptions, Guest } from '../guest.js';
import type { KernelInfo } from '../kernel.js';
import {
  adoptGroup,
  groupAlive,
  groupGone,
  killGroup,
  makeTempDir,
  releaseGroup,
  removeTempDir,
  spawnGroup,
  sweepDeadDirs,
} from '../host.js';
import { liveSessions } from '../sessions.js';
import { ExitCode, KwbError, type GuestResult } from '../results.js';
import { buildHostRoot, writeKwbDir } from '../rootfs/hostroot.js';
import { DEBIAN_ROOT, defaultDebianImage } from '../rootfs/debian.js';
import { umlArgv, type UmlRoot } from './argv.js';
import { confinedCommand, hostPid, namespacesRefused, unconfinedWarning, type Bind } from './confine.js';
import { LpjLearner, presetLpj, userSetLpj } from './lpj.js';
import { xstateShim } from './shim.js';
import { umlRelayFacts } from './debug.js';
import type { RelayFacts } from '../../gdbstub/index.js';
import { PanicWatch } from '../panic.js';
import { parseRecord } from '../options.js';
import { checkNets, netSetups } from '../net.js';
import { checkNetwork, startNetwork, type HostNetwork } from '../net-host.js';

let guestCounter = 0;

function signalName(n: number): string | undefined {
  return Object.entries(os.signals).find(([, v]) => v === n)?.[0];
}
/** The UML process's file descriptors: 0-2 its stdio (under gdbserver: the RSP pipe and gdbserver's stderr), then
 *  the kernel console's line and, with a command, the command's lines (argv.ts: commandFds). */
const FD = { consoleIn: 3, consoleOut: 4, commandIn: 5, commandOut: 6, commandErrIn: 7, commandErrOut: 8 } as const;
/** The kernel's words for init (the first process) failing or ending. */
const INIT_DIED = /Attempted to kill init|No working init found|Requested init \S+ failed/;
const ROOT_NEEDS = 'kwb starts it with /bin/sh and mount -t hostfs from that root';
const STOP_GRACE_MS = 3000;

function checkReadable(path: string, what: string): string {
  const abs = resolve(path);
  try {
    accessSync(abs, constants.R_OK);
  } catch {
    throw new KwbError(`${what} ${path} does not exist or is not readable`);
  }
  return abs;
}

function checkDir(path: string, what: string): string {
  const abs = checkReadable(path, what);
  if (!statSync(abs).isDirectory()) throw new KwbError(`${what} ${path} is not a directory`);
  return abs;
}

/** The guest directory the command starts in: where the host's cwd is shared, else /. */
function guestCwd(opts: BootOptions): string | undefined {
  if (opts.cwd) return opts.cwd;
  const here = process.cwd();
  for (const share of opts.share ?? []) {
    if (here === share.host || here.startsWith(share.host + '/')) return share.guest + here.slice(share.host.length);
  }
  return undefined;
}

/** Resolves when `file` exists (the guest created it through hostfs); never, if the guest ends first. */
function appears(file: string, child: ChildProcess): Promise<void> {
  return new Promise((resolveAppeared) => {
    const watcher = watch(dirname(file), () => {
      if (existsSync(file)) done();
    });
    const done = () => {
      watcher.close();
      resolveAppeared();
    };
    child.once('exit', () => watcher.close());
    if (existsSync(file)) done();
  });
}

export class UmlGuest implements Guest {
  readonly engine = 'uml' as const;
  readonly output = new PassThrough();
  readonly input: Writable;
  private readonly done: Promise<GuestResult>;
  private readonly panic = new PanicWatch();
  private stopping?: GuestResult;
  private hostExit?: { code: number | null; signal: string | null };
  private readonly rsp?: Duplex;
  private readonly timer?: NodeJS.Timeout;
  readonly commandStarted?: Promise<void>;
  /** Under gdbserver: the kernel's own process group. */
  private kernelGroup?: number;
  readonly command?: { stdin: Writable; stdout: PassThrough; stderr: PassThrough };

  constructor(
    readonly kernel: KernelInfo,
    private readonly child: ChildProcess & { pid: number },
    private readonly tmp: string,
    /** kwb's init directory on the host when it runs a command: its markers say how far the guest got. */
    private readonly initDir: string | undefined,
    /** Where gdbserver runs the kernel, under --gdb: in the guest's namespaces (confine.ts), or on the host. */
    private readonly gdbserver: 'namespace' | 'host' | undefined,
    opts: BootOptions,
    private readonly lpj?: { learner: LpjLearner; kmsg?: string },
    private readonly network?: HostNetwork,
  ) {
    const underGdbserver = !!gdbserver;
    const stdio: readonly unknown[] = child.stdio;
    const consoleIn = stdio[FD.consoleIn] as Writable;
    const consoleOut = stdio[FD.consoleOut] as Readable;
    this.input = consoleIn;
    consoleIn.on('error', () => {}); // the guest may be gone while input is still arriving
    const kernelSays = (chunk: Buffer) => {
      this.panic.feed(chunk);
      lpj?.learner.feed(chunk.toString('latin1'));
      this.output.write(chunk);
    };
    consoleOut.on('data', kernelSays);
    // UML's own host-side notes (its stdout) belong with the kernel's console, not with the command's output
    if (!underGdbserver) (stdio[1] as Readable).on('data', kernelSays);
    const ours: Readable[] = [consoleOut];
    if (initDir) {
      const stdin = stdio[FD.commandIn] as Writable;
      stdin.on('error', () => {});
      // read the pipes at once, as the console is read, so that a reader that ignores them never stalls the guest
      const relay = (fd: number) => {
        const pipe = stdio[fd] as Readable;
        const out = new PassThrough();
        pipe.on('data', (chunk: Buffer) => out.write(chunk));
        ours.push(pipe);
        return out;
      };
      this.command = { stdin, stdout: relay(FD.commandOut), stderr: relay(FD.commandErrOut) };
    }
    const hostErr = child.stderr!;
    let stderrTail = '';
    hostErr.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      if (underGdbserver) {
        // gdbserver's own chatter ("Process ... created", "Child exited with status N") is parsed, not shown
        stderrTail = (stderrTail + text).slice(-4096);
        // gdbserver starts the kernel in a process group of its own: adopt it, so that it dies with this guest
        // (in the namespaces, the pid is the namespace's, and the kernel dies with them)
        const created = /Process .* created; pid = (\d+)/.exec(stderrTail);
        if (created && !this.kernelGroup && gdbserver === 'host') {
          this.kernelGroup = Number(created[1]);
          adoptGroup(this.kernelGroup);
        }
        const exited = /Child exited with status (\d+)/.exec(stderrTail);
        const killed = /Child terminated with signal = \w+ \((SIG\w+)\)/.exec(stderrTail);
        if (exited) this.hostExit = { code: Number(exited[1]), signal: null };
        if (killed) this.hostExit = { code: null, signal: killed[1] ?? null };
        return;
      }
      this.panic.feed(chunk);
      this.output.write(chunk);
    });
    if (initDir) this.commandStarted = appears(join(initDir, 'running'), child);
    if (underGdbserver) this.rsp = Duplex.from({ readable: stdio[1] as Readable, writable: stdio[0] as Writable });
    if (opts.timeoutSec && opts.timeoutSec > 0) {
      this.timer = setTimeout(() => void this.stop('timeout'), opts.timeoutSec * 1000);
    }
    const streamsClosed = Promise.all(
      [...ours, hostErr].map(
        (s) => new Promise<void>((r) => (s.readableEnded || s.destroyed ? r() : s.once('close', () => r()))),
      ),
    );
    this.done = new Promise<GuestResult>((resolveDone) => {
      child.once('exit', (code, signal) => {
        if (this.timer) clearTimeout(this.timer);
        if (this.kernelGroup) releaseGroup(this.kernelGroup, 'SIGKILL');
        // confined (confine.ts), a signal that killed UML comes as the waiting shell's status 128+N
        const byName = code !== null && code > 128 ? signalName(code - 128) : undefined;
        if (!underGdbserver) this.hostExit = byName ? { code: null, signal: byName } : { code, signal };
        // drain what the guest printed last (a panic message, the command's final output) before deciding
        const drained = Promise.race([streamsClosed, new Promise((r) => setTimeout(r, 500))]);
        void Promise.all([drained, this.network?.stop(), groupGone(child.pid!)]).then(() => {
          const result = this.decide();
          this.lpj?.learner.save(this.lpj.kmsg);
          removeTempDir(this.tmp);
          this.output.end();
          this.command?.stdout.end();
          this.command?.stderr.end();
          resolveDone(result);
        });
      });
    });
  }

  private decide(): GuestResult {
    const marker = (name: string) => !!this.initDir && existsSync(join(this.initDir, name));
    if (this.stopping) return { ...this.stopping, detail: this.stopping.detail + this.reached(marker) };
    if (this.initDir && marker('status')) {
      const code = Number.parseInt(readFileSync(join(this.initDir, 'status'), 'utf8').trim(), 10);
      if (Number.isInteger(code)) return { kind: 'exited', code };
    }
    const exit = this.hostExit;
    const panic = this.panic.message;
    if (panic && this.initDir && !marker('started') && INIT_DIED.test(panic)) {
      // the root's own /bin/sh could not start kwb's init: this root cannot run a test, whatever the kernel
      return { kind: 'failed-to-start', detail: `the root cannot start kwb's init (${ROOT_NEEDS}): ${panic}` };
    }
    if (panic) return { kind: 'panic', detail: panic };
    if (marker('running')) {
      const how = !exit
        ? 'gdbserver ended'
        : exit.signal
          ? `the UML kernel died by ${exit.signal}`
          : `UML exit status ${exit.code ?? '?'}`;
      return { kind: 'died', detail: `the guest ended while the command ran, before it finished (${how})` };
    }
    if (exit?.signal) return { kind: 'panic', detail: `the UML kernel died by ${exit.signal}` };
    if (this.initDir) {
      // kwb's init was to run a command but never reported: the guest did not get that far
      return {
        kind: 'failed-to-start',
        detail: `the guest stopped before running the command (UML exit status ${exit?.code ?? '?'})`,
      };
    }
    return { kind: 'exited', code: exit?.code ?? 0 };
  }

  /** How far a guest stopped from outside (a timeout, a signal) had got: where a hang was. */
  private reached(marker: (name: string) => boolean): string {
    if (!this.initDir) return '';
    if (marker('running')) return ', while the command ran';
    if (marker('started')) return ", after kwb's init started, before the command ran";
    return ", before kwb's init started: the kernel was still booting";
  }

  wait(): Promise<GuestResult> {
    return this.done;
  }

  async stop(reason = 'killed'): Promise<GuestResult> {
    if (!this.stopping) {
      this.stopping =
        reason === 'timeout'
          ? { kind: 'timeout', detail: 'the guest did not finish within the timeout' }
          : { kind: 'killed', detail: reason === 'killed' ? 'stopped by kwb' : reason };
      const pgid = this.child.pid;
      // UML's SIGTERM handler stops it cleanly; SIGKILL the group if it lingers (at once under gdbserver)
      killGroup(pgid, 'SIGTERM');
      if (this.kernelGroup) killGroup(this.kernelGroup, 'SIGKILL');
      const deadline = setTimeout(() => killGroup(pgid, 'SIGKILL'), this.gdbserver ? 0 : STOP_GRACE_MS);
      void this.done.finally(() => clearTimeout(deadline));
    }
    return this.done;
  }

  async debugChannel(warn: (line: string) => void): Promise<{ kind: 'rsp'; stream: Duplex; relay: RelayFacts }> {
    if (!this.rsp) throw new Error('this guest was not started for debugging (BootOptions.debug)');
    const launcher = this.child.pid;
    const hostPidOf = this.gdbserver === 'namespace' ? (pid: number) => hostPid(launcher, pid) : undefined;
    return { kind: 'rsp', stream: this.rsp, relay: umlRelayFacts(warn, hostPidOf) };
  }

  /** For tests and diagnostics: is any process of this guest still alive? */
  alive(): boolean {
    return groupAlive(this.child.pid);
  }

  get pid(): number {
    return this.child.pid;
  }
}

export async function startUml(opts: BootOptions, info: KernelInfo): Promise<UmlGuest> {
  const kernel = checkReadable(opts.kernel, 'kernel');
  const rootChoices = [opts.initrd, opts.rootfs, opts.disk].filter((x) => x !== undefined);
  if (rootChoices.length > 1) throw new KwbError('choose one of --initrd, --rootfs and --disk');
  if (opts.initrd) {
    throw new KwbError(
      "the uml engine boots with kwb's own root or --rootfs DIR / --disk IMG; --initrd is for rv64 (most UML builds lack initrd support)",
    );
  }
  if (opts.record && typeof parseRecord(opts.record) === 'object')
    throw new KwbError('--record FILE saves runs of the rv64 engine; a UML guest cannot be recorded');
  const shares = (opts.share ?? []).map((s) => ({ host: checkDir(s.host, 'shared directory'), guest: s.guest }));
  // `--rootfs debian` is kwb's Debian image, booted as a disk behind a copy-on-write overlay (never changed)
  const debian =
    opts.rootfs === DEBIAN_ROOT
      ? await defaultDebianImage((line) => process.stderr.write(`kwb: ${line}\n`))
      : undefined;
  const rootfs = opts.rootfs && !debian ? checkDir(opts.rootfs, 'root directory') : undefined;
  const disk = debian ?? (opts.disk ? checkReadable(opts.disk, 'disk image') : undefined);
  if (disk && !statSync(disk).isFile()) throw new KwbError(`disk image ${opts.disk} is not a regular file`);

  const nets = opts.net ?? [];
  checkNets(nets, opts.pcap);
  await checkNetwork(nets);

  let shim: string | undefined;
  if (info.dynamic) {
    const built = xstateShim();
    if ('error' in built) throw new KwbError(`${built.error} (install gcc, or run kwb doctor)`, ExitCode.couldNotTest);
    shim = built.path;
  }

  // what a kwb killed by SIGKILL left behind: its session dirs, its gdb session records (liveSessions prunes them)
  sweepDeadDirs(opts.tmpdir);
  liveSessions();
  const tmp = makeTempDir('uml', opts.tmpdir);
  let network: HostNetwork | undefined;
  try {
    const umid = `kwb-${process.pid}-${++guestCounter}`;
    const debug = !!opts.debug;
    const kernelLog = opts.kernelLog ?? (opts.command?.length ? 'quiet' : 'all');
    const append = opts.append ?? [];
    const lpj = userSetLpj(append) ? undefined : presetLpj(kernel);
    // learn on a kernel's first boot here; not under gdb, where a stop during calibration would skew it
    const learner = lpj === undefined && !debug && !userSetLpj(append) ? new LpjLearner(kernel) : undefined;
    const consoleHidesCalibration = kernelLog === 'quiet' || kernelLog === 'warnings';
    // the guest's view of the host is the session dir `tmp` (confine.ts): what it needs is placed in it, and the
    // kernel is given paths inside it. On a host that refuses user namespaces kwb cannot confine the guest: UML's
    // hostfs prefix and symlinks lay out the same view there, and a guest can walk out of it (README).
    const refused = namespacesRefused();
    if (refused) process.stderr.write(`kwb: ${unconfinedWarning(refused)}\n`);
    const confined = !refused;
    const binds: Bind[] = [];
    const inSession = (bind: Bind & { hostfs?: boolean }) => {
      if (confined) return (binds.push(bind), `/${bind.at}`);
      if (!bind.hostfs) return bind.host;
      mkdirSync(dirname(join(tmp, bind.at)), { recursive: true });
      symlinkSync(bind.host, join(tmp, bind.at));
      return `/${bind.at}`;
    };
    const kernelPath = inSession({ host: kernel, at: 'kernel', writable: false });
    // the kernel's modules, read-only, where modprobe looks for them
    const modules = info.modules && {
      host: inSession({ host: info.modules.dir, at: 'modules', writable: false, hostfs: true }),
      guest: `/lib/modules/${info.modules.release}`,
    };
    const initConfig = {
      shares: [
        ...shares.map((s, i) => ({
          host: inSession({ host: s.host, at: `share/${i}`, writable: true, hostfs: true }),
          guest: s.guest,
        })),
        ...(modules ? [modules] : []),
      ],
      net: netSetups(nets),
      cwd: guestCwd({ ...opts, share: shares }),
      command: opts.command,
      learnLpj: !!learner && consoleHidesCalibration,
    };
    // a Debian root has no init of its own (mmdebstrap's minbase): kwb's runs its shell
    const wantsKwbInit = !!opts.command?.length || shares.length > 0 || !!debian;
    if (nets.length) {
      network = await startNetwork({
        nets,
        setups: initConfig.net,
        pcap: opts.pcap && resolve(opts.pcap),
        session: tmp,
        stream: false,
      });
    }
    let root: UmlRoot;
    let kwbDir: string | undefined;
    if (rootfs) root = { kind: 'hostfs', dir: inSession({ host: rootfs, at: 'rootfs', writable: true, hostfs: true }) };
    else if (disk)
      root = {
        kind: 'disk',
        // in a directory of its own: UML writes the image's absolute path into the COW header and cannot work that
        // out for a file in / (its absolutize() does chdir("") and the COW file is left without a header: EINVAL)
        image: inSession({ host: disk, at: 'disk/image', writable: false }),
        cow: confined ? '/disk.cow' : join(tmp, 'disk.cow'),
      };
    else root = { kind: 'kwb', dir: '/root' };
    if (root.kind === 'kwb') {
      buildHostRoot(join(tmp, 'root'), initConfig);
      kwbDir = join(tmp, 'root', 'kwb');
    } else if (wantsKwbInit) {
      kwbDir = join(tmp, 'kwb');
      writeKwbDir(kwbDir, initConfig);
    }
    const runsCommand = !!kwbDir && !!opts.command?.length;
    const argv = umlArgv({
      umid,
      umlDir: confined ? '/' : tmp,
      mem: opts.mem ?? '256M',
      root,
      kwbDir: root.kind === 'kwb' || !kwbDir ? undefined : '/kwb',
      kernelLog,
      consoleFds: [FD.consoleIn, FD.consoleOut],
      commandFds: runsCommand
        ? { io: [FD.commandIn, FD.commandOut], stderr: [FD.commandErrIn, FD.commandErrOut] }
        : undefined,
      append: [
        ...(confined ? [] : [`hostfs=${tmp}`]),
        ...(lpj ? [`lpj=${lpj}`] : []),
        // UML's daemon transport on each interface's control socket, as the (confined) kernel sees its path
        ...(network?.controls ?? []).map((ctl, i) => {
          const { device, mac } = initConfig.net[i]!;
          return `${device}=daemon,${mac},unix,${confined ? `/${relative(tmp, ctl)}` : ctl}`;
        }),
        ...append,
      ],
    });
    const env: NodeJS.ProcessEnv = { ...process.env, TERM: process.env.TERM || 'linux' };
    delete env.TMPDIR; // UML puts its memory file in $TMPDIR when set; /dev/shm (the session's own) is RAM
    // what starts the kernel: chroot into the session dir, confined; kwb's shim goes into the kernel alone, by the
    // chroot's /etc/ld.so.preload (gdbserver's wrapper may exec only once, and that is chroot), else by LD_PRELOAD
    if (shim && confined) {
      mkdirSync(join(tmp, 'etc'));
      writeFileSync(
        join(tmp, 'etc', 'ld.so.preload'),
        `${inSession({ host: shim, at: 'xstate-shim.so', writable: false })}\n`,
      );
    }
    const wrapper = confined ? ['chroot', tmp] : shim ? ['env', `LD_PRELOAD=${shim}`] : [];
    // under gdbserver, confined: gdbserver runs in the namespaces outside the chroot, with their own /proc
    const command = debug
      ? ['gdbserver', '--once', ...(wrapper.length ? ['--wrapper', ...wrapper, '--'] : []), '-', kernelPath, ...argv]
      : [...wrapper, kernelPath, ...argv];
    // core dumps of a panicking UML would land in its cwd and take seconds: none
    const [launcher, ...launcherArgs] = confined
      ? confinedCommand(tmp, binds, command, debug)
      : ['/bin/sh', '-c', 'ulimit -c 0; exec "$@"', 'kwb-uml', ...command];
    const child = spawnGroup(launcher!, launcherArgs, {
      cwd: tmp,
      env,
      // fd 0 is gdbserver's RSP input, or unused; the command's four fds only when there is one
      stdio: [debug ? 'pipe' : 'ignore', ...Array<'pipe'>(runsCommand ? 8 : 4).fill('pipe')],
    });
    const spawnError = await new Promise<Error | undefined>((r) => {
      child.once('spawn', () => r(undefined));
      child.once('error', (err) => r(err));
    });
    if (spawnError) throw new KwbError(`cannot start the UML kernel: ${spawnError.message}`, ExitCode.couldNotTest);
    const kmsg = kwbDir && initConfig.learnLpj ? join(kwbDir, 'kmsg') : undefined;
    return new UmlGuest(
      info,
      child,
      tmp,
      opts.command?.length ? kwbDir : undefined,
      debug ? (confined ? 'namespace' : 'host') : undefined,
      opts,
      learner && { learner, kmsg },
      network,
    );
  } catch (err) {
    await network?.stop();
    removeTempDir(tmp);
    throw err;
  }
}
