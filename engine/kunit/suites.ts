// The KUnit suites built into a kernel, read from its symbols: KUnit prints a case's name only when the case ends,
// so a crash or a hang inside one is named from the kernel's own tables (the `.kunit_test_suites` section between
// __kunit_suites_start and __kunit_suites_end: pointers to struct kunit_suite, each with its NULL-ended test_cases).
// gdb reads them from the ELF file, with the struct layouts of that kernel's DWARF.
import { execFileSync } from 'node:child_process';
import type { DebugInfo } from '../kernel.js';

const MARK = 'KWB-KUNIT-SUITES ';

const SCRIPT = `
import json
out = {}
try:
    start = gdb.parse_and_eval('(struct kunit_suite **)&__kunit_suites_start')
    end = gdb.parse_and_eval('(struct kunit_suite **)&__kunit_suites_end')
    for i in range(int(end - start)):
        suite = start[i]
        cases = suite['test_cases']
        names = []
        while int(cases[len(names)]['run_case']) != 0:
            names.append(cases[len(names)]['name'].string())
        out[suite['name'].string()] = names
except gdb.error:
    pass
print('${MARK}' + json.dumps(out))
`;

/** Suite name → its case names in run order; empty when the kernel has no symbols, no KUnit or no gdb. */
export function kunitSuites(info: DebugInfo): Map<string, string[]> {
  if (!info.vmlinux) return new Map();
  try {
    const out = execFileSync(
      info.gdb,
      ['-nx', '-batch', '-ex', `python exec(${JSON.stringify(SCRIPT)})`, info.vmlinux],
      { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 16 << 20 },
    );
    const line = out.split('\n').find((l) => l.startsWith(MARK));
    const parsed = line ? (JSON.parse(line.slice(MARK.length)) as Record<string, string[]>) : {};
    return new Map(Object.entries(parsed));
  } catch {
    return new Map();
  }
}

/** glob_match() of the kernel (lib/glob.c): `*`, `?` and `[...]` classes, anchored at both ends. */
export function globMatch(glob: string, text: string): boolean {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const close = glob.indexOf(']', i + 2);
      if (close < 0) re += '\\[';
      else {
        const inner = glob
          .slice(i + 1, close)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\');
        re += `[${inner}]`;
        i = close;
      }
    } else re += c.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's').test(text);
}

/** The cases of `suite` that run under kunit.filter_glob=SUITE_GLOB[.TEST_GLOB] (all of them without a filter). */
export function casesRun(cases: string[], suite: string, filterGlob: string | undefined): string[] {
  if (!filterGlob) return cases;
  const dot = filterGlob.indexOf('.');
  if (dot < 0) return cases;
  if (!globMatch(filterGlob.slice(0, dot), suite)) return cases;
  const test = filterGlob.slice(dot + 1);
  return cases.filter((c) => globMatch(test, c));
}
