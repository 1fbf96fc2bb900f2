// The guests the gdb stub fuzz attacks (test/integration/gdb-fuzz.test.ts, bench/gdbstub-fuzz.ts): real kernels
// served by the real kwb CLI with --gdb, each kept alive until the fuzz is over and then let finish, so a test can
// check that the guest still ends as it would have with its own status.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { umlKernel } from './fixtures.js';
import type { KwbRun, Sandbox } from './kwb.js';
import { INIT_MARKER, INIT_PREFIX, rv64Fixture, rv64QemuSkipReason } from './rv64.js';
import { runServed, startServed, UML_TEXT, type ServedGuest } from './served.js';

export interface FuzzGuest {
  readonly name: string;
  /** Why this guest cannot run here, or false. */
  skip(): string | false;
  /** Memory the running guest has (the fuzzer reads there). */
  readonly memoryBase: bigint;
  /** The stub runs it backwards (bs, bc). */
  readonly reverse: boolean;
  start(box: Sandbox): Promise<FuzzedGuest>;
}

export interface FuzzedGuest {
  served: ServedGuest;
  /** Let the guest run to its end (its command or init was waiting for this). */
  finish(): Promise<void>;
  /** Why kwb's result is not the end this guest would have had without the fuzz, or undefined when it is. */
  wrongEnd(r: KwbRun): string | undefined;
  dispose(): void;
}

const UML_STATUS = 7;

/** The UML fixture running a command that waits for a file in a shared directory, then exits with UML_STATUS. */
export const UML_GUEST: FuzzGuest = {
  name: 'UML',
  skip: () => false,
  memoryBase: UML_TEXT,
  reverse: false,
  async start(box) {
    const shared = mkdtempSync(join(tmpdir(), 'kwb-fuzz-'));
    const over = join(shared, 'over');
    const command = ['sh', '-c', `while [ ! -e ${over} ]; do sleep 0.1; done; exit ${UML_STATUS}`];
    const served = await runServed(box, umlKernel(), command, { extra: ['--share', shared] });
    return {
      served,
      finish: async () => writeFileSync(over, ''),
      wrongEnd: (r) => (r.code === UML_STATUS ? undefined : `exit ${r.code}, not the command's ${UML_STATUS}`),
      dispose: () => rmSync(shared, { recursive: true, force: true }),
    };
  },
};

/** The RISC-V fixture kernel on kwb's rv64 engine (recorded: gdb can run it backwards), its test init held by
 *  kwb.hold until a line of console input, then powering off: kwb exits 0, the init's lines shown once. */
export const RV64_GUEST: FuzzGuest = {
  name: 'rv64',
  skip: rv64QemuSkipReason,
  memoryBase: 0xffffffff80000000n, // the kernel's text, mapped once the MMU is on
  reverse: true,
  async start(box) {
    const { image, initramfs } = rv64Fixture();
    const served = await startServed(box, [
      'boot',
      '--kernel',
      image,
      '--initrd',
      initramfs,
      '--append',
      'kwb.hold',
      '--gdb',
      '127.0.0.1:0',
    ]);
    const held = `${INIT_PREFIX}holding until a line of input`;
    return {
      served,
      async finish() {
        const deadline = Date.now() + 300_000;
        while (!served.stdout().includes(held)) {
          if (Date.now() > deadline) throw new Error(`the guest never reached its init:\n${served.stdout()}`);
          await new Promise((r) => setTimeout(r, 100));
        }
        served.input('go\n');
      },
      wrongEnd(r) {
        if (r.code !== 0) return `exit ${r.code}, not 0 (a poweroff)`;
        const lines = r.stdout.split('\n').filter((l) => l.startsWith(INIT_PREFIX));
        if (lines.filter((l) => l.startsWith(INIT_MARKER)).length !== 1 || !lines.at(-1)?.includes('powering off'))
          return `the init's lines are not its run once to the poweroff:\n${lines.join('\n')}`;
        return undefined;
      },
      dispose: () => {},
    };
  },
};

export const FUZZ_GUESTS: readonly FuzzGuest[] = [UML_GUEST, RV64_GUEST];
