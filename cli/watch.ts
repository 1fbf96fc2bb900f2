// `kwb watch`: boot the kernel, and boot it again whenever it is rebuilt (its content changes: a touch is not a
// rebuild), keeping the gdb stub's port so that an attached debugger, or VS Code, reconnects.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import { watch } from 'chokidar';
import type { Guest } from '../engine/guest.js';
import { ExitCode } from '../engine/results.js';
import { one, type ParsedArgs } from './args.js';
import { bootOptionsFrom, describeResult, runGuest } from './boot.js';

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
  const opts = bootOptionsFrom(args, args.rest.length ? args.rest : undefined, say);
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
  const stopAll = (sig: NodeJS.Signals) => {
    quit = true;
    say(`${sig}: stopping`);
    changed();
    void current?.stop(`interrupted by ${sig}`);
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, stopAll);
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
    await watcher.close();
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.removeListener(sig, stopAll);
  }
  return ExitCode.ok;
}
