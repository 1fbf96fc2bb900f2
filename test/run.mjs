// `npm test`: bundle, type-check, lint, check the format, then every test/**/*.test.ts under node's test runner (with tsx for TypeScript).
// Set KWB_TEST=unit to run only test/unit; pass file paths to run just those.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function find(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return find(path);
    return name.endsWith('.test.ts') ? [path] : [];
  });
}

const args = process.argv.slice(2);
const files = args.length ? args : find(process.env.KWB_TEST === 'unit' ? 'test/unit' : 'test').sort();
// integration tests run the bundled CLI and adapter (dist/), so bundle first: esbuild takes well under a second
const bundle = spawnSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
if (bundle.status !== 0) process.exit(bundle.status ?? 1);
// the static checks CI holds every change to: types, lint, format
for (const check of [
  ['tsc', '-p', '.', '--noEmit'],
  ['eslint', '.'],
  ['prettier', '--check', '--log-level', 'warn', '.'],
]) {
  const run = spawnSync('npx', check, { stdio: 'inherit' });
  if (run.status !== 0) process.exit(run.status ?? 1);
}
// --test-force-exit: a file whose tests are over (passed, failed or timed out) ends even if something it started
// still holds its event loop (a debug adapter waiting on a wedged gdb): one stuck test must not stall the whole run
const run = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-force-exit', ...files],
  {
    stdio: 'inherit',
  },
);
process.exit(run.status ?? 1);
