// KUnit fixtures and the comparison with kunit.py: its own parser on a console log, and kwb's --json counts written
// as kunit.py's "Ran N tests: ..." summary.
import { spawnSync } from 'node:child_process';

/** Appended to a fixture kernel's command line: fail|panic|hang makes example_simple_test fail, crash or hang. */
export const FAULT = 'kunit_example_test.kwb_fault';

/** What kwb test --ktap --json prints. */
export interface KtapJson {
  verdict: string;
  reason: string;
  ktap: { passed: number; failed: number; skipped: number; failures: string[]; tests: { name: string }[] };
}

/** kunit.py's own parser (`kunit.py parse`, from `tree`) on a console log: its "Ran N tests: ..." summary. */
export function kunitPyParse(tree: string, log: string): string | undefined {
  // it exits 1 when a test failed: its summary is what is compared
  const out = spawnSync('python3', ['tools/testing/kunit/kunit.py', 'parse', log], { cwd: tree, encoding: 'utf8' });
  return ranLine(out.stdout);
}

/** The "Ran N tests: ..." of kunit.py's ("[12:00:00] Testing complete. ...") or kwb's "Testing complete." line. */
export function ranLine(text: string): string | undefined {
  return /Testing complete\. (Ran .*)$/m.exec(text)?.[1];
}

/** kwb's --json counts as kunit.py words them. */
export function ranFromJson(json: KtapJson): string {
  const { passed, failed, skipped } = json.ktap;
  const counts = [
    ['passed', passed],
    ['failed', failed],
    ['skipped', skipped],
  ] as const;
  return `Ran ${passed + failed + skipped} tests: ${counts
    .filter(([, n]) => n)
    .map(([k, n]) => `${k}: ${n}`)
    .join(', ')}`;
}
