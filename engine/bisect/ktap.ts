// A KTAP / KUnit result parser (Documentation/dev-tools/ktap.rst): version lines, plans, `ok`/`not ok` lines with
// SKIP/TODO/XFAIL directives, nested subtests by indentation (KTAP v1) or `# Subtest:` headers (KUnit's TAP 13),
// and kernel log prefixes ("[    1.234567] ") in front of every line. Lenient: lines it does not know are ignored.

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
}

export interface KtapReport {
  /** Top-level tests (for KUnit: suites). */
  tests: KtapTest[];
  /** Whether any KTAP/TAP version line was seen. */
  found: boolean;
  /** Top-level plans announced but not met (crash in the middle of a run). */
  missing: number;
}

const LOG_PREFIX = /^\s*(?:<\d+>)?\[\s*\d+\.\d+\]\s?/;
const VERSION = /^(K?TAP) version (\d+)\s*$/;
const PLAN = /^1\.\.(\d+)/;
const RESULT = /^(not )?ok\s+(\d+)\s*(?:-\s*)?([^#]*?)\s*(?:#\s*(.*))?$/;

interface Frame {
  /** Indent relative to the document's version line. */
  indent: number;
  tests: KtapTest[];
  plan?: number;
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
  const root: Frame = { indent: 0, tests: [] };
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
      if (top().indent < indent) stack.push({ indent, tests: [] });
      const { status, reason } = statusOf(!!result[1], result[4]);
      top().tests.push({
        name: result[3]!.trim(),
        number: Number(result[2]),
        status,
        reason,
        subtests: closed?.tests ?? [],
        plan: closed?.plan,
      });
      continue;
    }
    // other lines (versions, plans, "# Subtest:" headers, diagnostics) open a deeper level but never close one:
    // KUnit prints a suite's summary diagnostics at the outer indent before the suite's own result line
    if (indent > top().indent) stack.push({ indent, tests: [] });
    const plan = PLAN.exec(body);
    if (plan && indent === top().indent) top().plan = Number(plan[1]);
  }
  const missing = root.plan !== undefined ? Math.max(0, root.plan - root.tests.length) : 0;
  return { tests: root.tests, found: base !== undefined, missing };
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
  return flatten(report.tests)
    .filter(({ test }) => test.status === 'fail' && !test.subtests.some((s) => s.status === 'fail'))
    .map(({ path }) => path);
}
