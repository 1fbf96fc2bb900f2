// `kwb rootfs`: build (or find in the cache) a Debian root with mmdebstrap; prints the image's path.
import { resolve } from 'node:path';
import {
  buildDebianRoot,
  cachedDebianImage,
  debianSpec,
  DEFAULT_PACKAGES,
  DEFAULT_SUITE,
} from '../engine/rootfs/debian.js';
import { formatSeconds } from '../engine/build/progress.js';
import { one, type OptionTable, type ParsedArgs } from './args.js';
import { Progress } from './progress.js';

export const rootfsOptions: OptionTable = {
  suite: { value: 'SUITE', help: `the Debian suite (default ${DEFAULT_SUITE})` },
  packages: {
    value: 'A,B,...',
    repeat: true,
    help: `the packages (default, as --rootfs debian boots: ${DEFAULT_PACKAGES.join(',')})`,
  },
  out: { value: 'DIR', help: "write DIR/root.ext2 instead of keeping it in kwb's cache" },
  quiet: { help: 'no progress' },
};

export async function rootfsCommand(args: ParsedArgs): Promise<number> {
  const listed = args.options.get('packages')?.flatMap((p) => p.split(',').filter(Boolean));
  const spec = debianSpec(one(args, 'suite') ?? DEFAULT_SUITE, listed ?? DEFAULT_PACKAGES);
  const outArg = one(args, 'out');
  const out = outArg === undefined ? undefined : resolve(outArg);
  const cached = out ? undefined : cachedDebianImage(spec);
  if (cached) {
    process.stdout.write(cached + '\n');
    return 0;
  }
  const progress = new Progress(!args.flags.has('quiet'));
  const t0 = performance.now();
  const image = await buildDebianRoot(spec, {
    out,
    onStage: (stage) => progress.stage(`kwb rootfs: ${stage}`),
    onLine: (line) => progress.update(line),
  }).finally(() => progress.done());
  progress.stage(`kwb rootfs: built in ${formatSeconds((performance.now() - t0) / 1000)}`);
  process.stdout.write(image + '\n');
  return 0;
}
