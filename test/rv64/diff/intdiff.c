// Differential integer test: every RV64IM register-register and immediate operation (64- and 32-bit forms) over
// edge and pseudo-random operands, hashed per operation and printed; kwb's output must equal QEMU's.
#include <stdint.h>
#include "htif.h"

typedef uint64_t u64;
static u64 hash;
static void mix(u64 v) { hash ^= v; hash *= 0x100000001b3ull; hash ^= hash >> 29; }
static u64 rng = 0x2545f4914f6cdd1dull;
static u64 next(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }

static const u64 EDGE[] = {
  0, 1, 2, 3, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ull,
  0x7fffffffffffffffull, 0x8000000000000000ull, 0xffffffffffffffffull, 0xfffffffffffffffeull, 0x8000000000000001ull,
  0xffffffff80000000ull, 0x00000000ffffffffull, 0x123456789abcdef0ull, 0xfedcba9876543210ull, 63, 64, 31, 32,
  0x20000000000000ull, 0x1fffffffffffffull, 0xfff0000000000000ull, 0x0010000000000001ull, 0xdeadbeefcafebabeull,
};
#define NE (sizeof EDGE / sizeof EDGE[0])

#define R2(name) static u64 op_##name(u64 a, u64 b) { u64 r; asm volatile(#name " %0, %1, %2" : "=r"(r) : "r"(a), "r"(b)); return r; }
R2(add) R2(sub) R2(sll) R2(slt) R2(sltu) R2(xor) R2(srl) R2(sra) R2(or) R2(and)
R2(addw) R2(subw) R2(sllw) R2(srlw) R2(sraw)
R2(mul) R2(mulh) R2(mulhsu) R2(mulhu) R2(div) R2(divu) R2(rem) R2(remu)
R2(mulw) R2(divw) R2(divuw) R2(remw) R2(remuw)
#define I1(name, tag, imm) static u64 op_##name##_##tag(u64 a, u64 b) { (void)b; u64 r; asm volatile(#name " %0, %1, " #imm : "=r"(r) : "r"(a)); return r; }
I1(addi, m2048, -2048) I1(addi, 2047, 2047) I1(slti, m1, -1) I1(sltiu, m1, -1) I1(sltiu, 5, 5) I1(xori, m1, -1)
I1(ori, 0x555, 0x555) I1(andi, m16, -16) I1(slli, 63, 63) I1(slli, 1, 1) I1(srli, 63, 63) I1(srli, 17, 17)
I1(srai, 63, 63) I1(srai, 33, 33) I1(addiw, m1, -1) I1(addiw, 2047, 2047) I1(slliw, 31, 31) I1(srliw, 31, 31)
I1(sraiw, 31, 31) I1(sraiw, 7, 7)

typedef u64 (*fn)(u64, u64);
struct op { const char *name; fn f; };
#define E(n) { #n, op_##n }
#define EI(n, i) { #n " " #i, op_##n##_##i }
static const struct op OPS[] = {
  E(add), E(sub), E(sll), E(slt), E(sltu), E(xor), E(srl), E(sra), E(or), E(and), E(addw), E(subw), E(sllw), E(srlw),
  E(sraw), E(mul), E(mulh), E(mulhsu), E(mulhu), E(div), E(divu), E(rem), E(remu), E(mulw), E(divw), E(divuw),
  E(remw), E(remuw), EI(addi, m2048), EI(addi, 2047), EI(slti, m1), EI(sltiu, m1), EI(sltiu, 5), EI(xori, m1),
  EI(ori, 0x555), EI(andi, m16), EI(slli, 63), EI(slli, 1), EI(srli, 63), EI(srli, 17), EI(srai, 63), EI(srai, 33),
  EI(addiw, m1), EI(addiw, 2047), EI(slliw, 31), EI(srliw, 31), EI(sraiw, 31), EI(sraiw, 7),
};

static u64 operand(int i) {
  if (i < (int)NE) return EDGE[i];
  u64 r = next();
  switch (r & 3) {
    case 0: return (u64)(int64_t)(int32_t)(r >> 8);
    case 1: return r >> ((r >> 8) & 63);
    case 2: return EDGE[(r >> 16) % NE] + ((r >> 40) & 3) - 1;
    default: return r;
  }
}

int main(void) {
  for (unsigned o = 0; o < sizeof OPS / sizeof OPS[0]; o++) {
    hash = 0xcbf29ce484222325ull;
    rng = 0x2545f4914f6cdd1dull ^ o;
    for (int i = 0; i < (int)(NE * NE) + 2000; i++) {
      u64 a = i < (int)(NE * NE) ? EDGE[i / NE] : operand(1000), b = i < (int)(NE * NE) ? EDGE[i % NE] : operand(1000);
      mix(OPS[o].f(a, b));
    }
    htif_puts(OPS[o].name); htif_putc(' '); htif_hex(hash, 16); htif_putc('\n');
  }
  return 0;
}
