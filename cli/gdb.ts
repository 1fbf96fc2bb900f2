// `kwb gdb`: start gdb on the right vmlinux, attached to a guest that `kwb boot --gdb` is serving.
import { spawn } from 'node:child_process';
import { debugInfo, gdbArgs } from '../engine/kernel.js';
import { ExitCode, KwbError } from '../engine/results.js';
import { liveSessions } from '../engine/sessions.js';
import { one, type OptionTable, type ParsedArgs } from './args.js';

export const gdbOptions: OptionTable = {
  port: { value: 'N', help: 'the stub port (default: the newest guest served by kwb boot --gdb)' },
  host: { value: 'HOST', help: 'the stub host (default 127.0.0.1)' },
  vmlinux: { value: 'FILE', help: "symbols (default: the kernel being served, or its tree's vmlinux)" },
  gdb: { value: 'PATH', help: 'the gdb to run (default: gdb for UML, gdb-multiarch for RISC-V)' },
};

export async function gdbCommand(args: ParsedArgs): Promise<number> {
  const sessions = liveSessions();
  const port = one(args, 'port');
  const session = port ? sessions.find((s) => s.port === Number(port)) : sessions[0];
  if (!port && !session)
    throw new KwbError('no guest is being served to gdb; start one with kwb boot --gdb :1234 (or pass --port N)');
  const host = one(args, 'host') ?? session?.host ?? '127.0.0.1';
  const target = `${host.includes(':') ? `[${host}]` : host}:${port ?? session!.port}`;
  const vmlinux = one(args, 'vmlinux');
  // the served kernel's facts were decided when it booted; only a --vmlinux of the user's is read here
  const debug = vmlinux ? debugInfo(vmlinux) : session?.debug;
  if (!debug?.vmlinux) throw new KwbError(`which kernel is on port ${port ?? session!.port}? pass --vmlinux FILE`);
  const gdb = one(args, 'gdb') ?? debug.gdb;
  const child = spawn(gdb, ['-q', ...gdbArgs(debug), '-ex', `target remote ${target}`, ...args.rest], {
    stdio: 'inherit',
  });
  // gdb owns the terminal now; Ctrl-C is for it, not for us
  process.on('SIGINT', () => {});
  return new Promise((resolve, reject) => {
    child.on('error', (err) =>
      reject(new KwbError(`cannot run ${gdb}: ${err.message}; run scripts/setup.sh`, ExitCode.couldNotTest)),
    );
    child.on('exit', (code) => resolve(code ?? ExitCode.interrupted));
  });
}
