// How a guest run ended, and the process exit codes kwb maps that to. All codes stay within 0..127 so that
// `git bisect run` never aborts by accident; 125 is git bisect's "skip" and means only "could not test".

/** 'died': the guest ended while its command ran, without the command reporting a status (a poweroff in the test,
 *  a killed debugger, a crash that printed no panic). */
export type GuestResultKind = 'exited' | 'panic' | 'died' | 'timeout' | 'killed' | 'failed-to-start';

export interface GuestResult {
  kind: GuestResultKind;
  /** The guest command's exit status (kind 'exited'). */
  code?: number;
  /** One line a person can read: the panic message, what failed to start, the signal that stopped kwb. */
  detail?: string;
}

export const ExitCode = {
  ok: 0,
  /** A bad command line or an unusable input file: nothing was run. */
  usage: 2,
  /** kwb was interrupted (SIGINT/SIGTERM) and shut the guest down. */
  interrupted: 122,
  /** The guest kernel panicked (or, for UML, died by a signal), or the guest ended while its command ran. */
  panic: 123,
  /** The guest did not finish within --timeout. */
  timeout: 124,
  /** The guest could not be started or the command could not be run: git bisect's "skip". */
  couldNotTest: 125,
} as const;

export function exitCodeFor(result: GuestResult): number {
  switch (result.kind) {
    case 'exited':
      return Math.min(Math.max(result.code ?? 0, 0), 127);
    case 'panic':
    case 'died':
      return ExitCode.panic;
    case 'timeout':
      return ExitCode.timeout;
    case 'killed':
      return ExitCode.interrupted;
    case 'failed-to-start':
      return ExitCode.couldNotTest;
  }
}

/** An error with a one-line message for the user and the exit code to leave with. */
export class KwbError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = ExitCode.usage,
  ) {
    super(message);
  }
}
