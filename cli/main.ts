// kwb's command line: one small module per command; this file only dispatches and turns errors into exit codes.
import { ExitCode, KwbError } from '../engine/results.js';
import { helpText } from './args.js';

const USAGE = `kwb: run a freshly built Linux kernel as a process on this machine, and debug it

usage: kwb <command> [options]

  build   configure (kwb's debug fragment + yours) and make the kernel of a tree, incrementally
  boot    boot a kernel; its console is this terminal (kwb boot --help)
  run     boot, run a command in the guest, exit with its status (kwb run [options] -- CMD...)
  gdb     start gdb on the kernel's symbols, attached to a guest served by kwb boot --gdb
  test    boot, run CMD, verdict for git bisect run: 0 good, 1 bad, 125 skip
  bisect  find the commit that broke a test: build, boot and test each step (--resume, --reset)
  watch   boot, and boot again each time the kernel is rebuilt (same gdb port)
  doctor  check this host and say how to fix what is missing

Exit codes: the guest command's status; 2 usage error; 122 interrupted; 123 kernel panic; 124 timeout;
125 could not test. See README.md.`;

interface Command {
  run(argv: string[]): Promise<number>;
  help: string;
}

// Each command's module is loaded only when that command runs: kwb's start-up is part of every boot's wall time.
const commands: Record<string, () => Promise<Command>> = {
  boot: async () => {
    const { bootCommand, bootOptions } = await import('./boot.js');
    return { run: (argv) => bootCommand('boot', argv), help: helpText('kwb boot [options] [-- CMD...]', bootOptions) };
  },
  run: async () => {
    const { bootCommand, bootOptions } = await import('./boot.js');
    return { run: (argv) => bootCommand('run', argv), help: helpText('kwb run [options] -- CMD...', bootOptions) };
  },
  build: async () => {
    const { buildCommand, buildOptions } = await import('./build.js');
    return {
      run: buildCommand,
      help: helpText('kwb build [--tree DIR] [--arch um|riscv] [--config FRAGMENT]', buildOptions),
    };
  },
  test: async () => {
    const { testCommand, testOptions } = await import('./test.js');
    return { run: testCommand, help: helpText('kwb test [options] [--ktap] [--runs N] -- CMD...', testOptions) };
  },
  bisect: async () => {
    const { bisectCommand, bisectOptions } = await import('./bisect.js');
    const usage =
      'kwb bisect --good REV --bad REV [--tree DIR] [test options] -- CMD...\n       kwb bisect --resume | --reset';
    return { run: bisectCommand, help: helpText(usage, bisectOptions) };
  },
  watch: async () => {
    const [{ watchCommand }, { bootOptions }] = await Promise.all([import('./watch.js'), import('./boot.js')]);
    return { run: watchCommand, help: helpText('kwb watch [boot options] [-- CMD...]', bootOptions) };
  },
  gdb: async () => {
    const { gdbCommand, gdbOptions } = await import('./gdb.js');
    return { run: gdbCommand, help: helpText('kwb gdb [--port N] [-- GDB ARGS...]', gdbOptions) };
  },
  doctor: async () => {
    const { doctorCommand } = await import('./doctor.js');
    return { run: () => doctorCommand(), help: 'usage: kwb doctor' };
  },
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(USAGE + '\n');
    return name ? ExitCode.ok : ExitCode.usage;
  }
  if (name === '--version') {
    process.stdout.write('kwb 0.1.0\n');
    return ExitCode.ok;
  }
  const load = commands[name];
  if (!load) throw new KwbError(`unknown command '${name}'; run kwb --help for the list`);
  const command = await load();
  if (rest.includes('--help') && !rest.slice(0, rest.indexOf('--help')).includes('--')) {
    process.stdout.write(command.help + '\n');
    return ExitCode.ok;
  }
  return command.run(rest);
}

function exit(code: number): void {
  // leave once what we printed is flushed; nothing else (a paused stdin, a timer) keeps kwb alive
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

main(process.argv.slice(2)).then(exit, (err: unknown) => {
  if (err instanceof KwbError) {
    process.stderr.write(`kwb: ${err.message}\n`);
    exit(err.exitCode);
  } else {
    process.stderr.write(`kwb: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    exit(ExitCode.couldNotTest);
  }
});
