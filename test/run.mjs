// `npm test`: type-check, then every test/**/*.test.ts under node's test runner (with tsx for TypeScript).
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
const tsc = spawnSync('npx', ['tsc', '-p', '.', '--noEmit'], { stdio: 'inherit' });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...files], {
  stdio: 'inherit',
});
process.exit(run.status ?? 1);
