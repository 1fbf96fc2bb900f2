// Launch and attach arguments (the `kwb` debug configuration): their launch.json schema and the kwb command line a
// launch runs, both derived from the boot option table (engine/options.ts), and the gdb each drives, from KernelInfo.
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { debugInfo, gdbArgs, kernelInfo } from '../../engine/kernel.js';
import { LAUNCH_OPTIONS, type BootLaunchProperties, type BootOption } from '../../engine/options.js';

/** What the adapter itself reads, beside the boot options it hands to kwb. */
interface AdapterProperties {
  /** Symbols; default: the kernel tree's vmlinux, else the kernel itself. */
  vmlinux?: string;
  /** Run this in the guest (like kwb run -- CMD); default: a shell on the guest console. */
  command?: string[];
  /** Stop at start_kernel. */
  stopAtEntry?: boolean;
  /** Debug KUnit tests: run those matching this filter glob ("*": all) and stop at the first failing expectation,
   *  in the failing test's frame. */
  kunit?: string;
  gdbPath?: string;
  /** The kwb CLI to run (default: the one bundled beside this adapter). */
  kwbPath?: string;
  cwd?: string;
}

export interface LaunchArguments
  extends DebugProtocol.LaunchRequestArguments, BootLaunchProperties, AdapterProperties {}

export interface AttachArguments extends DebugProtocol.AttachRequestArguments {
  /** host:port of any RSP stub (kwb's, QEMU's -s, a board's gdbserver). */
  target: string;
  vmlinux?: string;
  gdbPath?: string;
  cwd?: string;
}

type Schema = Record<string, unknown>;

function optionSchema(o: BootOption): Schema {
  const description = o.engines.length === 1 ? `${o.help}; ${o.engines[0]} engine only` : o.help;
  const type =
    o.kind === 'number' ? 'number' : o.kind === 'list' ? ['string', 'array'] : o.kind === 'flag' ? 'boolean' : 'string';
  return {
    type,
    ...(o.kind === 'list' ? { items: { type: 'string' } } : {}),
    ...(o.choices ? { enum: [...o.choices] } : {}),
    description: description[0]!.toUpperCase() + description.slice(1) + '.',
  };
}

/** `contributes.debuggers[0].configurationAttributes` of package.json (written by scripts/launch-schema.mjs). */
export function configurationAttributes(): Schema {
  const gdbPath = {
    type: 'string',
    description: 'gdb to use (default: chosen from the kernel: gdb or gdb-multiarch).',
  };
  return {
    launch: {
      properties: {
        ...Object.fromEntries(LAUNCH_OPTIONS.map((o) => [o.name, optionSchema(o)])),
        vmlinux: { type: 'string', description: "ELF with symbols. Default: the tree's vmlinux, else the kernel." },
        command: {
          type: 'array',
          items: { type: 'string' },
          description: 'Run this in the guest (like kwb run -- CMD); default: a shell on the guest console.',
        },
        stopAtEntry: { type: 'boolean', description: 'Stop at start_kernel.', default: false },
        kunit: {
          type: 'string',
          description:
            'Debug KUnit tests (a kernel built by kwb kunit or kunit.py, e.g. .kunit/linux): run the tests matching ' +
            'this filter glob (SUITE[.TEST]; "*" for all) and stop at the first failing expectation, in the ' +
            "failing test's frame.",
        },
        gdbPath,
      },
    },
    attach: {
      required: ['target'],
      properties: {
        target: {
          type: 'string',
          description: "host:port of an RSP stub (kwb boot --gdb, QEMU -s, a board's gdbserver).",
        },
        vmlinux: { type: 'string', description: 'ELF with symbols.' },
        gdbPath,
      },
    },
  };
}

/** The gdb to run and its arguments before the target. */
export interface GdbLaunch {
  path: string;
  args: string[];
}

/** gdb for a launch: the kernel's own (from its headers), on its symbols with its tree's scripts allowed. */
export function launchGdb(a: LaunchArguments): GdbLaunch {
  if (!a.kernel || !existsSync(a.kernel))
    throw new Error(
      `kwb: no kernel at ${a.kernel ?? '(none given)'}; build one (kwb build) or set "kernel" in launch.json`,
    );
  const kernel = kernelInfo(a.kernel);
  const debug = a.vmlinux ? debugInfo(a.vmlinux) : kernel;
  return { path: a.gdbPath ?? debug.gdb, args: gdbArgs(debug) };
}

/** gdb for an attach: chosen from the symbols given (gdb-multiarch without any). */
export function attachGdb(a: AttachArguments): GdbLaunch {
  const debug = debugInfo(a.vmlinux);
  return { path: a.gdbPath ?? debug.gdb, args: gdbArgs(debug) };
}

/** A free loopback port for the stub (a race with another process is possible but harmless: kwb then fails loudly). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** `kwb boot` arguments for a launch: every boot option launch.json set; the guest waits for gdb on `port`. */
export function kwbBootArgs(a: LaunchArguments, port: number): string[] {
  const args = ['boot', '--gdb', `127.0.0.1:${port}`, '--wait-gdb'];
  const given = a as Record<string, unknown>;
  for (const o of LAUNCH_OPTIONS) {
    const value = given[o.name];
    const values = Array.isArray(value) ? value : value === undefined || value === '' ? [] : [value];
    for (const v of values) {
      if (o.kind === 'flag') {
        if (v === true) args.push(`--${o.name}`);
      } else args.push(`--${o.name}`, String(v));
    }
  }
  if (a.kunit !== undefined) args.push(...kunitAppend(a.kunit).flatMap((p) => ['--append', p]));
  if (a.command?.length) args.push('--', ...a.command);
  return args;
}

/** The kernel parameters of a KUnit run: halt when the tests are done (as kunit.py boots), and the filter. */
export function kunitAppend(filter: string): string[] {
  return ['kunit_shutdown=halt', ...(filter && filter !== '*' ? [`kunit.filter_glob=${filter}`] : [])];
}
