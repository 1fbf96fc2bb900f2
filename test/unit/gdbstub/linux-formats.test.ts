// Kernel awareness: the pieces that decode guest memory and target descriptions, on hand-made data where the real
// fixture cannot reach a case (a printk ring that wrapped, a task list that breaks off). The same code is checked
// against the kernel's own lx-ps / lx-dmesg on a real kernel in test/integration/linux-uml.test.ts.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gnuBuildId } from '../../../gdbstub/linux/buildid.js';
import { readDmesg } from '../../../gdbstub/linux/dmesg.js';
import { linuxAware } from '../../../gdbstub/linux/index.js';
import { Offsets } from '../../../gdbstub/linux/offsets.js';
import { registerLayout } from '../../../gdbstub/registers.js';
import { stateLetter, TaskWalker } from '../../../gdbstub/linux/tasks.js';
import { MemTarget } from '../../helpers/gdbstub-fake.js';

/** Sparse guest memory: regions placed at addresses, reads must fall inside one. */
class Memory {
  private regions: { addr: bigint; data: Buffer }[] = [];
  reads = 0;
  put(addr: bigint, data: Buffer): void {
    this.regions.push({ addr, data });
  }
  read = async (addr: bigint, len: number): Promise<Uint8Array> => {
    this.reads++;
    for (const r of this.regions) {
      if (addr >= r.addr && addr + BigInt(len) <= r.addr + BigInt(r.data.length)) {
        const off = Number(addr - r.addr);
        return r.data.subarray(off, off + len);
      }
    }
    throw new Error(`unmapped read at 0x${addr.toString(16)}`);
  };
}

const offsets = (o: Record<string, number | bigint>) =>
  new Offsets(Object.fromEntries(Object.entries(o).map(([k, v]) => [k, BigInt(v)])));

describe('linux: target description layout', () => {
  it('lays registers out in gdb numbering across includes, regnum moving the count', () => {
    const files: Record<string, string> = {
      'target.xml':
        '<target><architecture>riscv:rv64</architecture><xi:include href="core.xml"/><xi:include href="csr.xml"/></target>',
      'core.xml':
        '<feature name="org.gnu.gdb.riscv.cpu"><reg name="zero" bitsize="64"/><reg name="ra" bitsize="64"/><reg name="pc" bitsize="64" regnum="32"/></feature>',
      'csr.xml':
        '<feature name="org.gnu.gdb.riscv.csr"><reg name="sstatus" bitsize="64" regnum="321"/><reg name="sscratch" bitsize="64"/><reg name="flag" bitsize="8"/></feature>',
    };
    const layout = registerLayout((a) => files[a])!;
    assert.deepEqual(
      layout.slots.map((s) => [s.name, s.regno, s.offset, s.size]),
      [
        ['zero', 0, 0, 8],
        ['ra', 1, 8, 8],
        ['pc', 32, 16, 8],
        ['sstatus', 321, 24, 8],
        ['sscratch', 322, 32, 8],
        ['flag', 323, 40, 1],
      ],
    );
    assert.equal(layout.size, 41);
    assert.equal(layout.byRegno(322)?.name, 'sscratch');
    assert.equal(
      registerLayout(() => undefined),
      undefined,
    );
  });
});

describe('linux: build-id', () => {
  it('equals what readelf reads from a real ELF', () => {
    const notes = execFileSync('readelf', ['-n', process.execPath], { encoding: 'utf8' });
    const expected = /Build ID: ([0-9a-f]+)/.exec(notes)?.[1];
    assert.ok(expected, 'node has a build-id');
    assert.equal(gnuBuildId(process.execPath), expected);
    assert.equal(gnuBuildId(__filename), undefined);
  });
});

describe('linux: tasks', () => {
  it('state letters as ps shows them', () => {
    assert.equal(stateLetter(0, 0), 'R');
    assert.equal(stateLetter(1, 0), 'S');
    assert.equal(stateLetter(2, 0), 'D');
    assert.equal(stateLetter(0x402, 0), 'I');
    assert.equal(stateLetter(0, 0x20), 'Z');
    assert.equal(stateLetter(0x100, 0), 'R'); // TASK_WAKEKILL alone is not reported
  });

  // a task_struct of 0x100 bytes: tasks at 0x10, thread_group at 0x20, pid 0x30, tgid 0x34, __state 0x38,
  // exit_state 0x3c, stack 0x40, comm 0x50 (16 bytes), the arch's switch context at 0xe0 (16 bytes)
  const CONTEXT = { offset: 0xe0, size: 16 };
  const o = offsets({
    init_task: 0x1000,
    'task.tasks': 0x10,
    'task.thread_group': 0x20,
    'task.pid': 0x30,
    'task.tgid': 0x34,
    'task.__state': 0x38,
    'task.exit_state': 0x3c,
    'task.stack': 0x40,
    'task.comm': 0x50,
    'task.comm.size': 16,
  });
  function task(
    mem: Memory,
    addr: number,
    t: { pid: number; tgid: number; comm: string; nextTask: number; nextThread: number; state?: number },
  ): void {
    const b = Buffer.alloc(0x100);
    b.writeBigUInt64LE(BigInt(t.nextTask + 0x10), 0x10);
    b.writeBigUInt64LE(BigInt(t.nextThread + 0x20), 0x20);
    b.writeInt32LE(t.pid, 0x30);
    b.writeInt32LE(t.tgid, 0x34);
    b.writeUInt32LE(t.state ?? 1, 0x38);
    b.writeBigUInt64LE(0x100000n * BigInt(t.pid + 1), 0x40);
    b.write(t.comm, 0x50);
    b.writeBigUInt64LE(BigInt(t.pid) * 0x10n, 0xe8);
    mem.put(BigInt(addr), b);
  }

  it('walks processes and their threads in lx-ps order, one read per task', async () => {
    const mem = new Memory();
    task(mem, 0x1000, { pid: 0, tgid: 0, comm: 'swapper/0', nextTask: 0x2000, nextThread: 0x1000, state: 0 });
    task(mem, 0x2000, { pid: 1, tgid: 1, comm: 'init', nextTask: 0x3000, nextThread: 0x2000 });
    task(mem, 0x3000, { pid: 7, tgid: 7, comm: 'server', nextTask: 0x1000, nextThread: 0x3100 });
    task(mem, 0x3100, { pid: 8, tgid: 7, comm: 'worker', nextTask: 0xdead, nextThread: 0x3000 });
    const tasks = await new TaskWalker(o, CONTEXT, mem.read).walk();
    assert.deepEqual(
      tasks.map((t) => [t.pid, t.tgid, t.comm, t.state]),
      [
        [0, 0, 'swapper/0', 'R'],
        [1, 1, 'init', 'S'],
        [7, 7, 'server', 'S'],
        [8, 7, 'worker', 'S'],
      ],
    );
    assert.equal(tasks[3]!.stack, 0x900000n);
    assert.equal(tasks[3]!.switchContext.toString('hex'), '0000000000000000' + '8000000000000000');
    assert.equal(mem.reads, 4);
  });

  it('a list that breaks off or loops ends the walk with what was read', async () => {
    const mem = new Memory();
    task(mem, 0x1000, { pid: 0, tgid: 0, comm: 'swapper/0', nextTask: 0x2000, nextThread: 0x1000 });
    task(mem, 0x2000, { pid: 1, tgid: 1, comm: 'init', nextTask: 0x9000, nextThread: 0x2000 });
    assert.deepEqual(
      (await new TaskWalker(o, CONTEXT, mem.read).walk()).map((t) => t.pid),
      [0, 1],
    );
    const loop = new Memory();
    task(loop, 0x1000, { pid: 0, tgid: 0, comm: 'swapper/0', nextTask: 0x2000, nextThread: 0x1000 });
    task(loop, 0x2000, { pid: 1, tgid: 1, comm: 'init', nextTask: 0x2000, nextThread: 0x2000 });
    assert.deepEqual(
      (await new TaskWalker(o, CONTEXT, loop.read).walk()).map((t) => t.pid),
      [0, 1],
    );
  });
});

describe('linux: dmesg', () => {
  // layout: printk_ringbuffer { desc_ring @0 { count_bits u32 @0, descs @8, infos @16, head_id @24, tail_id @32 },
  // text_data_ring @40 { size_bits u32 @0, data @8 } }; prb_desc { state_var @0, begin @8, next @16 } (24 bytes);
  // printk_info { ts_nsec @0, text_len u16 @8 } (16 bytes)
  const o = offsets({
    prb: 0x100,
    'prb.desc_ring': 0,
    'prb.text_data_ring': 40,
    'prb.size': 64,
    'desc_ring.count_bits': 0,
    'desc_ring.descs': 8,
    'desc_ring.infos': 16,
    'desc_ring.head_id': 24,
    'desc_ring.tail_id': 32,
    'desc.size': 24,
    'desc.state_var': 0,
    'desc.text_blk_lpos.begin': 8,
    'desc.text_blk_lpos.next': 16,
    'info.size': 16,
    'info.ts_nsec': 0,
    'info.text_len': 8,
    'data_ring.size_bits': 0,
    'data_ring.data': 8,
  });
  const COUNT = 4; // descriptors
  const TEXT = 64; // bytes of text ring
  const committed = (id: number) => (1n << 62n) | BigInt(id);
  const reserved = (id: number) => BigInt(id);

  it('reads records from tail to head across the ring ends, skipping unfinished and data-less ones', async () => {
    const mem = new Memory();
    const prb = Buffer.alloc(64);
    prb.writeUInt32LE(2, 0); // 4 descriptors
    prb.writeBigUInt64LE(0x2000n, 8);
    prb.writeBigUInt64LE(0x3000n, 16);
    // ids 6..9 live in slots 2, 3, 0, 1: the descriptor ring wrapped
    prb.writeBigUInt64LE(9n, 24);
    prb.writeBigUInt64LE(6n, 32);
    prb.writeUInt32LE(6, 40); // 64 bytes of text
    prb.writeBigUInt64LE(0x4000n, 48);
    mem.put(0x100n, Buffer.from('0080000000000000', 'hex')); // prb -> 0x8000
    mem.put(0x8000n, prb);
    const descs = Buffer.alloc(COUNT * 24);
    const infos = Buffer.alloc(COUNT * 16);
    const text = Buffer.alloc(TEXT);
    const record = (id: number, sv: bigint, begin: number, next: number, ts: bigint, msg: string, at?: number) => {
      const slot = id % COUNT;
      descs.writeBigUInt64LE(sv, slot * 24);
      descs.writeBigUInt64LE(BigInt(begin), slot * 24 + 8);
      descs.writeBigUInt64LE(BigInt(next), slot * 24 + 16);
      infos.writeBigUInt64LE(ts, slot * 16);
      infos.writeUInt16LE(Buffer.byteLength(msg), slot * 16 + 8);
      if (at !== undefined) text.write(msg, at + 8);
    };
    // logical positions run on past the ring size (64): 6 at 64+16, 7 wraps (starts at 64+48, its data at the
    // ring's start), 8 has no data (odd lpos), 9 is still being written
    record(6, committed(6), 80, 112, 1_500_000_000n, 'Linux version 6.1', 16);
    record(7, committed(7), 112, 152, 2_000_001_000n, 'two\nlines', 0);
    record(8, committed(8), 1, 1, 3_000_000_000n, '');
    record(9, reserved(9), 152, 160, 4_000_000_000n, 'x');
    mem.put(0x2000n, descs);
    mem.put(0x3000n, infos);
    mem.put(0x4000n, text);
    assert.equal(
      await readDmesg(o, mem.read),
      '[    1.500000] Linux version 6.1\n[    2.000001] two\n[    2.000001] lines\n',
    );
  });
});

describe('linux: no kernel debug info', () => {
  it('leaves the target as it was, with one warning, and caches what gdb found', async (t) => {
    const cache = mkdtempSync(join(tmpdir(), 'kwb-offsets-'));
    const saved = process.env.KWB_CACHE;
    process.env.KWB_CACHE = cache;
    t.after(() => {
      process.env.KWB_CACHE = saved;
      if (saved === undefined) delete process.env.KWB_CACHE;
      rmSync(cache, { recursive: true, force: true });
    });
    const inner = new MemTarget();
    inner.xml = '<target><architecture>i386:x86-64</architecture></target>';
    const warnings: string[] = [];
    // a real ELF that is not a kernel: gdb finds no init_task, no task_struct
    const target = await linuxAware(inner, process.execPath, (w) => warnings.push(w));
    assert.equal(target, inner);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /kernel awareness is off .*lacks init_task/);
    assert.equal(readdirSync(join(cache, 'linux-offsets')).length, 1);
  });
});
