// A small S-mode guest for time-travel tests: timer interrupts (SBI set_timer), UART output and polled input, a
// variable written from one function (for watchpoints and reverse-finish), one written twice on a page written all
// along, pages written in turn, and WFI idling.
// Deterministic for given console input: 'q' ends it early.
#define UART ((volatile unsigned char *)0x10000000)
#define UART_LSR_DR 1
#define PERIOD 5000 /* timer ticks (10 instructions each) */
#define ITERATIONS 60000

volatile unsigned long ticks;
volatile unsigned long counter;
static unsigned char pages[16][4096] __attribute__((aligned(4096)));
/* rare[0] is written twice, rare[256] (the same page) all along: watching rare[0], most stretches cannot stop */
volatile unsigned long rare[512] __attribute__((aligned(4096)));

static unsigned long rdtime(void) {
  unsigned long t;
  __asm__ volatile("rdtime %0" : "=r"(t));
  return t;
}

static void sbi_set_timer(unsigned long when) {
  register unsigned long a0 __asm__("a0") = when;
  register unsigned long a6 __asm__("a6") = 0;
  register unsigned long a7 __asm__("a7") = 0x54494d45;
  __asm__ volatile("ecall" : "+r"(a0) : "r"(a6), "r"(a7) : "a1", "memory");
}

static void putch(char c) { UART[0] = c; }

static void puts(const char *s) {
  while (*s) putch(*s++);
}

static void putnum(unsigned long n) {
  char buf[24];
  int i = 0;
  do buf[i++] = '0' + n % 10;
  while ((n /= 10) != 0);
  while (i) putch(buf[--i]);
}

void trap(unsigned long cause) {
  if (cause == ((1UL << 63) | 5)) {
    ticks++;
    sbi_set_timer(rdtime() + PERIOD);
  }
}

__attribute__((noinline)) void bump(unsigned long i) {
  counter = i;
}

__attribute__((noinline)) unsigned long work(unsigned long i) {
  pages[i % 16][(i * 8) % 4096] = (unsigned char)i;
  if (i % 97 == 0) bump(i);
  return i + 1;
}

int main(void) {
  sbi_set_timer(rdtime() + PERIOD);
  __asm__ volatile("csrs sie, %0" ::"r"(1UL << 5));
  __asm__ volatile("csrs sstatus, %0" ::"r"(1UL << 1));
  puts("timetravel: start\n");
  for (unsigned long i = 0; i < ITERATIONS; i = work(i)) {
    if (i % 10000 == 0) {
      puts("i=");
      putnum(i);
      puts(" ticks=");
      putnum(ticks);
      putch('\n');
    }
    rare[256] = i;
    if (i == 12000 || i == 36000) rare[0] = i;
    if (i == 30000) {
      unsigned long until = ticks + 3;
      while (ticks < until) __asm__ volatile("wfi");
    }
    if (UART[5] & UART_LSR_DR) {
      char c = UART[0];
      puts("got ");
      putch(c);
      putch('\n');
      if (c == 'q') break;
    }
  }
  puts("timetravel: done ticks=");
  putnum(ticks);
  putch('\n');
  return 0;
}
