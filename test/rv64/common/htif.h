// HTIF console output for kwb's rv64 C test programs (device 1, command 1: putchar), understood by kwb and QEMU.
#ifndef KWB_HTIF_H
#define KWB_HTIF_H
#include <stdint.h>
extern volatile uint64_t tohost, fromhost;

static inline void htif_putc(char c) {
  tohost = (1ull << 56) | (1ull << 48) | (uint8_t)c;
  while (tohost != 0) {}
  fromhost = 0;
}
static inline void htif_puts(const char *s) { while (*s) htif_putc(*s++); }
static inline void htif_hex(uint64_t v, int digits) {
  for (int i = digits - 1; i >= 0; i--) htif_putc("0123456789abcdef"[(v >> (4 * i)) & 15]);
}
#endif
