// Finding a program on PATH without running it (a spawn costs milliseconds; a few stat calls do not).
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';

/** The full path of `tool` on PATH, if it is there and executable. */
export function findOnPath(tool: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(':')) {
    if (!dir) continue;
    const file = join(dir, tool);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here: next directory
    }
  }
  return undefined;
}
