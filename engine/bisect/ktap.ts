// A KTAP / KUnit result parser (Documentation/dev-tools/ktap.rst): version lines, plans, `ok`/`not ok` lines with
// SKIP/TODO/XFAIL directives, nested subtests by indentation (KTAP v1) or `# Subtest:` headers (KUnit's TAP 13),
// and kernel log prefixes ("[    1.234567] ") in front of every line. Lenient: lines it does not know are ignored,
// except that diagnostic lines are kept as the log of the test whose result follows them (KUnit's assertion messages).

export type KtapStatus = 'pass' | 'fail' | 'skip' | 'xfail' | 'todo';

export interface KtapTest {
  name: string;
  number: number;
  status: KtapStatus;
  /** The directive's text after SKIP/TODO/XFAIL, if any. */
  reason?: string;
  subtests: KtapTest[];
  /** The plan this test's subtests announced (1..N), if any. */
  plan?: number;
  /** Diagnostic lines printed for this test before its result (KUnit: the failed expectation and its values). */
  log: string[];
}

/** Where a document that stopped early stopped: the open tests, outermost first (KUnit: the suite, then a
 *  parameterised case), and the number of the test that was running in the innermost one. */
export interface KtapRunning {
  path: string[];
  number: number;
}

export interface KtapReport {
  /** Top-level tests (for KUnit: suites). */
  tests: KtapTest[];
  /** Whether any KTAP/TAP version line was seen. */
  found: boolean;
  /** The top-level plan was announced and every planned test reported: the results are final, whatever the kernel
   *  does next (KUnit's kunit_shutdown halt, or a panic on a missing root). */
  complete: boolean;
  /** Top-level plans announced but not met (crash in the middle of a run). */
  missing: number;
  /** For a document that is not complete: the test that never reported. */
  running?: KtapRunning;
}

const LOG_PREFIX = /^\s*(?:<\d+>)?\[\s*\d+\.\d+\]\s?/;
const VERSION = /^(K?TAP) version (\d+)\s*$/;
const PLAN = /^1\.\.(\d+)/;
const SUBTEST = /^# Subtest: (.*)$/;
const RESULT = /^(not )?ok\s+(\d+)\s*(?:-\s*)?([^#]*?)\s*(?:#\s*(.*))?$/;

interface Frame {
  /** Indent relative to the document's version line. */
  indent: number;
  tests: KtapTest[];
  plan?: number;
  /** The `# Subtest:` name, if one was printed. */
  name?: string;
  /** Diagnostics since the last result at this level. */
  log: string[];
}

function statusOf(failed: boolean, directive: string | undefined): { status: KtapStatus; reason?: string } {
  const d = /^(SKIP|TODO|XFAIL)\b\s*(.*)$/i.exec(directive ?? '');
  if (!d) return { status: failed ? 'fail' : 'pass' };
  const kind = d[1]!.toUpperCase();
  const reason = d[2] || undefined;
  if (kind === 'SKIP') return { status: 'skip', reason };
  if (kind === 'XFAIL') return { status: 'xfail', reason };
  return { status: 'todo', reason };
}

export function parseKtap(text: string): KtapReport {
  const root: Frame = { indent: 0, tests: [], log: [] };
  const stack: Frame[] = [root];
  const top = () => stack[stack.length - 1]!;
  let base: number | undefined; // indent of the first version line: the document's left margin
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(LOG_PREFIX, '');
    const body = line.trim();
    if (!body) continue;
    const column = line.length - line.trimStart().length;
    if (base === undefined) {
      if (VERSION.test(body)) base = column;
      continue;
    }
    const indent = column - base;
    if (indent < 0) continue; // not part of the document (other kernel output)
    const result = RESULT.exec(body);
    if (result) {
      // a result closes the deeper level opened for its subtests
      let closed: Frame | undefined;
      while (top().indent > indent) closed = stack.pop();
      if (top().indent < indent) stack.push({ indent, tests: [], log: [] });
      const { status, reason } = statusOf(!!result[1], result[4]);
      const frame = top();
      frame.tests.push({
        name: result[3]!.trim(),
        number: Number(result[2]),
        status,
        reason,
        subtests: closed?.tests ?? [],
        plan: closed?.plan,
        log: [...(closed?.log ?? []), ...frame.log],
      });
      frame.log = [];
      continue;
    }
    const subtest = SUBTEST.exec(body);
    const structural = !!subtest || VERSION.test(body) || PLAN.test(body);
    if (!structural) {
      // a diagnostic: it belongs to the test reported next at this level or deeper
      if (indent >= top().indent) top().log.push(line.slice(base).trimEnd());
      continue;
    }
    // structural lines open a deeper level but never close one: KUnit prints a suite's summary diagnostics at the
    // outer indent before the suite's own result line
    const fresh = indent > top().indent;
    if (fresh) stack.push({ indent, tests: [], log: [] });
    const frame = top();
    if (subtest && indent === frame.indent && (fresh || (!frame.name && !frame.tests.length)))
      frame.name = subtest[1]!.trim();
    const plan = PLAN.exec(body);
    if (plan && indent === frame.indent) frame.plan = Number(plan[1]);
  }
  const missing = root.plan !== undefined ? Math.max(0, root.plan - root.tests.length) : 0;
  const complete = base !== undefined && root.plan !== undefined && missing === 0;
  const open = stack.slice(1);
  return {
    tests: root.tests,
    found: base !== undefined,
    complete,
    missing,
    running: complete
      ? undefined
      : { path: open.map((f) => f.name ?? '?'), number: (open.at(-1) ?? root).tests.length + 1 },
  };
}

/** Every test, depth first, with its path ("suite.case"). */
export function flatten(tests: KtapTest[], prefix = ''): { path: string; test: KtapTest }[] {
  return tests.flatMap((t) => {
    const path = prefix ? `${prefix}.${t.name}` : t.name;
    return [{ path, test: t }, ...flatten(t.subtests, path)];
  });
}

/** Failed tests: `not ok` without a SKIP/TODO/XFAIL directive, at any depth (a failed parent of a failed child is
 *  reported as the child only). */
export function failures(report: KtapReport): string[] {
  return failedTests(report).map(({ path }) => path);
}

export function failedTests(report: KtapReport): { path: string; test: KtapTest }[] {
  return flatten(report.tests).filter(
    ({ test }) => test.status === 'fail' && !test.subtests.some((s) => s.status === 'fail'),
  );
}

export interface KtapCounts {
  passed: number;
  failed: number;
  skipped: number;
}

/** Counted as kunit.py counts (kunit_parser.py bubble_up_test_results): every test without subtests once, by its
 *  status; a test with subtests only through them. XFAIL counts as passed, TODO as skipped. */
export function countTests(tests: KtapTest[]): KtapCounts {
  const counts: KtapCounts = { passed: 0, failed: 0, skipped: 0 };
  for (const t of tests) {
    if (t.subtests.length) {
      const sub = countTests(t.subtests);
      counts.passed += sub.passed;
      counts.failed += sub.failed;
      counts.skipped += sub.skipped;
    } else if (t.status === 'fail') counts.failed++;
    else if (t.status === 'skip' || t.status === 'todo') counts.skipped++;
    else counts.passed++;
  }
  return counts;
}
