// Differential FP test: runs every F/D operation over special and pseudo-random operands in all five rounding modes
// and prints, per (operation, rounding mode), a hash of every result's bits and the fflags it raised. kwb's output
// must equal QEMU's (an independent softfloat implementation). Build with -DVERBOSE for one line per operation.
#include <stdint.h>
#include "htif.h"

typedef uint64_t u64;
typedef uint32_t u32;

static u64 hash = 0;
static void mix(u64 v) { hash ^= v; hash *= 0x100000001b3ull; hash ^= hash >> 29; }

static u64 rng = 0x9e3779b97f4a7c15ull;
static u64 next(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }

static const u64 D_SPECIAL[] = {
  0x0000000000000000ull, 0x8000000000000000ull, 0x3ff0000000000000ull, 0xbff0000000000000ull,
  0x3ff8000000000000ull, 0x4008000000000000ull, 0x3fb999999999999aull, 0x7fe1ccf385ebc8a0ull,
  0x7fefffffffffffffull, 0xffefffffffffffffull, 0x0010000000000000ull, 0x000fffffffffffffull,
  0x0000000000000001ull, 0x8000000000000001ull, 0x7ff0000000000000ull, 0xfff0000000000000ull,
  0x7ff8000000000000ull, 0x7ff0000000000001ull, 0xfff8000000000123ull, 0x4340000000000001ull,
  0x43e0000000000000ull, 0xc3e0000000000000ull, 0x43f0000000000000ull, 0x3fd5555555555555ull,
  0x41dfffffffc00000ull, 0xc1e0000000200000ull, 0x41efffffffe00000ull, 0x3fe0000000000000ull,
  0xbfe0000000000000ull, 0x4004000000000000ull, 0x0018000000000000ull, 0x3cb0000000000000ull,
};
static const u32 S_SPECIAL[] = {
  0x00000000u, 0x80000000u, 0x3f800000u, 0xbf800000u, 0x3fc00000u, 0x40400000u, 0x3dcccccdu, 0x7e967699u,
  0x7f7fffffu, 0xff7fffffu, 0x00800000u, 0x007fffffu, 0x00000001u, 0x80000001u, 0x7f800000u, 0xff800000u,
  0x7fc00000u, 0x7f800001u, 0xffc00123u, 0x4b800001u, 0x5f000000u, 0xdf000000u, 0x5f800000u, 0x3eaaaaabu,
  0x4effffffu, 0xcf000000u, 0x4f7fffffu, 0x3f000000u, 0xbf000000u, 0x40200000u, 0x00c00000u, 0x33800000u,
};
#define ND (sizeof D_SPECIAL / sizeof D_SPECIAL[0])
#define NS (sizeof S_SPECIAL / sizeof S_SPECIAL[0])

static u64 rand_d(void) {
  u64 r = next();
  switch (r & 7) {
    case 0: return D_SPECIAL[(r >> 8) % ND];
    case 1: return (r & 0x800fffffffffffffull) | ((u64)((r >> 20) & 3) << 52);             // tiny exponents
    case 2: return (r & 0x800fffffffffffffull) | ((u64)(0x7fc + ((r >> 20) & 3)) << 52);   // huge exponents
    case 3: return (r & 0x800fffffffffffffull) | ((u64)(0x3fe + ((r >> 20) & 3)) << 52);   // near 1
    case 4: return (r & 0x800fffffffffffffull) | ((u64)(0x43c + ((r >> 20) & 7)) << 52);   // near 2^63
    default: return r;
  }
}
static u32 rand_s(void) {
  u64 r = next();
  u32 v = (u32)r;
  switch (r >> 61) {
    case 0: return S_SPECIAL[(r >> 8) % NS];
    case 1: return (v & 0x807fffffu) | ((u32)((r >> 40) & 3) << 23);
    case 2: return (v & 0x807fffffu) | ((u32)(0xfc + ((r >> 40) & 3)) << 23);
    case 3: return (v & 0x807fffffu) | ((u32)(0x7e + ((r >> 40) & 3)) << 23);
    case 4: return (v & 0x807fffffu) | ((u32)(0xbc + ((r >> 40) & 7)) << 23);
    default: return v;
  }
}

static inline void set_rm(int rm) { asm volatile("fsrm %0" :: "r"(rm)); }
static inline u64 get_flags(void) { u64 f; asm volatile("frflags %0" : "=r"(f)); asm volatile("fsflags zero"); return f; }

// operand registers are loaded from integer bits so that NaN payloads and boxing are exact
#define D2(name, insn) static u64 name(u64 a, u64 b) { u64 r; asm volatile("fmv.d.x ft0, %1\n fmv.d.x ft1, %2\n " insn " ft2, ft0, ft1\n fmv.x.d %0, ft2" : "=r"(r) : "r"(a), "r"(b) : "ft0", "ft1", "ft2"); return r; }
#define D3(name, insn) static u64 name(u64 a, u64 b, u64 c) { u64 r; asm volatile("fmv.d.x ft0, %1\n fmv.d.x ft1, %2\n fmv.d.x ft3, %3\n " insn " ft2, ft0, ft1, ft3\n fmv.x.d %0, ft2" : "=r"(r) : "r"(a), "r"(b), "r"(c) : "ft0", "ft1", "ft2", "ft3"); return r; }
#define D1(name, insn) static u64 name(u64 a) { u64 r; asm volatile("fmv.d.x ft0, %1\n " insn " ft2, ft0\n fmv.x.d %0, ft2" : "=r"(r) : "r"(a) : "ft0", "ft2"); return r; }
#define DX(name, insn) static u64 name(u64 a) { u64 r; asm volatile("fmv.d.x ft0, %1\n " insn " %0, ft0" : "=r"(r) : "r"(a) : "ft0"); return r; }
#define DC(name, insn) static u64 name(u64 a, u64 b) { u64 r; asm volatile("fmv.d.x ft0, %1\n fmv.d.x ft1, %2\n " insn " %0, ft0, ft1" : "=r"(r) : "r"(a), "r"(b) : "ft0", "ft1"); return r; }
#define XD(name, insn) static u64 name(u64 a) { u64 r; asm volatile(insn " ft2, %1\n fmv.x.d %0, ft2" : "=r"(r) : "r"(a) : "ft2"); return r; }
// single-precision: operand 64-bit patterns go in whole (so improperly boxed values can be tested)
#define S2 D2
#define S3 D3
#define S1 D1

D2(fadd_d, "fadd.d") D2(fsub_d, "fsub.d") D2(fmul_d, "fmul.d") D2(fdiv_d, "fdiv.d") D1(fsqrt_d, "fsqrt.d")
D3(fmadd_d, "fmadd.d") D3(fmsub_d, "fmsub.d") D3(fnmsub_d, "fnmsub.d") D3(fnmadd_d, "fnmadd.d")
D2(fmin_d, "fmin.d") D2(fmax_d, "fmax.d") D2(fsgnj_d, "fsgnj.d") D2(fsgnjn_d, "fsgnjn.d") D2(fsgnjx_d, "fsgnjx.d")
DC(feq_d, "feq.d") DC(flt_d, "flt.d") DC(fle_d, "fle.d") DX(fclass_d, "fclass.d")
DX(fcvt_w_d, "fcvt.w.d") DX(fcvt_wu_d, "fcvt.wu.d") DX(fcvt_l_d, "fcvt.l.d") DX(fcvt_lu_d, "fcvt.lu.d")
XD(fcvt_d_w, "fcvt.d.w") XD(fcvt_d_wu, "fcvt.d.wu") XD(fcvt_d_l, "fcvt.d.l") XD(fcvt_d_lu, "fcvt.d.lu")
D1(fcvt_s_d, "fcvt.s.d") D1(fcvt_d_s, "fcvt.d.s")
S2(fadd_s, "fadd.s") S2(fsub_s, "fsub.s") S2(fmul_s, "fmul.s") S2(fdiv_s, "fdiv.s") S1(fsqrt_s, "fsqrt.s")
S3(fmadd_s, "fmadd.s") S3(fmsub_s, "fmsub.s") S3(fnmsub_s, "fnmsub.s") S3(fnmadd_s, "fnmadd.s")
S2(fmin_s, "fmin.s") S2(fmax_s, "fmax.s") S2(fsgnj_s, "fsgnj.s") S2(fsgnjn_s, "fsgnjn.s") S2(fsgnjx_s, "fsgnjx.s")
DC(feq_s, "feq.s") DC(flt_s, "flt.s") DC(fle_s, "fle.s") DX(fclass_s, "fclass.s") DX(fmv_x_w, "fmv.x.w")
DX(fcvt_w_s, "fcvt.w.s") DX(fcvt_wu_s, "fcvt.wu.s") DX(fcvt_l_s, "fcvt.l.s") DX(fcvt_lu_s, "fcvt.lu.s")
XD(fcvt_s_w, "fcvt.s.w") XD(fcvt_s_wu, "fcvt.s.wu") XD(fcvt_s_l, "fcvt.s.l") XD(fcvt_s_lu, "fcvt.s.lu")

typedef u64 (*op1)(u64);
typedef u64 (*op2)(u64, u64);
typedef u64 (*op3)(u64, u64, u64);
struct entry { const char *name; int arity; int single; void *fn; };
static const struct entry OPS[] = {
  {"fadd.d", 2, 0, fadd_d}, {"fsub.d", 2, 0, fsub_d}, {"fmul.d", 2, 0, fmul_d}, {"fdiv.d", 2, 0, fdiv_d},
  {"fsqrt.d", 1, 0, fsqrt_d}, {"fmadd.d", 3, 0, fmadd_d}, {"fmsub.d", 3, 0, fmsub_d}, {"fnmsub.d", 3, 0, fnmsub_d},
  {"fnmadd.d", 3, 0, fnmadd_d}, {"fmin.d", 2, 0, fmin_d}, {"fmax.d", 2, 0, fmax_d}, {"fsgnj.d", 2, 0, fsgnj_d},
  {"fsgnjn.d", 2, 0, fsgnjn_d}, {"fsgnjx.d", 2, 0, fsgnjx_d}, {"feq.d", 2, 0, feq_d}, {"flt.d", 2, 0, flt_d},
  {"fle.d", 2, 0, fle_d}, {"fclass.d", 1, 0, fclass_d}, {"fcvt.w.d", 1, 0, fcvt_w_d}, {"fcvt.wu.d", 1, 0, fcvt_wu_d},
  {"fcvt.l.d", 1, 0, fcvt_l_d}, {"fcvt.lu.d", 1, 0, fcvt_lu_d}, {"fcvt.d.w", 1, 2, fcvt_d_w},
  {"fcvt.d.wu", 1, 2, fcvt_d_wu}, {"fcvt.d.l", 1, 2, fcvt_d_l}, {"fcvt.d.lu", 1, 2, fcvt_d_lu},
  {"fcvt.s.d", 1, 0, fcvt_s_d}, {"fcvt.d.s", 1, 1, fcvt_d_s},
  {"fadd.s", 2, 1, fadd_s}, {"fsub.s", 2, 1, fsub_s}, {"fmul.s", 2, 1, fmul_s}, {"fdiv.s", 2, 1, fdiv_s},
  {"fsqrt.s", 1, 1, fsqrt_s}, {"fmadd.s", 3, 1, fmadd_s}, {"fmsub.s", 3, 1, fmsub_s}, {"fnmsub.s", 3, 1, fnmsub_s},
  {"fnmadd.s", 3, 1, fnmadd_s}, {"fmin.s", 2, 1, fmin_s}, {"fmax.s", 2, 1, fmax_s}, {"fsgnj.s", 2, 1, fsgnj_s},
  {"fsgnjn.s", 2, 1, fsgnjn_s}, {"fsgnjx.s", 2, 1, fsgnjx_s}, {"feq.s", 2, 1, feq_s}, {"flt.s", 2, 1, flt_s},
  {"fle.s", 2, 1, fle_s}, {"fclass.s", 1, 1, fclass_s}, {"fmv.x.w", 1, 1, fmv_x_w}, {"fcvt.w.s", 1, 1, fcvt_w_s},
  {"fcvt.wu.s", 1, 1, fcvt_wu_s}, {"fcvt.l.s", 1, 1, fcvt_l_s}, {"fcvt.lu.s", 1, 1, fcvt_lu_s},
  {"fcvt.s.w", 1, 2, fcvt_s_w}, {"fcvt.s.wu", 1, 2, fcvt_s_wu}, {"fcvt.s.l", 1, 2, fcvt_s_l}, {"fcvt.s.lu", 1, 2, fcvt_s_lu},
};

// operand generator: single-precision operands are NaN-boxed, except one in 16 which is left unboxed
static u64 operand(int kind, int i) {
  if (kind == 2) { // integer operand
    u64 r = next();
    switch (r & 3) {
      case 0: return (u64)(int64_t)(int32_t)r;
      case 1: return r >> (r & 63);
      case 2: return D_SPECIAL[i % ND];
      default: return r;
    }
  }
  if (kind == 1) {
    u32 v = i < (int)NS ? S_SPECIAL[i] : rand_s();
    if ((next() & 15) == 0) return (u64)v; // improperly boxed
    return 0xffffffff00000000ull | v;
  }
  return i < (int)ND ? D_SPECIAL[i] : rand_d();
}

#ifndef RANDOM_CASES
#define RANDOM_CASES 400
#endif

int main(void) {
  asm volatile("csrs mstatus, %0" :: "r"(1 << 13));
  for (unsigned o = 0; o < sizeof OPS / sizeof OPS[0]; o++) {
    const struct entry *e = &OPS[o];
#ifdef ONLY
    { const char *p = e->name, *q = ONLY; while (*p && *p == *q) { p++; q++; } if (*p || *q) continue; }
#endif
    for (int rm = 0; rm < 5; rm++) {
      hash = 0xcbf29ce484222325ull;
      rng = 0x9e3779b97f4a7c15ull ^ (o * 7919u);
      int n = e->arity == 2 ? 32 * 32 : 32;
      for (int i = 0; i < n + RANDOM_CASES; i++) {
        u64 a, b = 0, c = 0;
        if (e->arity == 2 && i < n) { a = operand(e->single, i / 32); b = operand(e->single, i % 32); }
        else {
          int k = i < n ? i : 1000;
          a = operand(e->single, k); b = operand(e->single, 1000); c = operand(e->single, i % 40 == 0 ? i % 32 : 1000);
        }
        set_rm(rm);
        get_flags();
        u64 r;
        if (e->arity == 1) r = ((op1)e->fn)(a);
        else if (e->arity == 2) r = ((op2)e->fn)(a, b);
        else r = ((op3)e->fn)(a, b, c);
        u64 f = get_flags();
        mix(r); mix(f);
#ifdef VERBOSE
        htif_puts(e->name); htif_putc(' '); htif_hex(rm, 1); htif_putc(' '); htif_hex(a, 16); htif_putc(' ');
        htif_hex(b, 16); htif_putc(' '); htif_hex(c, 16); htif_puts(" -> "); htif_hex(r, 16); htif_putc(' ');
        htif_hex(f, 2); htif_putc('\n');
#endif
      }
      htif_puts(e->name); htif_putc(' '); htif_hex(rm, 1); htif_putc(' '); htif_hex(hash, 16); htif_putc('\n');
    }
  }
  return 0;
}
