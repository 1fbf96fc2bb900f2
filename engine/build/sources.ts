// Edits to a kernel source tree, for `kwb watch --build`: one inotify watch per directory (a 6.1 tree has about
// 5,000; a watch per file would be 70,000), reporting changes to the files kbuild builds from and ignoring what a
// build writes next to them (objects, .cmd files, generated headers) and what editors leave (dot files, backups).
import { readdirSync, watch, type FSWatcher } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { KwbError } from '../results.js';

const SOURCE_FILE = /\.(?:c|h|S|rs|lds|dts|dtsi)$|^(?:Makefile|Kbuild|Kconfig)(?:\..*)?$/;
/** Directories a build fills with generated files. */
const GENERATED_DIR = /^(?:include\/(?:generated|config)|arch\/[^/]+\/include\/generated)(?:\/|$)/;

/** Whether a path relative to the source tree names a file whose edit a build must see. */
export function isSourcePath(rel: string): boolean {
  const parts = rel.split(sep);
  if (parts.some((p) => p.startsWith('.'))) return false;
  return SOURCE_FILE.test(parts[parts.length - 1]!) && !GENERATED_DIR.test(parts.join('/'));
}

export class SourceWatcher {
  private readonly watchers = new Map<string, FSWatcher>();

  private readonly skip?: string;

  /** Watch `source`, except `out` (the build's directory, when it is an O= directory inside the tree); `onChange`
   *  gets each edited source path. */
  constructor(
    private readonly source: string,
    out: string | undefined,
    private readonly onChange: (path: string) => void,
  ) {
    this.skip = out === source ? undefined : out;
    try {
      this.add(source);
    } catch (err) {
      this.close();
      throw err;
    }
  }

  private add(dir: string): void {
    const rel = relative(this.source, dir);
    if (
      dir === this.skip ||
      this.watchers.has(dir) ||
      (rel && (rel.split(sep).some((p) => p.startsWith('.')) || GENERATED_DIR.test(rel)))
    )
      return;
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // removed meanwhile
    }
    const listener = (_event: string, name: string | Buffer | null) => {
      if (!name) return;
      const path = join(dir, name.toString());
      // a directory created later (a new driver, git checkout) is watched too; adding one already watched is a no-op
      try {
        this.add(path);
      } catch {
        // over inotify's limit: that one directory goes unwatched
      }
      if (isSourcePath(relative(this.source, path))) this.onChange(path);
    };
    let watcher: FSWatcher;
    try {
      watcher = watch(dir, listener);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') return; // removed meanwhile, or not readable
      throw new KwbError(
        `the tree has more directories than inotify lets this user watch; raise the limit (sudo sysctl fs.inotify.max_user_watches=524288)`,
      );
    }
    watcher.on('error', () => this.remove(dir));
    this.watchers.set(dir, watcher);
    for (const e of entries) if (e.isDirectory()) this.add(join(dir, e.name));
  }

  private remove(dir: string): void {
    this.watchers.get(dir)?.close();
    this.watchers.delete(dir);
  }

  close(): void {
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }
}
