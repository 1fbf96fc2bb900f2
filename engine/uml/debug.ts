// UML's debug channel: the kernel is a host process under gdbserver, and what kwb's relay must know about such a
// process (its own signals, how to interrupt it, whether watchpoints need emulating here) is decided here, once.
import type { RelayFacts } from '../../gdbstub/index.js';
import { hardwareWatchpoints } from './hw-watch.js';

/** UML's own signals, in GDB's numbering (gdb/signals.def): SEGV 11, ALRM 14, CHLD 20, IO 23, VTALRM 26, WINCH 28,
 *  USR1 30. UML uses them internally (page faults, timers, I/O); passed back silently, a client never sees them. */
export const UML_PASS_SIGNALS = [11, 14, 20, 23, 26, 28, 30];

/** Whether the host's debug registers do not fire (gdbserver's watchpoints on UML would never trigger). */
function watchpointsNeedEmulation(warn: (line: string) => void): boolean {
  const hw = hardwareWatchpoints();
  if (typeof hw === 'object') warn(`cannot tell whether hardware watchpoints fire here (${hw.unknown}); trusting them`);
  return hw === 'silent';
}

/** What the relay needs to know about a UML kernel under gdbserver; `hostPid` where gdbserver runs in the guest's
 *  pid namespace (confine.ts). */
export function umlRelayFacts(warn: (line: string) => void, hostPid?: (pid: number) => number | undefined): RelayFacts {
  return {
    hostPid,
    passSignals: UML_PASS_SIGNALS,
    threadName: 'UML kernel',
    // gdbserver's ^C signals the whole process group, guest processes included, and kills the guest
    signalInterrupt: 'SIGINT',
    // the kernel runs in UML's main thread; the others are its helpers (I/O, SIGIO), blocked in host calls that
    // return only while the kernel runs: a step of one alone would never end
    onlyMainThreadSteps: "it is one of UML's helper threads, blocked in a host call while the kernel is stopped",
    emulateWatchpoints: watchpointsNeedEmulation(warn),
  };
}
