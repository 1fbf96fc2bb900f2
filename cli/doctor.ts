// `kwb doctor`: check this host for what kwb needs and say how to fix each missing piece.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { arch, platform } from 'node:os';
import { xstateShim } from '../engine/uml/shim.js';
import { BUSYBOX } from '../engine/rootfs/hostroot.js';
import { DEBIAN_UML } from '../engine/kernel.js';

interface Check {
  name: string;
  /** undefined: fine; otherwise what is wrong and how to fix it. */
  problem?: string;
  /** Only some features need it. */
  optional?: boolean;
}

function onPath(tool: string): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => {
    try {
      accessSync(`${dir}/${tool}`, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function mountOptions(target: string): string[] | undefined {
  const line = readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .find((l) => l.split(' ')[1] === target);
  return line?.split(' ')[3]?.split(',');
}

const SETUP = 'run: sudo scripts/setup.sh';

function tool(name: string, pkg: string, why: string, optional = false): Check {
  return {
    name: `${name} (${why})`,
    problem: onPath(name) ? undefined : `${name} is missing; ${SETUP} (Debian package ${pkg})`,
    optional,
  };
}

export function hostChecks(): Check[] {
  const checks: Check[] = [];
  const umlHost = platform() === 'linux' && arch() === 'x64';
  checks.push({
    name: 'x86-64 Linux host (for the uml engine)',
    problem: umlHost
      ? undefined
      : `this is ${platform()}/${arch()}: User-mode Linux needs x86-64 Linux; use the rv64 engine`,
    optional: true,
  });
  if (umlHost) {
    const shm = mountOptions('/dev/shm');
    checks.push({
      name: '/dev/shm allows exec (UML maps its memory from there)',
      problem: !shm
        ? '/dev/shm is not mounted; mount a tmpfs there'
        : shm.includes('noexec')
          ? '/dev/shm is noexec; run: sudo mount -o remount,exec /dev/shm'
          : undefined,
    });
    const scope = existsSync('/proc/sys/kernel/yama/ptrace_scope')
      ? readFileSync('/proc/sys/kernel/yama/ptrace_scope', 'utf8').trim()
      : '0';
    checks.push({
      name: 'ptrace allowed (UML traces its own processes)',
      problem:
        scope === '3'
          ? 'ptrace is disabled (yama ptrace_scope 3); it can only be lowered by a reboot with a different setting'
          : undefined,
    });
    const shim = xstateShim();
    checks.push({
      name: "kwb's xstate shim compiles (UML on hosts with large XSAVE areas, e.g. AMX)",
      problem: 'error' in shim ? `${shim.error}; install gcc (${SETUP})` : undefined,
    });
    const bb = spawnSync('file', ['-L', BUSYBOX], { encoding: 'utf8' });
    checks.push({
      name: `${BUSYBOX} is static (kwb's default guest root)`,
      problem: !existsSync(BUSYBOX)
        ? `${BUSYBOX} is missing; ${SETUP} (busybox-static)`
        : bb.status === 0 && !/statically linked/.test(bb.stdout)
          ? `${BUSYBOX} is dynamically linked; install busybox-static`
          : undefined,
    });
    checks.push({
      name: `Debian's User-mode Linux (${DEBIAN_UML}, the default kernel)`,
      problem: existsSync(DEBIAN_UML) ? undefined : `${SETUP} (user-mode-linux)`,
      optional: true,
    });
  }
  checks.push(tool('gdb', 'gdb', 'kwb gdb, VS Code'));
  checks.push(tool('gdbserver', 'gdbserver', 'debugging UML'));
  checks.push(tool('gdb-multiarch', 'gdb-multiarch', 'debugging RISC-V kernels', true));
  checks.push(tool('make', 'make', 'kwb build', true));
  for (const t of ['flex', 'bison', 'bc']) checks.push(tool(t, t, 'kernel builds', true));
  checks.push(tool('riscv64-linux-gnu-gcc', 'gcc-riscv64-linux-gnu', 'ARCH=riscv builds', true));
  checks.push(tool('qemu-system-riscv64', 'qemu-system-misc', 'reference runs', true));
  return checks;
}

export async function doctorCommand(): Promise<number> {
  let failed = 0;
  for (const check of hostChecks()) {
    const mark = check.problem ? (check.optional ? 'warn' : 'FAIL') : ' ok ';
    process.stdout.write(`[${mark}] ${check.name}${check.problem ? `\n       ${check.problem}` : ''}\n`);
    if (check.problem && !check.optional) failed++;
  }
  process.stdout.write(failed ? `\n${failed} required check(s) failed.\n` : '\nThis host is ready for kwb.\n');
  return failed ? 1 : 0;
}
