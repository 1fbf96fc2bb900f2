// A Guest is a kernel running as a process (or, for rv64, inside this one). Engines implement it; the CLI, the
// gdb stub and the bisect driver use only this interface.
import type { Readable, Writable, Duplex } from 'node:stream';
import type { Target } from '../gdbstub/target.js';
import type { RelayFacts } from '../gdbstub/index.js';
import type { KernelInfo } from './kernel.js';
import type { NetSpec } from './net.js';
import type { GuestResult } from './results.js';

export type EngineName = 'uml' | 'rv64';

export type KernelLog = 'quiet' | 'warnings' | 'info' | 'all';

/** Kernel parameters for a KernelLog level: `quiet`, then the console loglevel says which messages show: 4 errors
 *  and worse, 5 adds KERN_WARNING (WARN() splats), 8 everything (KUnit's KTAP lines are KERN_INFO). */
export function kernelLogParams(log: KernelLog): string[] {
  const level = { quiet: undefined, warnings: 5, info: 8, all: undefined }[log];
  return log === 'all' ? [] : ['quiet', ...(level ? [`loglevel=${level}`] : [])];
}

export interface ShareSpec {
  host: string;
  guest: string;
}

export interface BootOptions {
  kernel: string;
  engine?: EngineName;
  /** Root filesystem: exactly one of these, or none for kwb's own (busybox + kwb's init). */
  initrd?: string;
  rootfs?: string;
  disk?: string;
  share?: ShareSpec[];
  /** Network interfaces, eth0 first. */
  net?: NetSpec[];
  /** Record every frame of the guest's interfaces in this pcap file. */
  pcap?: string;
  /** rv64 firmware: an M-mode image to run first (OpenSBI), or 'none' (bare metal: the ELF runs in M-mode itself).
   *  Default: kwb's built-in SBI. */
  bios?: string;
  /** rv64 under `debug`: the recording's memory cap ("512M"), or "off" for none. */
  record?: string;
  /** Guest memory, e.g. "256M". */
  mem?: string;
  /** Extra kernel command line arguments. */
  append?: string[];
  /** A command to run in the guest (kwb's init runs it, then powers off with its status); none: a shell. */
  command?: string[];
  /** How much of the kernel log reaches the console: 'quiet' (errors), 'warnings' (and WARN splats), 'info'
   *  (all kernel messages, no host-side start-up notes), 'all'.
   *  Default: quiet when running a command, all otherwise. */
  kernelLog?: KernelLog;
  /** Working directory for the command inside the guest. */
  cwd?: string;
  timeoutSec?: number;
  /** Copy of the console output. */
  log?: string;
  /** 'terminal': the console is this process's TTY (raw mode); 'pipe': console on guest.console streams. */
  console: 'terminal' | 'pipe';
  /** Start the guest under debugger control; wait: hold it before the kernel runs. */
  debug?: { wait: boolean };
  /** Extra directories engines may use for temporary files (defaults to the OS temp dir). */
  tmpdir?: string;
}

/** A KUnit run (kunit_shutdown= on the command line, as kunit.py boots) with no command: the kernel stops after its
 *  built-in tests, before it mounts a root, so an engine that needs a root filesystem (rv64) boots without one. */
export function stopsBeforeRoot(opts: Pick<BootOptions, 'append' | 'command'>): boolean {
  return !opts.command?.length && !!opts.append?.some((a) => a.startsWith('kunit_shutdown='));
}

export interface Guest {
  readonly engine: EngineName;
  /** The booted kernel's facts (tree, symbols, gdb), decided once when the boot began. */
  readonly kernel: KernelInfo;
  /** Console output when console is 'pipe': the kernel log, and the guest's programs that write to the console
   *  (a shell; a command when the engine has no `command` channels). */
  readonly output: Readable;
  /** Console input when console is 'pipe'. */
  readonly input: Writable;
  /** The command's own stdin, stdout and stderr, apart from the kernel console (UML with a command). */
  readonly command?: { stdin: Writable; stdout: Readable; stderr: Readable };
  /** Resolves when the guest command starts (kwb's init says so), so console input is not lost; undefined when the
   *  engine cannot tell or no command was given. */
  readonly commandStarted?: Promise<void>;
  /** Resolves once, when the guest is gone and everything it made on the host is cleaned up. */
  wait(): Promise<GuestResult>;
  /** What kwb has to say about the run once the guest has ended (rv64: where --record FILE saved it), if anything. */
  endNote?(): string | undefined;
  /** Shut the guest down (SIGTERM-then-SIGKILL for a process); resolves when wait() would. */
  stop(reason?: string): Promise<GuestResult>;
  /** For a guest started with `debug`: the debug interface, either an in-process Target or an RSP channel. */
  debugChannel?(
    warn: (line: string) => void,
  ): Promise<{ kind: 'target'; target: Target } | { kind: 'rsp'; stream: Duplex; relay: RelayFacts }>;
}
