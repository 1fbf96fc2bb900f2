// `kwb watch`: boot the kernel, and boot it again whenever it is rebuilt (its content changes: a touch is not a
// rebuild), keeping the gdb stub's port so that an attached debugger, or VS Code, reconnects. With --build, kwb
// itself rebuilds the tree here (as kwb build, on the compile farm the options name) after each edit of its sources.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { relative, resolve } from 'node:path';
import { watch } from 'chokidar';
import { kernelOutput, type BuildOptions, type BuildResult } from '../engine/build/build.js';
import { formatSeconds } from '../engine/build/progress.js';
import { defaultLog } from '../engine/build/record.js';
import { SourceWatcher } from '../engine/build/sources.js';
import type { Guest } from '../engine/guest.js';
import { ExitCode, KwbError } from '../engine/results.js';
import { one, type OptionTable, type ParsedArgs } from './args.js';
import { bootOptions, bootOptionsFrom, describeResult, runGuest } from './boot.js';
import { archOf, buildShowingProgress, ccacheLine, distccLine, locate } from './build.js';
import { farmFrom, farmOptions } from './farm.js';
import { Progress } from './progress.js';

export const watchOptions: OptionTable = {
  ...bootOptions,
  build: {
    help: "build the kernel of the tree here (as kwb build, incrementally), boot it, and build again whenever one of the tree's source files changes",
  },
  ...farmOptions,
};

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Edits after which a build waits this long for more (an editor's save, a git checkout): one build for all. */
const SETTLE_MS = 300;

/** kwb watch --build: builds the tree, and again after each edit of its sources (one build at a time; edits made
 *  during a build start another when it ends). The kernel watcher sees the new kernel and reboots. */
class Rebuilder {
  private readonly abort = new AbortController();
  private sources?: SourceWatcher;
  private timer?: NodeJS.Timeout;
  private edited?: string;
  private building = false;
  private stopped = false;
  /** The kernel the builds make: the one to boot. */
  readonly kernel: string;

  constructor(
    private readonly build: Omit<BuildOptions, 'onProgress' | 'signal'>,
    private readonly say: (line: string) => void,
    private readonly progress: Progress,
  ) {
    this.kernel = kernelOutput(build.out ?? build.source, build.arch);
  }

  run(): Promise<BuildResult> {
    return buildShowingProgress({ ...this.build, signal: this.abort.signal }, this.progress, 'kwb watch');
  }

  /** Start watching the sources (an O= directory inside the tree is not a source). */
  watch(): void {
    this.sources = new SourceWatcher(this.build.source, this.build.out, (path) => {
      this.edited ??= path;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.rebuild(), SETTLE_MS);
    });
  }

  private async rebuild(): Promise<void> {
    if (this.building || this.stopped || !this.edited) return;
    this.building = true;
    const edited = relative(this.build.source, this.edited);
    this.edited = undefined;
    this.say(`${edited} changed; building`);
    const r = await this.run();
    this.building = false;
    if (this.stopped) return;
    if (r.ok)
      this.say(`built in ${formatSeconds(r.seconds)}: ${r.objects} objects; ${ccacheLine(r)}; ${distccLine(r.distcc)}`);
    else {
      process.stderr.write(`${r.tail ?? ''}\n`);
      this.say(`the build failed (log: ${this.build.log}); the guest runs on, waiting for the next edit`);
    }
    // edits made while it built
    if (this.edited) void this.rebuild();
  }

  /** Whether close() was called (a Ctrl-C): a build it stopped is no failure of the tree's. */
  get closed(): boolean {
    return this.stopped;
  }

  close(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.sources?.close();
    this.abort.abort();
  }
}

/** The --build part of kwb watch, when asked for: the first build done (a failed one is an error, exit 1). */
async function startBuilding(args: ParsedArgs, say: (line: string) => void): Promise<Rebuilder | undefined> {
  if (!args.flags.has('build')) {
    if (args.flags.has('no-ccache') || one(args, 'distcc'))
      throw new KwbError('--no-ccache and --distcc are for the builds of kwb watch --build');
    return undefined;
  }
  if (one(args, 'kernel')) throw new KwbError('--build boots the kernel it builds; drop --kernel');
  const { source, out } = locate(undefined, undefined, 'run kwb watch --build inside one (or in its O= directory)');
  const log = defaultLog(out);
  const rebuilder = new Rebuilder(
    { source, out, arch: archOf(undefined, out), log, ...farmFrom(args) },
    say,
    new Progress(!args.flags.has('quiet')),
  );
  // Ctrl-C during the first build stops make and everything it started (they run in a process group of their own)
  const interrupt = () => rebuilder.close();
  for (const sig of SIGNALS) process.on(sig, interrupt);
  const first = await rebuilder.run().finally(() => {
    for (const sig of SIGNALS) process.removeListener(sig, interrupt);
  });
  if (rebuilder.closed) throw new KwbError('interrupted during the first build', ExitCode.interrupted);
  if (!first.ok) {
    process.stderr.write(`${first.tail ?? ''}\n`);
    throw new KwbError(`the build failed after ${formatSeconds(first.seconds)}; full log: ${log}`, 1);
  }
  say(`built ${first.kernel} in ${formatSeconds(first.seconds)}`);
  return rebuilder;
}

async function contentHash(path: string): Promise<string | undefined> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  } catch {
    return undefined; // mid-rebuild: the file is gone or half written
  }
  return hash.digest('hex');
}

export async function watchCommand(args: ParsedArgs): Promise<number> {
  const say = (s: string) => process.stderr.write(`kwb watch: ${s}\n`);
  const rebuilder = await startBuilding(args, say);
  const opts = bootOptionsFrom(args, args.rest.length ? args.rest : undefined, say, rebuilder?.kernel);
  const kernel = resolve(opts.kernel);
  let gdb = one(args, 'gdb');
  let booted = await contentHash(kernel);
  let current: Guest | undefined;
  let quit = false;
  let changed: () => void = () => {};

  // make rewrites the file in place or replaces it; wait until it has been quiet for a moment
  const watcher = watch(kernel, {
    awaitWriteFinish: { stabilityThreshold: 400, pollInterval: 100 },
    ignoreInitial: true,
  });
  watcher.on('all', (event) => {
    if (event !== 'add' && event !== 'change') return;
    void contentHash(kernel).then((hash) => {
      if (!hash || hash === booted) return;
      booted = hash;
      say('the kernel was rebuilt; rebooting');
      changed();
      void current?.stop('the kernel was rebuilt');
    });
  });
  await new Promise<void>((r) => watcher.once('ready', () => r()));
  rebuilder?.watch();
  const stopAll = (sig: NodeJS.Signals) => {
    quit = true;
    say(`${sig}: stopping`);
    rebuilder?.close();
    changed();
    void current?.stop(`interrupted by ${sig}`);
  };
  for (const sig of SIGNALS) process.on(sig, stopAll);
  try {
    while (!quit) {
      const rebuilt = new Promise<void>((r) => (changed = r));
      const { result } = await runGuest(opts, {
        interactive: false,
        consoleTo: 'stdout',
        runMode: !!opts.command,
        gdb,
        note: say,
        onStart: (guest, port) => {
          current = guest;
          // the next boot serves gdb on the same port, so clients can reconnect
          if (port !== undefined && gdb) gdb = gdb.replace(/\d+$/, String(port));
        },
      });
      current = undefined;
      if (quit) break;
      const message = describeResult(result);
      const ended =
        result.kind === 'exited'
          ? `the guest exited with status ${result.code ?? 0}`
          : (message ?? result.kind).replace(/^kwb: /, '');
      if (result.detail !== 'the kernel was rebuilt') {
        say(`${ended}; waiting for the kernel to be rebuilt (Ctrl-C ends)`);
        await rebuilt;
      }
    }
  } finally {
    rebuilder?.close();
    await watcher.close();
    for (const sig of SIGNALS) process.removeListener(sig, stopAll);
  }
  return ExitCode.ok;
}
