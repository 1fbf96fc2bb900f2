// The rv64 engine boots the RISC-V fixture kernel (built from Debian's linux-source-6.1) to kwb's test init, through
// the real `kwb boot` CLI, and the init's output equals what the same Image and initramfs print under QEMU's virt
// machine. With kwb's built-in SBI and with Debian's OpenSBI; a virtio-blk disk; panics; determinism.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, describe, it } from 'node:test';
import { parseKernelImage } from '../../engine/rv64/kernel-image';
import { Machine } from '../../engine/rv64/machine';
import { FIXTURE_TIMEOUT_MS } from '../helpers/fixtures';
import { Sandbox } from '../helpers/kwb';
import { bootQemu, expectedInitLines, initLines, rv64Fixture, rv64QemuSkipReason } from '../helpers/rv64';

const OPENSBI = '/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin';
/** kwb's own kernel parameters ahead of the user's (--append) */
const KWB_BOOTARGS = 'console=ttyS0 earlycon=sbi';

describe('rv64 engine on the RISC-V fixture', { skip: rv64QemuSkipReason(), timeout: FIXTURE_TIMEOUT_MS }, () => {
  const sandbox = new Sandbox();
  const scratch = mkdtempSync(join(tmpdir(), 'kwb-rv64-boot-'));
  after(() => {
    sandbox.dispose();
    rmSync(scratch, { recursive: true, force: true });
  });

  function noLeftovers(): void {
    assert.deepEqual(sandbox.leftovers(), { files: [], processes: [] });
  }

  it('boots to the init with the built-in SBI, prints what QEMU prints, and powers off with status 0', async () => {
    const { image, initramfs } = rv64Fixture();
    const r = await sandbox.run([
      'boot',
      '--kernel',
      image,
      '--initrd',
      initramfs,
      '--append',
      'kwb.test=1',
      '--timeout',
      '120',
    ]);
    assert.equal(r.code, 0, r.stderr + r.stdout.slice(-3000));
    const lines = initLines(r.stdout);
    assert.deepEqual(lines, expectedInitLines({ image, append: `${KWB_BOOTARGS} kwb.test=1` }));
    // the reference: QEMU with the same command line prints the same lines
    const qemu = bootQemu({ image, initramfs, append: `${KWB_BOOTARGS} kwb.test=1` });
    assert.deepEqual(initLines(qemu.console), lines);
    noLeftovers();
  });

  it('boots the same way under OpenSBI in M-mode (--bios)', async () => {
    const { image, initramfs } = rv64Fixture();
    const r = await sandbox.run([
      'boot',
      '--kernel',
      image,
      '--initrd',
      initramfs,
      '--bios',
      OPENSBI,
      '--timeout',
      '120',
    ]);
    assert.equal(r.code, 0, r.stderr + r.stdout.slice(-3000));
    assert.match(r.stdout, /OpenSBI v\d/);
    assert.deepEqual(initLines(r.stdout), expectedInitLines({ image, append: KWB_BOOTARGS }));
  });

  it('reads a virtio-blk disk and never writes the image', async () => {
    const { image, initramfs } = rv64Fixture();
    const disk = join(scratch, 'disk.img');
    const content = Buffer.alloc(1 << 20);
    content.write('kwb disk\x00sector0 and more', 0, 'latin1');
    writeFileSync(disk, content);
    const r = await sandbox.run(['boot', '--kernel', image, '--initrd', initramfs, '--disk', disk, '--timeout', '120']);
    assert.equal(r.code, 0, r.stderr + r.stdout.slice(-3000));
    assert.deepEqual(initLines(r.stdout), expectedInitLines({ image, append: KWB_BOOTARGS, vda: 'kwb disk.sector0' }));
    assert.deepEqual(readFileSync(disk), content);
  });

  it('takes a gzipped initramfs; --timeout stops a guest that runs too long', async () => {
    const { image, initramfs } = rv64Fixture();
    const gz = join(scratch, 'init.cpio.gz');
    writeFileSync(gz, gzipSync(readFileSync(initramfs)));
    const r = await sandbox.run(['boot', '--kernel', image, '--initrd', gz, '--timeout', '120']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(initLines(r.stdout), expectedInitLines({ image, append: KWB_BOOTARGS }));
    const slow = await sandbox.run(['boot', '--kernel', image, '--initrd', gz, '--timeout', '1']);
    assert.equal(slow.code, 124, slow.stderr);
    assert.match(slow.stderr, /did not finish within the timeout/);
    noLeftovers();
  });

  it('reports a kernel panic with the panic exit code', async () => {
    const { image } = rv64Fixture();
    const empty = join(scratch, 'empty.cpio');
    writeFileSync(empty, execFileSync('cpio', ['-o', '-H', 'newc', '--quiet'], { input: '' })); // no /init in it
    const r = await sandbox.run(['boot', '--kernel', image, '--initrd', empty, '--timeout', '120']);
    assert.equal(r.code, 123, r.stderr + r.stdout.slice(-2000));
    assert.match(r.stdout + r.stderr, /Kernel panic - not syncing/);
    noLeftovers();
  });

  it('is deterministic, with the block compiler on or off: the same instruction count at every console byte', () => {
    const { image, initramfs } = rv64Fixture();
    const kernel = parseKernelImage(readFileSync(image));
    const initrd = readFileSync(initramfs);
    const trace = (jit: boolean) => {
      const marks: string[] = [];
      const m: Machine = new Machine({
        kernel,
        initrd,
        bootargs: KWB_BOOTARGS,
        memBytes: 256 << 20,
        console: (bytes) => marks.push(`${m.cpu.retired()}:${Buffer.from(bytes).toString('latin1')}`),
        jit,
      });
      m.cpu.jitThreshold = 16; // compile lukewarm code too, as much of the boot as the compiler takes
      // every access to the UART and every SBI call (the early console), with the instruction count it happened at
      const uart = m.uart.store.bind(m.uart);
      m.uart.store = (offset, size, value) => {
        marks.push(`uart ${m.cpu.retired()} ${offset} ${value}`);
        uart(offset, size, value);
      };
      const sbi = m.cpu.firmware!;
      m.cpu.firmware = (cause, isInterrupt) => {
        marks.push(`sbi ${m.cpu.retired()} ${cause} ${isInterrupt} ${m.cpu.getX(17)} ${m.cpu.getX(10)}`);
        return sbi(cause, isInterrupt);
      };
      while (m.run(50_000_000, true).kind !== 'power') {
        /* until poweroff */
      }
      marks.push(`end ${m.cpu.retired()} ${m.cpu.pc}`);
      return marks;
    };
    const first = trace(false);
    assert.ok(first.length > 1000);
    assert.deepEqual(trace(false), first);
    assert.deepEqual(trace(true), first);
  });

  it('runs the same boot however its runs are sliced (what a replay for reverse execution relies on)', () => {
    const { image, initramfs } = rv64Fixture();
    const kernel = parseKernelImage(readFileSync(image));
    const initrd = readFileSync(initramfs);
    const boot = (slice: number) => {
      let console = '';
      const m: Machine = new Machine({
        kernel,
        initrd,
        bootargs: KWB_BOOTARGS,
        memBytes: 256 << 20,
        console: (bytes) => (console += Buffer.from(bytes).toString('latin1')),
      });
      while (m.run(slice, true).kind !== 'power') {
        /* until poweroff */
      }
      return { console, instructions: m.cpu.retired(), pc: m.cpu.pc };
    };
    const whole = boot(50_000_000);
    assert.match(whole.console, /kwb-rv64-init: /);
    assert.deepEqual(boot(999_983), whole);
  });
});
