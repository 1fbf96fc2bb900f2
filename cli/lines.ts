// Drops lines kwb itself causes from a console stream (UML's "reboot: System halted" after kwb's init powers off),
// so `kwb run` prints what the guest command printed.
import { Transform, type TransformCallback } from 'node:stream';

export function dropLines(pattern: RegExp): Transform {
  let partial = '';
  return new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop()!;
      const kept = lines.filter((line) => !pattern.test(line));
      done(null, kept.length ? kept.join('\n') + '\n' : undefined);
    },
    flush(done: TransformCallback) {
      done(null, partial && !pattern.test(partial) ? partial : undefined);
    },
  });
}
