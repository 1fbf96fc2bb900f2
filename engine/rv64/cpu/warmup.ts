// JIT warm-up for the interpreter. V8 compiles exec()'s big switch with deoptimization points in every case that
// has not run yet, so a guest that reaches new instruction kinds one by one makes V8 throw the optimized code away
// and recompile it again and again. Running every instruction kind once on a scratch hart, while exec() is still
// interpreted, gives V8 complete type feedback up front. The same holds for the run loop's calls of compiled blocks:
// a short loop run by several harts with the compiler on, each with blocks of its own, makes that call site see many
// functions (V8 would otherwise specialize exec() to the first block and throw it away at the next: with the block
// compiler on, a kernel boot paid that several times, at a quarter to half a second of compiling each), and a trap in
// a compiled load. Costs a few milliseconds, once per process.
import { MemoryBus } from '../bus.js';
import { Cpu } from './cpu.js';

const r = (op: number, f3: number, f7: number, rd: number, rs1: number, rs2: number) =>
  (f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op;
const i = (op: number, f3: number, rd: number, rs1: number, imm: number) =>
  ((imm & 0xfff) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op;
const s = (op: number, f3: number, rs1: number, rs2: number, imm: number) =>
  (((imm >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | ((imm & 31) << 7) | op;
/** Branch to the next instruction (offset +4). */
const b = (f3: number, rs1: number, rs2: number) => s(0x63, f3, rs1, rs2, 0) | (4 << 7); /* imm[4:1] = 2 */
const r4 = (op: number, fmt: number, rd: number, rs1: number, rs2: number, rs3: number) =>
  (rs3 << 27) | (fmt << 25) | (rs2 << 20) | (rs1 << 15) | (7 << 12) | (rd << 7) | op;

function program(): number[] {
  const p: number[] = [];
  // RV64I
  p.push(0x000012b7 | (5 << 7)); // lui x5
  p.push(0x00000017 | (6 << 7)); // auipc x6
  p.push(0x0040006f | (7 << 7)); // jal x7, +4
  p.push(0x00000297); // auipc x5, 0
  p.push(i(0x67, 0, 6, 5, 8)); // jalr x6, 8(x5)
  for (const f3 of [0, 1, 4, 5, 6, 7]) p.push(b(f3, 1, 2));
  for (const f3 of [0, 1, 2, 3, 4, 5, 6]) p.push(i(0x03, f3, 12, 10, 8));
  for (const f3 of [0, 1, 2, 3]) p.push(s(0x23, f3, 10, 11, 16));
  for (const f3 of [0, 2, 3, 4, 6, 7]) p.push(i(0x13, f3, 13, 1, 5));
  p.push(i(0x13, 1, 13, 1, 3), i(0x13, 5, 13, 1, 3), i(0x13, 5, 13, 1, 0x403));
  for (const f3 of [0, 1, 2, 3, 4, 5, 6, 7]) p.push(r(0x33, f3, 0, 14, 1, 2));
  p.push(r(0x33, 0, 0x20, 14, 1, 2), r(0x33, 5, 0x20, 14, 1, 2));
  p.push(i(0x1b, 0, 15, 1, 7), i(0x1b, 1, 15, 1, 3), i(0x1b, 5, 15, 1, 3), i(0x1b, 5, 15, 1, 0x403));
  p.push(
    r(0x3b, 0, 0, 15, 1, 2),
    r(0x3b, 0, 0x20, 15, 1, 2),
    r(0x3b, 1, 0, 15, 1, 2),
    r(0x3b, 5, 0, 15, 1, 2),
    r(0x3b, 5, 0x20, 15, 1, 2),
  );
  // M
  for (const f3 of [0, 1, 2, 3, 4, 5, 6, 7]) p.push(r(0x33, f3, 1, 16, 1, 2), r(0x33, f3, 1, 16, 3, 0));
  for (const f3 of [0, 4, 5, 6, 7]) p.push(r(0x3b, f3, 1, 16, 1, 2));
  // Zicsr, fences
  p.push(0x0000000f, 0x0000100f);
  for (const f3 of [1, 2, 3, 5, 6, 7]) p.push(i(0x73, f3, 17, 1, 0x340));
  p.push(i(0x73, 2, 17, 0, 0xc00), i(0x73, 2, 17, 0, 0x001));
  // A: lr/sc, all AMOs, both widths
  for (const f3 of [2, 3]) {
    p.push(r(0x2f, f3, 0x02 << 2, 18, 10, 0), r(0x2f, f3, 0x03 << 2, 18, 10, 2));
    for (const f5 of [0x01, 0x00, 0x04, 0x0c, 0x08, 0x10, 0x14, 0x18, 0x1c]) p.push(r(0x2f, f3, f5 << 2, 18, 10, 2));
  }
  // F/D: loads/stores, arithmetic, FMA, sign injection, min/max, compares, classify, conversions, moves
  p.push(
    r(0x53, 0, 0x79, 1, 20, 0),
    r(0x53, 0, 0x79, 2, 21, 0),
    r(0x53, 0, 0x78, 3, 22, 0),
    r(0x53, 0, 0x78, 4, 23, 0),
  );
  p.push(i(0x07, 2, 5, 10, 0), i(0x07, 3, 6, 10, 8), s(0x27, 2, 10, 3, 24), s(0x27, 3, 10, 1, 32));
  for (const fmt of [0, 1]) {
    const [x, y] = fmt ? [1, 2] : [3, 4];
    for (const f5 of [0x00, 0x01, 0x02, 0x03]) p.push(r(0x53, 7, (f5 << 2) | fmt, 7, x, y));
    p.push(r(0x53, 7, (0x0b << 2) | fmt, 7, x, 0));
    for (const op of [0x43, 0x47, 0x4b, 0x4f]) p.push(r4(op, fmt, 8, x, y, x));
    for (const f3 of [0, 1, 2]) p.push(r(0x53, f3, (0x04 << 2) | fmt, 9, x, y));
    for (const f3 of [0, 1]) p.push(r(0x53, f3, (0x05 << 2) | fmt, 9, x, y));
    for (const f3 of [0, 1, 2]) p.push(r(0x53, f3, (0x14 << 2) | fmt, 19, x, y));
    for (let k = 0; k < 4; k++) p.push(r(0x53, 7, (0x18 << 2) | fmt, 19, x, k), r(0x53, 7, (0x1a << 2) | fmt, 9, 1, k));
    p.push(r(0x53, 0, (0x1c << 2) | fmt, 19, x, 0), r(0x53, 1, (0x1c << 2) | fmt, 19, x, 0));
  }
  p.push(r(0x53, 7, 0x20, 9, 1, 1), r(0x53, 7, 0x21, 9, 3, 0));
  p.push(0x12000073); // sfence.vma
  p.push(i(0x73, 1, 0, 24, 0x305)); // csrw mtvec, x24 (-> the mret below)
  p.push(0x00000073); // ecall -> trap -> mret
  p.push(0xffffffff); // illegal -> trap -> mret
  p.push(0x10500073); // wfi (nothing pending: the run stops Idle)
  return p;
}

/** For the passes with the compiler on: csrw mtvec, x24 / loop: addi x5, x5, -1 / ld x6, 0(x10) / sd x6, 8(x10) /
 *  bne x5, x0, loop / ld x12, 0(x0) (an access fault: the handler steps over it) / wfi. */
const JIT_PROGRAM = [
  i(0x73, 1, 0, 24, 0x305),
  i(0x13, 0, 5, 5, -1),
  i(0x03, 3, 6, 10, 0),
  s(0x23, 3, 10, 6, 8),
  (0x7f << 25) | (5 << 15) | (1 << 12) | (0x15 << 7) | 0x63, // bne x5, x0, -12
  i(0x03, 3, 12, 0, 0),
  0x10500073,
];
/** Harts run with the compiler on (each compiles blocks of its own). */
const JIT_PASSES = 5;

let done = false;

/** Run once per process, before the first real guest. */
export function warmUp(): void {
  if (done) return;
  done = true;
  const base = 0x80000000;
  const bus = new MemoryBus(base, 64 * 1024);
  const code = program();
  const mretAt = base + 0x8000;
  for (let k = 0; k < code.length; k++) bus.ramView.setInt32(k * 4, code[k]!, true);
  bus.ramView.setInt32(0x8000, 0x30200073, true); // mret
  // the compiler passes' program, and a trap handler that steps mepc past the trapping instruction
  const handler = [i(0x73, 2, 5, 0, 0x341), i(0x13, 0, 5, 5, 4), i(0x73, 1, 0, 5, 0x341), 0x30200073];
  [...JIT_PROGRAM, ...handler].forEach((w, k) => bus.ramView.setInt32(0x9000 + 4 * k, w, true));
  for (let pass = 0; pass < 3; pass++) {
    const cpu = new Cpu(bus);
    cpu.reset(base);
    cpu.writeCsr(0x300, 1n << 13n); // FS on
    cpu.setX(1, 0x123456789n);
    cpu.setX(2, -7n);
    cpu.setX(3, 5n);
    cpu.setX(10, BigInt(base + 0x4000));
    cpu.setX(11, 0xa5n);
    cpu.setX(20, 0x3ff8000000000000n);
    cpu.setX(21, 0x4008000000000000n);
    cpu.setX(22, 0xffffffff3fc00000n);
    cpu.setX(23, 0xffffffff40400000n);
    cpu.setX(24, BigInt(mretAt));
    // the trap handler is a lone mret; stop there (breakpoint) to step mepc past the trapping instruction
    cpu.addBreakpoint(mretAt);
    for (let k = 0; k < 8; k++) {
      const stop = cpu.run(100_000);
      if (stop !== 1 /* Breakpoint */) break;
      cpu.writeCsr(0x341, (cpu.readCsr(0x341) ?? 0n) + 4n);
    }
  }

  for (let pass = 0; pass < JIT_PASSES; pass++) {
    const cpu = new Cpu(bus);
    cpu.jitThreshold = 1;
    cpu.reset(base + 0x9000);
    cpu.setX(5, 3n);
    cpu.setX(10, BigInt(base + 0x4000));
    cpu.setX(24, BigInt(base + 0x9000 + 4 * JIT_PROGRAM.length));
    cpu.run(1000);
  }
}
