// Helpers for kernel-awareness tests: batch gdb output cut into marked sections, and the check that the stub's view
// of the tasks equals what the kernel's own gdb scripts (lx-ps, lx-dmesg) print in the same session.
import assert from 'node:assert/strict';

/** gdb commands whose output lands between `<name>-start` and `<name>-end` lines (read back with section()). */
export const mark = (name: string, ...commands: string[]): string[] => [
  `echo ${name}-start\\n`,
  ...commands,
  `echo ${name}-end\\n`,
];

/** The text gdb printed between `echo <name>-start` and `echo <name>-end`. */
export function section(out: string, name: string): string {
  const m = new RegExp(`^${name}-start\\n([\\s\\S]*?)^${name}-end$`, 'm').exec(out);
  assert.ok(m, `no ${name} section in gdb output:\n${out}`);
  return m[1]!;
}

/** gdb prints a monitor command's answer on stderr; this puts it on stdout between the marks. */
export const monitor = (command: string): string =>
  `python gdb.write(gdb.execute('monitor ${command}', to_string=True))`;

/** Select the thread named `name` (batch gdb cannot read a thread number back otherwise). */
export const selectThread = (name: string): string =>
  `python gdb.execute('thread %d' % [t.num for t in gdb.selected_inferior().threads() if t.name == '${name}'][0])`;

/** The gdb commands whose sections checkTasksAgainstKernelScripts() reads. */
export const TASK_CHECK_COMMANDS: string[] = [
  ...mark('threads', 'info threads'),
  ...mark('lxps', 'lx-ps'),
  ...mark('ps', monitor('ps')),
  ...mark('lxdmesg', 'lx-dmesg'),
  ...mark('dmesg', monitor('dmesg')),
  selectThread('kthreadd'),
  ...mark('bt', 'bt'),
];

/**
 * `info threads` and `monitor ps` list the same tasks as the kernel's lx-ps, `monitor dmesg` equals lx-dmesg and has
 * the banner, and kthreadd, off the CPU, unwinds through __schedule. Returns the `info threads` section.
 */
export function checkTasksAgainstKernelScripts(out: string, all: string, minTasks: number): string {
  const threads = section(out, 'threads');
  assert.match(threads, /Thread \d+ "kthreadd" \(pid 2 S/, all);
  const shown = [...threads.matchAll(/Thread \d+ "([^"]*)" \(pid (\d+) /g)].map((m) => `${m[2]} ${m[1]}`).sort();
  const lxps = [...section(out, 'lxps').matchAll(/^0x[0-9a-f]+ +(\d+) +(.*)$/gm)].map((m) => `${m[1]} ${m[2]}`).sort();
  assert.ok(lxps.length > minTasks, all);
  assert.deepEqual(shown, lxps);
  const ps = [...section(out, 'ps').matchAll(/^ *(\d+) \S (.*)$/gm)].map((m) => `${m[1]} ${m[2]}`).sort();
  assert.deepEqual(ps, lxps);
  const dmesg = section(out, 'dmesg');
  assert.match(dmesg, /Linux version /);
  assert.equal(dmesg, section(out, 'lxdmesg'));
  const bt = section(out, 'bt');
  assert.match(bt, /__schedule/, all);
  assert.match(bt, / kthreadd \(/);
  return threads;
}
