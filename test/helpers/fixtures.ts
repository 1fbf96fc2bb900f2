// Test kernels, built by test/fixtures/build-kernel.sh from Debian's linux-source-6.1 and cached outside the repo.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const trees = new Map<string, string>();

/** The tree a fixture script (test/fixtures/SCRIPT ARCH) prints, built on first use (minutes), cached after. */
function built(script: string, arch: string): string {
  let tree = trees.get(`${script} ${arch}`);
  if (!tree) {
    const path = join(__dirname, '..', 'fixtures', script);
    tree = execFileSync('bash', [path, arch], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
    trees.set(`${script} ${arch}`, tree);
  }
  return tree;
}

/** The kernel tree of the fixture for `arch`, building it on first use (minutes) and reusing the cache after. */
export function fixtureTree(arch: 'um' | 'riscv'): string {
  return built('build-kernel.sh', arch);
}

/** The UML fixture: ./linux of `make ARCH=um defconfig` + DWARF5, GDB_SCRIPTS, FRAME_POINTER, MAGIC_SYSRQ. */
export function umlKernel(): string {
  return join(fixtureTree('um'), 'linux');
}

/** The KUnit fixture (test/fixtures/build-kunit.sh): a source tree whose kunit.py build is in <tree>/.kunit (um) or
 *  <tree>/.kunit-riscv (riscv: KUNIT_RISCV), with kunit_example_test.kwb_fault=fail|panic|hang to make
 *  example_simple_test fail, crash or hang. Both architectures build in the same tree. */
export function kunitTree(arch: 'um' | 'riscv' = 'um'): string {
  return built('build-kunit.sh', arch);
}

/** The riscv KUnit fixture's build directory (kunit.py --build_dir) and kernel, in the tree of kunitTree('riscv'). */
export const KUNIT_RISCV = { buildDir: '.kunit-riscv', kernel: '.kunit-riscv/arch/riscv/boot/Image' };

/** Generous per-test budget: the first run of a fresh machine builds the kernel (several minutes). */
export const FIXTURE_TIMEOUT_MS = 30 * 60 * 1000;

/** An rv64 initramfs whose /init is `source` (a nolibc C program) built by test/fixtures/build-rv64-init.sh in `tree`. */
export function rv64Init(tree: string, source: string): string {
  const script = join(__dirname, '..', 'fixtures', 'build-rv64-init.sh');
  return execFileSync('bash', [script, tree, source], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
}
