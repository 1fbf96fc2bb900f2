// Test kernels, built by test/fixtures/build-kernel.sh from Debian's linux-source-6.1 and cached outside the repo.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const trees = new Map<string, string>();

/** The kernel tree of the fixture for `arch`, building it on first use (minutes) and reusing the cache after. */
export function fixtureTree(arch: 'um' | 'riscv' | 'riscv-net'): string {
  let tree = trees.get(arch);
  if (!tree) {
    const script = join(__dirname, '..', 'fixtures', 'build-kernel.sh');
    tree = execFileSync('bash', [script, arch], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
    trees.set(arch, tree);
  }
  return tree;
}

/** The UML fixture: ./linux of `make ARCH=um defconfig` + DWARF5, GDB_SCRIPTS, FRAME_POINTER, MAGIC_SYSRQ. */
export function umlKernel(): string {
  return join(fixtureTree('um'), 'linux');
}

let kunit: string | undefined;

/** The KUnit fixture (test/fixtures/build-kunit.sh): a source tree whose kunit.py build is in <tree>/.kunit, with
 *  kunit_example_test.kwb_fault=fail|panic|hang to make example_simple_test fail, crash or hang. */
export function kunitTree(): string {
  const script = join(__dirname, '..', 'fixtures', 'build-kunit.sh');
  kunit ??= execFileSync('bash', [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  return kunit;
}

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
