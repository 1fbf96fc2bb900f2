// `kwb doctor`: check this host for what kwb needs and say how to fix each missing piece.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { arch, platform } from 'node:os';
import { join } from 'node:path';
import { xstateShim } from '../engine/uml/shim.js';
import { BUSYBOX } from '../engine/rootfs/hostroot.js';
import { DEBIAN_UML } from '../engine/kernel.js';
import { findOnPath } from '../engine/which.js';
import { natProblem } from '../engine/net-host.js';
import { checkDistccHost, distccFarm, distccHostsFrom, type DistccFarm } from '../engine/build/distcc.js';
import { one, type OptionTable, type ParsedArgs } from './args.js';

interface Check {
  name: string;
  /** undefined: fine; otherwise what is wrong and how to fix it. */
  problem?: string;
  /** Only some features need it. */
  optional?: boolean;
}

function mountOptions(target: string): string[] | undefined {
  const line = readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .find((l) => l.split(' ')[1] === target);
  return line?.split(' ')[3]?.split(',');
}

/** kwb's own setup script, by absolute path: in a kernel tree, `scripts/setup.sh` would be the kernel's scripts/. */
const SETUP_SCRIPT = join(__dirname, '..', 'scripts', 'setup.sh');

/** The groups of scripts/setup.sh: the default installs what UML debugging and kwb build need. */
type SetupGroup = 'default' | '--riscv' | '--test';

function setup(group: SetupGroup = 'default'): string {
  return `run: sudo ${SETUP_SCRIPT}${group === 'default' ? '' : ` ${group}`}`;
}

function tool(name: string, pkg: string, why: string, group: SetupGroup = 'default', optional = false): Check {
  return {
    name: `${name} (${why})`,
    problem: findOnPath(name) ? undefined : `${name} is missing; ${setup(group)} (Debian package ${pkg})`,
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
      problem: 'error' in shim ? `${shim.error}; install gcc (${setup()})` : undefined,
    });
    const bb = spawnSync('file', ['-L', BUSYBOX], { encoding: 'utf8' });
    checks.push({
      name: `${BUSYBOX} is static (kwb's default guest root)`,
      problem: !existsSync(BUSYBOX)
        ? `${BUSYBOX} is missing; ${setup()} (busybox-static)`
        : bb.status === 0 && !/statically linked/.test(bb.stdout)
          ? `${BUSYBOX} is dynamically linked; install busybox-static`
          : undefined,
    });
    checks.push({
      name: `Debian's User-mode Linux (${DEBIAN_UML}, the default kernel)`,
      problem: existsSync(DEBIAN_UML) ? undefined : `${setup()} (Debian package user-mode-linux)`,
      optional: true,
    });
  }
  checks.push(tool('gdb', 'gdb', 'kwb gdb, VS Code'));
  checks.push(tool('gdbserver', 'gdbserver', 'debugging UML'));
  checks.push({ name: "libslirp (guest networks: --net user, kwb's NAT)", problem: natProblem(), optional: true });
  checks.push(tool('make', 'make', 'kwb build', 'default', true));
  for (const t of ['flex', 'bison', 'bc']) checks.push(tool(t, t, 'kernel builds', 'default', true));
  checks.push(tool('ccache', 'ccache', 'faster rebuilds in kwb build and bisect', 'default', true));
  checks.push(tool('distcc', 'distcc', 'kwb build --distcc: compiles on a build farm', 'default', true));
  // the kernel's modules_install runs /sbin/depmod, which is not on an ordinary user's PATH
  checks.push({
    name: "/sbin/depmod (kwb build's module install, for modprobe in the guest)",
    problem: existsSync('/sbin/depmod') ? undefined : `/sbin/depmod is missing; ${setup()} (Debian package kmod)`,
    optional: true,
  });
  checks.push(tool('mmdebstrap', 'mmdebstrap', 'kwb rootfs, --rootfs debian', 'default', true));
  checks.push(tool('gdb-multiarch', 'gdb-multiarch', 'debugging RISC-V kernels', '--riscv', true));
  checks.push(tool('riscv64-linux-gnu-gcc', 'gcc-riscv64-linux-gnu', 'ARCH=riscv builds', '--riscv', true));
  checks.push(tool('qemu-system-riscv64', 'qemu-system-misc', 'reference runs', '--riscv', true));
  checks.push(tool('lldb', 'lldb', "kwb's tests: lldb as a client", '--test', true));
  checks.push(tool('tcpdump', 'tcpdump', "kwb's tests: reading --pcap captures", '--test', true));
  checks.push({
    name: "Debian's kernel source (kwb's test kernels)",
    problem: existsSync('/usr/src/linux-source-6.1.tar.xz')
      ? undefined
      : `${setup('--test')} (Debian package linux-source-6.1)`,
    optional: true,
  });
  return checks;
}

/** Each distcc host compiles with the compilers kwb builds with (those installed here); a host that does not is a
 *  warning: builds still work, compiling its share here. */
async function distccChecks(hosts: string): Promise<Check[]> {
  let farm: DistccFarm;
  try {
    farm = distccFarm(hosts);
  } catch (err) {
    return [{ name: 'distcc hosts', problem: (err as Error).message }];
  }
  const compilers = ['gcc', 'riscv64-linux-gnu-gcc'].filter((c) => findOnPath(c));
  return Promise.all(
    farm.specs.flatMap((spec) =>
      compilers.map(async (compiler) => {
        const problem = await checkDistccHost(farm, spec, compiler);
        return {
          name: `distcc host ${spec} compiles with ${compiler}`,
          problem: problem && `${problem}; builds compile its share here instead`,
          optional: true,
        };
      }),
    ),
  );
}

export const doctorOptions: OptionTable = {
  distcc: { value: 'HOSTS', help: 'also check these distcc hosts (default: DISTCC_HOSTS, if set)' },
};

export async function doctorCommand(args: ParsedArgs): Promise<number> {
  let failed = 0;
  const hosts = distccHostsFrom(one(args, 'distcc'));
  for (const check of [...hostChecks(), ...(hosts ? await distccChecks(hosts) : [])]) {
    const mark = check.problem ? (check.optional ? 'warn' : 'FAIL') : ' ok ';
    process.stdout.write(`[${mark}] ${check.name}${check.problem ? `\n       ${check.problem}` : ''}\n`);
    if (check.problem && !check.optional) failed++;
  }
  process.stdout.write(failed ? `\n${failed} required check(s) failed.\n` : '\nThis host is ready for kwb.\n');
  return failed ? 1 : 0;
}
