// KTAP results for people, in kunit.py's words: one line per suite ([PASSED], [FAILED], [SKIPPED]), each failed
// test with its log (the failed expectation and its values), and kunit.py's summary line ("Ran N tests: ...").
import type { KtapResults } from '../engine/bisect/verdict.js';

export function formatKtap(ktap: KtapResults): string[] {
  const suites = new Map<string, { passed: number; failed: number; skipped: number }>();
  for (const t of ktap.tests) {
    const suite = t.name.split('.')[0]!;
    const s = suites.get(suite) ?? { passed: 0, failed: 0, skipped: 0 };
    if (t.status === 'fail') s.failed++;
    else if (t.status === 'skip' || t.status === 'todo') s.skipped++;
    else s.passed++;
    suites.set(suite, s);
  }
  const lines: string[] = [];
  for (const [suite, s] of suites) {
    const mark = s.failed ? '[FAILED]' : s.passed ? '[PASSED]' : '[SKIPPED]';
    lines.push(`${mark.padEnd(9)} ${suite} (${counted(s) || 'no tests'})`);
  }
  for (const t of ktap.tests.filter((t) => t.status === 'fail')) {
    lines.push(`[FAILED]  ${t.name}`);
    for (const l of t.log ?? []) lines.push(`    ${l}`);
  }
  if (ktap.running) lines.push(`[CRASHED] ${ktap.running}`);
  const total = ktap.passed + ktap.failed + ktap.skipped;
  lines.push(`Testing complete. Ran ${total} tests: ${counted(ktap)}`.trimEnd());
  return lines;
}

/** kunit.py's TestCounts wording: the non-zero counts only. */
function counted(c: { passed: number; failed: number; skipped: number }): string {
  return (['passed', 'failed', 'skipped'] as const)
    .filter((k) => c[k] > 0)
    .map((k) => `${k}: ${c[k]}`)
    .join(', ');
}
