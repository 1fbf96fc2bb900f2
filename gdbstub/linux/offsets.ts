// Structure offsets, sizes and symbol addresses of one kernel build, asked of gdb once (batch mode on the vmlinux,
// which reads the DWARF for us) and cached by the vmlinux's build-id: nothing is hard-coded per kernel version.
import { setPriority } from 'node:os';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { cacheDir, cacheKey } from '../../engine/cache.js';
import { spawnGroup, writeFileAtomic } from '../../engine/host.js';
import { gnuBuildId } from './buildid.js';

/** name -> gdb expression whose value (an offset, a size or an address) fits an unsigned long. */
export type Queries = Record<string, string>;

const off = (type: string, field: string) => `(unsigned long)&((${type} *)0)->${field}`;
const size = (expr: string) => `(unsigned long)sizeof(${expr})`;

/** What every architecture needs: the task list, the printk ring buffer, modules. */
export const COMMON_QUERIES: Queries = {
  init_task: '(unsigned long)&init_task',
  'task.tasks': off('struct task_struct', 'tasks'),
  'task.thread_group': off('struct task_struct', 'thread_group'),
  'task.pid': off('struct task_struct', 'pid'),
  'task.tgid': off('struct task_struct', 'tgid'),
  'task.comm': off('struct task_struct', 'comm'),
  'task.comm.size': size('((struct task_struct *)0)->comm'),
  'task.__state': off('struct task_struct', '__state'),
  'task.state': off('struct task_struct', 'state'), // before 5.14
  'task.exit_state': off('struct task_struct', 'exit_state'),
  'task.stack': off('struct task_struct', 'stack'),
  'task.thread': off('struct task_struct', 'thread'),
  'task.size': size('struct task_struct'),
  thread_size: size('union thread_union'),
  prb: "(unsigned long)&'printk.c'::prb",
  'prb.desc_ring': off('struct printk_ringbuffer', 'desc_ring'),
  'prb.text_data_ring': off('struct printk_ringbuffer', 'text_data_ring'),
  'prb.size': size('struct printk_ringbuffer'),
  'desc_ring.count_bits': off('struct prb_desc_ring', 'count_bits'),
  'desc_ring.descs': off('struct prb_desc_ring', 'descs'),
  'desc_ring.infos': off('struct prb_desc_ring', 'infos'),
  'desc_ring.head_id': off('struct prb_desc_ring', 'head_id'),
  'desc_ring.tail_id': off('struct prb_desc_ring', 'tail_id'),
  'desc.size': size('struct prb_desc'),
  'desc.state_var': off('struct prb_desc', 'state_var'),
  'desc.text_blk_lpos.begin': off('struct prb_desc', 'text_blk_lpos.begin'),
  'desc.text_blk_lpos.next': off('struct prb_desc', 'text_blk_lpos.next'),
  'info.size': size('struct printk_info'),
  'info.ts_nsec': off('struct printk_info', 'ts_nsec'),
  'info.text_len': off('struct printk_info', 'text_len'),
  'data_ring.size_bits': off('struct prb_data_ring', 'size_bits'),
  'data_ring.data': off('struct prb_data_ring', 'data'),
  modules: '(unsigned long)&modules',
  'module.list': off('struct module', 'list'),
  'module.name': off('struct module', 'name'),
  'module.name.size': size('((struct module *)0)->name'),
  'module.core_size': off('struct module', 'core_layout.size'), // before 6.4
  'module.size': size('struct module'),
  'module.state': off('struct module', 'state'),
  'module.sect_attrs': off('struct module', 'sect_attrs'),
  'sect_attrs.nsections': off('struct module_sect_attrs', 'nsections'),
  'sect_attrs.attrs': off('struct module_sect_attrs', 'attrs'),
  'sect_attr.size': size('struct module_sect_attr'),
  'sect_attr.address': off('struct module_sect_attr', 'address'),
  'sect_attr.name': off('struct module_sect_attr', 'battr.attr.name'),
  MODULE_STATE_GOING: '(unsigned long)MODULE_STATE_GOING',
  MODULE_STATE_UNFORMED: '(unsigned long)MODULE_STATE_UNFORMED',
  do_init_module: '(unsigned long)&do_init_module',
  free_module: '(unsigned long)&free_module',
};

/** The offsets of one kernel build: `has` for optional ones, `get` for those the caller cannot do without. */
export class Offsets {
  constructor(readonly values: Record<string, bigint>) {}
  has(key: string): boolean {
    return key in this.values;
  }
  /** An offset or size (small). */
  n(key: string): number {
    return Number(this.get(key));
  }
  get(key: string): bigint {
    const v = this.values[key];
    if (v === undefined) throw new Error(`the kernel's debug info has no ${key}`);
    return v;
  }
}

/** gdb-multiarch reads both x86-64 and riscv64 ELFs; plain gdb the host's. */
function gdbProgram(): string {
  const dirs = (process.env.PATH ?? '').split(delimiter);
  return dirs.some((d) => d && existsSync(join(d, 'gdb-multiarch'))) ? 'gdb-multiarch' : 'gdb';
}

/** Ask gdb for every query in one batch run; an expression gdb cannot evaluate is left out. No time limit: at low
 *  priority on a busy machine (a build beside it) gdb may take minutes, and killing it would leave the session
 *  without kernel awareness for good. It runs in a process group of kwb's, so it ends when kwb does. */
export function queryGdb(vmlinux: string, queries: Queries): Promise<Record<string, bigint>> {
  const args = ['-nx', '-batch', '-iex', 'set auto-load no', '-iex', 'set pagination off'];
  for (const [key, expr] of Object.entries(queries)) args.push('-ex', `printf "KWB ${key} %lu\\n", ${expr}`);
  args.push(vmlinux);
  return new Promise((resolve, reject) => {
    const program = gdbProgram();
    const child = spawnGroup(program, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let stdout = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.once('error', (err) => reject(new Error(`${program} cannot be run (${err.message})`)));
    // gdb exits non-zero when its last command failed: that only means that expression was not there; but a gdb
    // killed part-way answered nothing, and an empty answer cached as the truth would turn kernel awareness off for
    // this build for good
    child.once('close', (_code, signal) => {
      if (signal) return reject(new Error(`${program} was killed (${signal})`));
      const values: Record<string, bigint> = {};
      for (const m of stdout.matchAll(/^KWB (\S+) (\d+)$/gm)) values[m[1]!] = BigInt(m[2]!);
      resolve(values);
    });
    // learning runs while the guest boots and clients are served: those come first on a busy machine, but not so far
    // first that a build beside it starves gdb for minutes (19 would: it gets ~1% of a core against one make job)
    try {
      if (child.pid) setPriority(child.pid, 10);
    } catch {
      // already gone: 'close' says why
    }
  });
}

/** The offsets for `vmlinux`, from the cache or from gdb (then cached). */
export async function loadOffsets(vmlinux: string, queries: Queries): Promise<Offsets> {
  const st = statSync(vmlinux);
  const id = gnuBuildId(vmlinux) ?? `nobuildid-${cacheKey(`${vmlinux}:${st.size}:${st.mtimeMs}`)}`;
  // the query list is part of the key: a kwb that asks for more re-asks gdb
  const file = cacheDir('linux-offsets', `${id}-${cacheKey(JSON.stringify(queries))}.json`);
  try {
    const cached = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
    return new Offsets(Object.fromEntries(Object.entries(cached).map(([k, v]) => [k, BigInt(v)])));
  } catch {
    // not cached yet (or unreadable): ask gdb
  }
  const values = await queryGdb(vmlinux, queries);
  mkdirSync(cacheDir('linux-offsets'), { recursive: true });
  writeFileAtomic(
    file,
    JSON.stringify(Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v.toString()])), null, 1) + '\n',
  );
  return new Offsets(values);
}
