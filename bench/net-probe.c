// The network benchmark's workload (bench/net.ts), one source for every side: built against the kernel's nolibc as
// a static x86-64 program (run in UML guests, from a share, and on the host) and as a RISC-V /init for the QEMU
// reference guests, so both sides run the same instructions' worth of work per byte.
//   net-probe [--ip ADDR/PREFIX] serve PORT            serve until a client says quit
//   net-probe [--ip ADDR/PREFIX] send ADDR PORT MIB    stream MIB MiB, then 500 one-byte round trips, then 200 pings
//                                                      (ICMP echo: ADDR's kernel, or a NAT's gateway, answers); quit
// --ip configures eth0 (the QEMU guests have no other init). As PID 1 it powers the machine off at the end.
// Prints "probe: stream BYTES bytes in USEC us", "probe: rtt USEC_TIMES_10 (x0.1 us) over N round trips" and
// "probe: ping USEC_TIMES_10 (x0.1 us) over N echoes".
#define SIN_SIZE 16
#define AF_INET 2
#define SOCK_STREAM 1
#define SOCK_DGRAM 2
#define SOCK_RAW 3
#define IPPROTO_ICMP 1
#define SO_RCVTIMEO 20
#define SOL_SOCKET 1
#define SO_REUSEADDR 2
#define IPPROTO_TCP 6
#define TCP_NODELAY 1
#define SHUT_WR 1
#define SIOCGIFFLAGS 0x8913
#define SIOCSIFFLAGS 0x8914
#define SIOCSIFADDR 0x8916
#define SIOCSIFNETMASK 0x891c
#define IFF_UP 0x1
#define ROUND_TRIPS 500
#define PINGS 200

struct sin {
  unsigned short family, port;
  unsigned int addr;
  unsigned char zero[8];
};
struct ifr {
  char name[16];
  union {
    struct sin addr;
    short flags;
    char pad[24];
  } u;
};

static long sc_socket(long d, long t, long p) { return my_syscall3(__NR_socket, d, t, p); }
static long sc_bind(long s, struct sin *a) { return my_syscall3(__NR_bind, s, a, SIN_SIZE); }
static long sc_listen(long s) { return my_syscall2(__NR_listen, s, 4); }
static long sc_accept(long s) { return my_syscall4(__NR_accept4, s, 0, 0, 0); }
static long sc_connect(long s, struct sin *a) { return my_syscall3(__NR_connect, s, a, SIN_SIZE); }
static long sc_shutdown(long s, long how) { return my_syscall2(__NR_shutdown, s, how); }
static long sc_setsockopt(long s, long level, long name, int value) {
  return my_syscall5(__NR_setsockopt, s, level, name, &value, sizeof value);
}

static long sc_timeout(long s, long seconds) {
  struct timeval tv = {seconds, 0};
  return my_syscall5(__NR_setsockopt, s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

static void fail(const char *what) {
  printf("probe: %s failed (errno %d)\n", what, errno);
  if (getpid() == 1) reboot(LINUX_REBOOT_CMD_POWER_OFF);
  exit(1);
}

static unsigned short be16(unsigned x) { return (unsigned short)(((x & 0xff) << 8) | ((x >> 8) & 0xff)); }

/** "a.b.c.d" (optionally "/prefix") as a network-order address; *prefix when asked for. */
static unsigned int parse_ip(const char *s, int *prefix) {
  unsigned int octets[4] = {0}, n = 0;
  for (; *s && *s != '/'; s++) {
    if (*s == '.') n++;
    else if (n < 4) octets[n] = octets[n] * 10 + (unsigned)(*s - '0');
  }
  if (prefix) *prefix = *s == '/' ? atoi(s + 1) : 24;
  return octets[0] | octets[1] << 8 | octets[2] << 16 | octets[3] << 24;
}

static long now_us(void) {
  struct timeval tv;
  gettimeofday(&tv, 0);
  return tv.tv_sec * 1000000L + tv.tv_usec;
}

static void configure(const char *cidr) {
  int prefix;
  unsigned int addr = parse_ip(cidr, &prefix);
  unsigned int mask = prefix ? ~0u << (32 - prefix) : 0;
  int s = (int)sc_socket(AF_INET, SOCK_DGRAM, 0);
  struct ifr r;
  memset(&r, 0, sizeof r);
  strcpy(r.name, "eth0");
  r.u.addr.family = AF_INET;
  r.u.addr.addr = addr;
  if (ioctl(s, SIOCSIFADDR, &r) < 0) fail("SIOCSIFADDR");
  r.u.addr.addr = (mask >> 24) | ((mask >> 8) & 0xff00) | ((mask << 8) & 0xff0000) | (mask << 24);
  if (ioctl(s, SIOCSIFNETMASK, &r) < 0) fail("SIOCSIFNETMASK");
  if (ioctl(s, SIOCGIFFLAGS, &r) < 0) fail("SIOCGIFFLAGS");
  r.u.flags |= IFF_UP;
  if (ioctl(s, SIOCSIFFLAGS, &r) < 0) fail("SIOCSIFFLAGS");
  close(s);
}

static int read_full(int fd, char *buf, long len) {
  for (long got = 0; got < len;) {
    long n = read(fd, buf + got, len - got);
    if (n <= 0) return -1;
    got += n;
  }
  return 0;
}

static int write_full(int fd, const char *buf, long len) {
  for (long put = 0; put < len;) {
    long n = write(fd, buf + put, len - put);
    if (n <= 0) return -1;
    put += n; // a signal may cut a blocking write short
  }
  return 0;
}

static char buf[65536];

static void serve(unsigned port) {
  int s = (int)sc_socket(AF_INET, SOCK_STREAM, 0);
  struct sin a = {AF_INET, be16(port), 0, {0}};
  sc_setsockopt(s, SOL_SOCKET, SO_REUSEADDR, 1);
  if (sc_bind(s, &a) < 0 || sc_listen(s) < 0) fail("listen");
  printf("probe: serving on port %d\n", port);
  for (;;) {
    int c = (int)sc_accept(s);
    char mode;
    if (c < 0) fail("accept");
    if (read(c, &mode, 1) != 1) mode = 0;
    if (mode == 'S') {
      long total = 0, n;
      while ((n = read(c, buf, sizeof buf)) > 0) total += n;
      write(c, &total, sizeof total);
    } else if (mode == 'P') {
      sc_setsockopt(c, IPPROTO_TCP, TCP_NODELAY, 1);
      while (read(c, buf, 1) == 1) write(c, buf, 1);
    }
    close(c);
    if (mode == 'Q') return;
  }
}

static int dial(unsigned int addr, unsigned port, char mode) {
  struct sin a = {AF_INET, be16(port), addr, {0}};
  for (int tries = 0;; tries++) {
    int s = (int)sc_socket(AF_INET, SOCK_STREAM, 0);
    if (sc_connect(s, &a) == 0) {
      if (write(s, &mode, 1) != 1) fail("write");
      return s;
    }
    close(s);
    if (tries == 300) fail("connect");
    sleep(1); // the server may still be booting
  }
}

static unsigned short inet_sum(const unsigned char *p, int n) {
  unsigned long sum = 0;
  for (int i = 0; i + 1 < n; i += 2) sum += (unsigned)p[i] << 8 | p[i + 1];
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return (unsigned short)~sum;
}

/** PINGS ICMP echoes to addr, one at a time, on a raw socket (the guest runs this as root). */
static void ping(unsigned int addr) {
  int s = (int)sc_socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  struct sin a = {AF_INET, 0, addr, {0}};
  if (s < 0 || sc_connect(s, &a) < 0 || sc_timeout(s, 5) < 0) fail("ping socket");
  static unsigned char req[64], reply[1500];
  long t0 = now_us();
  for (int seq = 0; seq < PINGS; seq++) {
    memset(req, 'k', sizeof req);
    req[0] = 8, req[1] = req[2] = req[3] = 0;                     // echo request, checksum 0 while summing
    req[4] = 'k', req[5] = 'w', req[6] = (unsigned char)(seq >> 8), req[7] = (unsigned char)seq; // id, sequence
    unsigned short sum = inet_sum(req, sizeof req);
    req[2] = (unsigned char)(sum >> 8), req[3] = (unsigned char)sum;
    if (write(s, req, sizeof req) != sizeof req) fail("ping write");
    for (;;) { // a raw socket also sees other ICMP: wait for this echo's reply
      long n = read(s, (char *)reply, sizeof reply);
      if (n < 0) fail("ping");
      int at = (reply[0] & 15) * 4;
      if (n >= at + 8 && reply[at] == 0 && !memcmp(reply + at + 4, req + 4, 4)) break;
    }
  }
  printf("probe: ping %ld (x0.1 us) over %d echoes\n", (now_us() - t0) * 10 / PINGS, PINGS);
  close(s);
}

static void send_to(unsigned int addr, unsigned port, long mib) {
  int s = dial(addr, port, 'S');
  long t0 = now_us(), total = 0;
  memset(buf, 'k', sizeof buf);
  for (long left = mib << 20; left > 0; left -= sizeof buf)
    if (write_full(s, buf, sizeof buf) < 0) fail("stream write");
  sc_shutdown(s, SHUT_WR);
  if (read_full(s, (char *)&total, sizeof total) < 0) fail("stream reply");
  printf("probe: stream %ld bytes in %ld us\n", total, now_us() - t0);
  close(s);

  s = dial(addr, port, 'P');
  sc_setsockopt(s, IPPROTO_TCP, TCP_NODELAY, 1);
  t0 = now_us();
  for (int i = 0; i < ROUND_TRIPS; i++)
    if (write(s, "p", 1) != 1 || read_full(s, buf, 1) < 0) fail("round trip");
  printf("probe: rtt %ld (x0.1 us) over %d round trips\n", (now_us() - t0) * 10 / ROUND_TRIPS, ROUND_TRIPS);
  close(s);
  ping(addr);
  // end our side and wait for the server's: as PID 1 this probe powers its machine off next, which could drop the
  // 'Q' unsent
  s = dial(addr, port, 'Q');
  sc_shutdown(s, SHUT_WR);
  read(s, buf, 1);
  close(s);
}

int main(int argc, char **argv) {
  int i = 1;
  if (i + 1 < argc && !strcmp(argv[i], "--ip")) configure(argv[i + 1]), i += 2;
  if (i + 1 < argc && !strcmp(argv[i], "serve")) serve((unsigned)atoi(argv[i + 1]));
  else if (i + 3 < argc && !strcmp(argv[i], "send"))
    send_to(parse_ip(argv[i + 1], 0), (unsigned)atoi(argv[i + 2]), atol(argv[i + 3]));
  else printf("probe: usage: net-probe [--ip ADDR/PREFIX] serve PORT | send ADDR PORT MIB\n");
  if (getpid() == 1) reboot(LINUX_REBOOT_CMD_POWER_OFF);
  return 0;
}
