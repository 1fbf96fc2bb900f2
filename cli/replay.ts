// `kwb replay FILE`: run a boot saved by `kwb boot --record FILE` again, the same instructions and console, alone or
// under gdb (--gdb: the guest waits for gdb before its first instruction, and gdb can run it backwards).
import { ExitCode, KwbError, exitCodeFor } from '../engine/results.js';
import { parseRecord } from '../engine/options.js';
import { bootOptionTable, one, type OptionTable, type ParsedArgs } from './args.js';
import { describeResult, runGuest } from './boot.js';

export const replayOptions: OptionTable = {
  ...bootOptionTable([
    'kernel',
    'engine',
    'initrd',
    'rootfs',
    'disk',
    'share',
    'net',
    'pcap',
    'mem',
    'record',
    'bios',
    'append',
    'wait-gdb',
  ]),
  vmlinux: {
    value: 'FILE',
    help: "the recorded kernel's symbols for gdb (default: the vmlinux the recording names, if it is here)",
  },
  record: {
    value: 'SIZE',
    help: 'with --gdb: memory for the recording gdb runs backwards through (default 1G)',
    check: (text) => void recordCap(text),
  },
};

function recordCap(text: string): number {
  const cap = parseRecord(text);
  if (typeof cap !== 'number') throw new KwbError(`--record ${text}: give a size like 512M or 2G`);
  return cap;
}

/** The recording's file may come anywhere among the options (kwb replay FILE --gdb :1234): it goes after `--`. */
export function fileWord(argv: string[]): string[] {
  const out: string[] = [];
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '--') {
      files.push(...argv.slice(i + 1));
      break;
    }
    if (!word.startsWith('-')) files.push(word);
    else {
      out.push(word);
      const spec = replayOptions[word.slice(2)];
      if (spec?.value && !word.includes('=') && i + 1 < argv.length) out.push(argv[++i]!);
    }
  }
  return files.length ? [...out, '--', ...files] : out;
}

export async function replayCommand(args: ParsedArgs): Promise<number> {
  const [file, ...extra] = args.rest;
  if (!file || extra.length) throw new KwbError('give one recording to replay: kwb replay FILE [--gdb :1234]');
  const json = args.flags.has('json');
  const note = (s: string) => {
    if (!args.flags.has('quiet')) process.stderr.write(`kwb: ${s}\n`);
  };
  const gdb = one(args, 'gdb');
  const record = one(args, 'record');
  const timeout = one(args, 'timeout');
  // loaded here, as kwb boot does: the RISC-V machine is a large module graph
  const { startReplay } = await import('../engine/rv64/replay.js');
  const replay = startReplay({
    file,
    debug: !!gdb,
    vmlinux: one(args, 'vmlinux'),
    capBytes: record === undefined ? undefined : recordCap(record),
    timeoutSec: timeout === undefined ? undefined : Number(timeout),
    console: 'pipe',
    note,
  });
  const { result } = await runGuest(
    { kernel: file, console: 'pipe', log: one(args, 'log'), debug: gdb ? { wait: true } : undefined },
    {
      interactive: false,
      consoleTo: json ? 'stderr' : 'stdout',
      runMode: false,
      gdb,
      note,
      start: async () => replay.guest,
    },
  );
  const outcome = await replay.outcome;
  const message = describeResult(result);
  if (message && !outcome.matches) process.stderr.write(message + '\n');
  const code = outcome.matches || outcome.stoppedEarly ? exitCodeFor(result) : ExitCode.couldNotTest;
  if (json)
    process.stdout.write(
      JSON.stringify({
        matches: outcome.matches,
        replayed: outcome.replayed,
        recorded: replay.recorded,
        exitCode: code,
      }) + '\n',
    );
  return code;
}
