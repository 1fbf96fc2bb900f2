// kwb's command line: one small module per command; this file parses each command's options with the one parser
// (cli/args.ts), answers -h/--help and `kwb help CMD`, and turns errors into one line and an exit code.
import { ExitCode, KwbError } from '../engine/results.js';
import { helpText, parseArgs, type OptionTable, type ParsedArgs } from './args.js';

const USAGE = `kwb: run a freshly built Linux kernel as a process on this machine, and debug it

usage: kwb <command> [options]      (kwb help <command>, or kwb <command> --help, for its options)

  build   configure (kwb's debug fragment + yours) and make the kernel of a tree, incrementally
  boot    boot a kernel; its console is this terminal
  run     boot, run a command in the guest, exit with its status (kwb run [options] -- CMD...)
  gdb     start gdb on the kernel's symbols, attached to a guest served by kwb boot --gdb
  test    boot, run CMD, verdict for git bisect run: 0 good, 1 bad, 125 skip
  kunit   build KUnit tests with kunit.py, boot them, print the results (--gdb: debug the failing test)
  bisect  find the commit that broke a test: build, boot and test each step (--resume, --reset)
  watch   boot, and boot again each time the kernel is rebuilt (same gdb port)
  replay  run a boot saved by kwb boot --record FILE again, the same instructions (--gdb: debug it, backwards too)
  lab     several networked guests from one file: kwb lab up|down|status|console NAME|gdb NAME
  rootfs  build a Debian root with mmdebstrap (cached; --rootfs debian boots the default one)
  doctor  check this host and say how to fix what is missing

Exit codes: the guest command's status; 2 usage error; 122 interrupted; 123 kernel panic; 124 timeout;
125 could not test. See README.md.`;

export interface Command {
  usage: string;
  options: OptionTable;
  /** Exit code for a usage error, when not 2 (kwb test: 125, so git bisect run never takes a typo for "bad"). */
  usageExit?: number;
  run(args: ParsedArgs, argv: string[]): Promise<number>;
  /** Words in another tool's syntax turned into options before parsing (kwb build's make-style O=DIR). */
  rewrite?: (argv: string[]) => string[];
}

// Each command's module is loaded only when that command runs: kwb's start-up is part of every boot's wall time.
const commands: Record<string, () => Promise<Command>> = {
  boot: async () => {
    const { bootCommand, bootOptions } = await import('./boot.js');
    return { usage: 'kwb boot [options] [-- CMD...]', options: bootOptions, run: (a) => bootCommand('boot', a) };
  },
  run: async () => {
    const { bootCommand, bootOptions } = await import('./boot.js');
    return { usage: 'kwb run [options] -- CMD...', options: bootOptions, run: (a) => bootCommand('run', a) };
  },
  build: async () => {
    const { buildCommand, buildOptions, makeStyleArgs } = await import('./build.js');
    return {
      usage: 'kwb build [--tree DIR] [O=DIR | --out DIR] [--arch um|riscv] [--config FRAGMENT]',
      options: buildOptions,
      rewrite: makeStyleArgs,
      run: buildCommand,
    };
  },
  test: async () => {
    const { testCommand, testOptions } = await import('./test.js');
    return {
      usage: 'kwb test [options] [--ktap] [--runs N] -- CMD...',
      options: testOptions,
      usageExit: ExitCode.couldNotTest,
      run: (_a, argv) => testCommand(argv),
    };
  },
  kunit: async () => {
    const { kunitCommand, kunitOptions, filterWord } = await import('./kunit.js');
    return {
      usage: 'kwb kunit [--kunitconfig FILE|DIR] [--gdb [HOST:]PORT] [options] [FILTER_GLOB]',
      options: kunitOptions,
      rewrite: filterWord,
      run: kunitCommand,
    };
  },
  bisect: async () => {
    const { bisectCommand, bisectOptions } = await import('./bisect.js');
    return {
      usage:
        'kwb bisect --good REV --bad REV [--tree DIR] [--config FRAGMENT] [--kunitconfig FILE|DIR] [test options] [-- CMD...]\n' +
        '       kwb bisect --resume | --reset',
      options: bisectOptions,
      run: bisectCommand,
    };
  },
  watch: async () => {
    const { watchCommand, watchOptions } = await import('./watch.js');
    return {
      usage: 'kwb watch [--build [--distcc HOSTS] [--no-ccache]] [boot options] [-- CMD...]',
      options: watchOptions,
      run: watchCommand,
    };
  },
  replay: async () => {
    const { replayCommand, replayOptions, fileWord } = await import('./replay.js');
    return {
      usage: 'kwb replay FILE [--gdb [HOST:]PORT] [--vmlinux FILE] [--record SIZE] [options]',
      options: replayOptions,
      rewrite: fileWord,
      run: replayCommand,
    };
  },
  gdb: async () => {
    const { gdbCommand, gdbOptions } = await import('./gdb.js');
    return { usage: 'kwb gdb [--port N] [-- GDB ARGS...]', options: gdbOptions, run: gdbCommand };
  },
  lab: async () => {
    const { labCommand, labOptions, labArgs } = await import('./lab.js');
    return {
      usage: 'kwb lab up|down|status|console NAME|gdb NAME [--file lab.yaml]',
      options: labOptions,
      rewrite: labArgs,
      run: labCommand,
    };
  },
  rootfs: async () => {
    const { rootfsCommand, rootfsOptions } = await import('./rootfs.js');
    return {
      usage: 'kwb rootfs [--suite SUITE] [--packages A,B,...] [--out DIR]',
      options: rootfsOptions,
      run: rootfsCommand,
    };
  },
  doctor: async () => {
    const { doctorCommand, doctorOptions } = await import('./doctor.js');
    return { usage: 'kwb doctor [--distcc HOSTS]', options: doctorOptions, run: doctorCommand };
  },
};

/** The command being run, for the one prefix of its error messages. */
let current = 'kwb';

async function load(name: string): Promise<Command> {
  const loader = commands[name];
  if (!loader) throw new KwbError(`unknown command '${name}'; run kwb --help for the list`);
  current = `kwb ${name}`;
  return loader();
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || (name === 'help' && !rest.length)) {
    process.stdout.write(USAGE + '\n');
    return name ? ExitCode.ok : ExitCode.usage;
  }
  if (name === '--version') {
    process.stdout.write('kwb 0.1.0\n');
    return ExitCode.ok;
  }
  if (name === 'help') {
    const command = await load(rest[0]!);
    process.stdout.write(helpText(command.usage, command.options) + '\n');
    return ExitCode.ok;
  }
  const command = await load(name);
  let args: ParsedArgs;
  try {
    args = parseArgs(command.rewrite ? command.rewrite(rest) : rest, command.options);
  } catch (err) {
    if (err instanceof KwbError && command.usageExit !== undefined) throw new KwbError(err.message, command.usageExit);
    throw err;
  }
  if (args.help) {
    process.stdout.write(helpText(command.usage, command.options) + '\n');
    return ExitCode.ok;
  }
  return command.run(args, rest);
}

function exit(code: number): void {
  // leave once what we printed is flushed; nothing else (a paused stdin, a timer) keeps kwb alive
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

main(process.argv.slice(2)).then(exit, (err: unknown) => {
  if (err instanceof KwbError) {
    process.stderr.write(`${current}: ${err.message}\n`);
    exit(err.exitCode);
  } else {
    process.stderr.write(
      `${current}: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    exit(ExitCode.couldNotTest);
  }
});
