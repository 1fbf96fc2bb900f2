// Compute-bound guest program for bench/rv64-cpu.ts: a CoreMark-like mix of list walking, a matrix multiply,
// a state machine over a byte buffer, and a CRC over memory. Returns 0 (pass) when the checksum matches the
// value computed on the first pass, so both kwb and QEMU run identical instruction streams.
#include <stdint.h>

#define N 16
#define BUF 8192
static int32_t ma[N][N], mb[N][N], mc[N][N];
static uint8_t buf[BUF];
struct node { struct node *next; int32_t v; };
static struct node nodes[256];

static uint32_t crc32(const uint8_t *p, int n, uint32_t crc) {
  crc = ~crc;
  for (int i = 0; i < n; i++) {
    crc ^= p[i];
    for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
  }
  return ~crc;
}

static uint32_t run(uint32_t seed) {
  uint32_t x = seed;
  for (int i = 0; i < BUF; i++) { x ^= x << 13; x ^= x >> 17; x ^= x << 5; buf[i] = (uint8_t)x; }
  for (int i = 0; i < N; i++)
    for (int j = 0; j < N; j++) { ma[i][j] = (int32_t)(buf[i * N + j] - 128); mb[i][j] = (int32_t)(buf[512 + i * N + j] - 100); }
  for (int i = 0; i < N; i++)
    for (int j = 0; j < N; j++) {
      int64_t s = 0;
      for (int k = 0; k < N; k++) s += (int64_t)ma[i][k] * mb[k][j];
      mc[i][j] = (int32_t)(s ^ (s >> 7));
    }
  for (int i = 0; i < 256; i++) { nodes[i].v = buf[i * 3]; nodes[i].next = &nodes[(i * 97 + 13) & 255]; }
  struct node *p = &nodes[0];
  uint64_t acc = 0;
  for (int i = 0; i < 4096; i++) { acc = acc * 31 + (uint64_t)p->v; if (p->v & 1) p->v = p->v * 3 + 1; else p->v >>= 1; p = p->next; }
  int state = 0, count = 0;
  for (int i = 0; i < BUF; i++) {
    uint8_t c = buf[i];
    switch (state) {
      case 0: state = c < 64 ? 1 : c < 128 ? 2 : 0; break;
      case 1: state = (c & 1) ? 2 : 3; count++; break;
      case 2: state = c > 200 ? 0 : 3; break;
      default: state = (c & 3) == 0 ? 0 : 1; count += 2; break;
    }
  }
  uint32_t crc = crc32(buf, BUF, 0);
  crc = crc32((const uint8_t *)mc, sizeof mc, crc);
  return crc ^ (uint32_t)acc ^ (uint32_t)(acc >> 32) ^ (uint32_t)count;
}

#ifndef ITERATIONS
#define ITERATIONS 40
#endif

int main(void) {
  uint32_t first = 0, total = 0;
  for (int it = 0; it < ITERATIONS; it++) {
    uint32_t r = run(0x12345678u + (uint32_t)it);
    if (it == 0) first = r;
    total += r;
  }
  volatile uint32_t sink = total;
  (void)sink;
  return first == run(0x12345678u) ? 0 : 1;
}
