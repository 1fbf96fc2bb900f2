// The RISC-V fixture (the kernel of test/fixtures/build-kernel.sh riscv plus kwb's test initramfs from
// build-rv64-init.sh) and the reference run of both under QEMU's virt machine, so tests of kwb's own rv64 machine can
// compare its console with QEMU's line for line.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureTree } from './fixtures';

export interface Rv64Fixture {
  tree: string;
  /** arch/riscv/boot/Image */
  image: string;
  vmlinux: string;
  /** Uncompressed cpio (newc) with kwb's test init as /init. */
  initramfs: string;
}

let fixture: Rv64Fixture | undefined;

/** The RISC-V kernel and its test initramfs, built on first use (minutes) and cached after. */
export function rv64Fixture(): Rv64Fixture {
  if (!fixture) {
    const tree = fixtureTree('riscv');
    const script = join(__dirname, '..', 'fixtures', 'build-rv64-init.sh');
    const initramfs = execFileSync('bash', [script, tree], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    }).trim();
    fixture = { tree, image: join(tree, 'arch/riscv/boot/Image'), vmlinux: join(tree, 'vmlinux'), initramfs };
  }
  return fixture;
}

export const RISCV_LINUX_GCC = 'riscv64-linux-gnu-gcc';
export const QEMU_RISCV = 'qemu-system-riscv64';

const runs = (cmd: string): boolean => spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;

/** Why the RISC-V fixture cannot be built or booted under QEMU here, or false when it can. */
export function rv64QemuSkipReason(): string | false {
  if (!runs(QEMU_RISCV)) return `${QEMU_RISCV} is not installed (Debian: qemu-system-misc)`;
  if (!runs(RISCV_LINUX_GCC)) return `${RISCV_LINUX_GCC} is not installed (Debian: gcc-riscv64-linux-gnu)`;
  return false;
}

/** Every line the test init prints starts with this. */
export const INIT_PREFIX = 'kwb-rv64-init: ';
export const INIT_MARKER = `${INIT_PREFIX}hello`;

/** The test init's lines in a console transcript, in order, without line-ending CRs. */
export function initLines(console: string): string[] {
  return console
    .split('\n')
    .map((line) => line.replace(/\r+$/, ''))
    .filter((line) => line.startsWith(INIT_PREFIX));
}

/** The kernel's banner as /proc/version shows it, read from the Image itself. */
export function kernelVersionLine(image: string): string {
  const bytes = readFileSync(image);
  // the Image also holds a weak placeholder banner ("... # SMP "); the real one has the build number after '#'
  for (let at = bytes.indexOf('Linux version '); at >= 0; at = bytes.indexOf('Linux version ', at + 1)) {
    const line = bytes.subarray(at, bytes.indexOf(0x0a, at)).toString('latin1');
    if (/ #\d+ /.test(line)) return line;
  }
  throw new Error(`${image} has no "Linux version" banner`);
}

export interface InitExpectation {
  image: string;
  /** The kernel command line. */
  append: string;
  /** First 16 bytes of /dev/vda as the init prints them (non-printable bytes as '.'); omit when there is no disk. */
  vda?: string;
}

/** What the test init prints, line by line, on a one-hart machine. */
export function expectedInitLines(e: InitExpectation): string[] {
  return [
    'hello',
    `version: ${kernelVersionLine(e.image)}`,
    `cmdline: ${e.append}`,
    'cpus: 1',
    `vda: ${e.vda ?? 'none'}`,
    'powering off',
  ].map((line) => INIT_PREFIX + line);
}

export interface QemuBoot {
  image: string;
  initramfs: string;
  append: string;
  /** Raw disk image for virtio-blk (QEMU runs it with snapshot=on: the file is never written). */
  disk?: string;
  timeoutMs?: number;
}

export interface QemuResult {
  /** QEMU's exit status (0 after a guest poweroff); null when it was killed at the timeout. */
  status: number | null;
  console: string;
  seconds: number;
}

/** Boot under `qemu-system-riscv64 -M virt -bios default` (OpenSBI), one hart, console on the UART. */
export function bootQemu(boot: QemuBoot): QemuResult {
  // console to a file: QEMU drops characters when a stdio pipe is momentarily full
  const dir = mkdtempSync(join(tmpdir(), 'kwb-qemu-rv64-'));
  try {
    const consoleFile = join(dir, 'console');
    const args = [
      '-M',
      'virt',
      '-smp',
      '1',
      '-m',
      '256M',
      '-bios',
      'default',
      '-display',
      'none',
      '-monitor',
      'none',
      '-serial',
      `file:${consoleFile}`,
      '-kernel',
      boot.image,
      '-initrd',
      boot.initramfs,
      '-append',
      boot.append,
    ];
    if (boot.disk) {
      args.push(
        '-drive',
        `file=${boot.disk},format=raw,if=none,id=disk0,snapshot=on`,
        '-device',
        'virtio-blk-device,drive=disk0',
      );
    }
    const t0 = performance.now();
    const r = spawnSync(QEMU_RISCV, args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: boot.timeoutMs ?? 120_000 });
    const seconds = (performance.now() - t0) / 1000;
    return { status: r.status, console: existsSync(consoleFile) ? readFileSync(consoleFile, 'latin1') : '', seconds };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
