// kwb's user-mode NAT for `--net user`: libslirp (QEMU's user network, Debian's libslirp0) behind a unix stream socket
// that carries Ethernet frames in QEMU's stream netdev framing (a 32-bit big-endian length, then the frame), the
// protocol kwb's network plug speaks. kwb passes QEMU's addresses (engine/net.ts USER_NET): the guest 10.0.2.15/24
// (DHCP offers it too), the gateway 10.0.2.2, which is the host's loopback, and 10.0.2.3, which forwards DNS to the
// host's resolver; IPv6 is libslirp's default (fec0::/64, router advertisements).
//   net-slirp SOCKET GUEST/PREFIX GATEWAY DNS [--hostfwd tcp|udp:HOSTADDR:HOSTPORT:GUESTPORT]...
// Prints "ready" on stdout once SOCKET listens and every forward is bound (a forward that cannot bind is an error,
// exit 1), serves one connection, and ends when it closes, when stdin closes (kwb is gone) or on SIGTERM.
// Why not passt: Debian 12's passt resets a TCP stream the guest only sends on 24 s after it opened (see
// docs/ARCHITECTURE.md), and answers a lost segment with too few duplicate ACKs for a fast retransmit.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <slirp/libslirp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define FRAME_MAX 65536
#define MAX_POLL 1024
#define MAX_TIMERS 16

static int client = -1;
static struct pollfd fds[MAX_POLL];
static int nfds;
static volatile sig_atomic_t stopping;

// libslirp's timers (its TCP timers run from slirp_pollfds_poll; these are the few it asks for by id)
struct timer {
  int used;
  SlirpTimerId id;
  void *cb_opaque;
  int64_t expire_ms; // -1: not armed
};
static struct timer timers[MAX_TIMERS];
static Slirp *slirp;

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int64_t clock_get_ns(void *opaque) {
  (void)opaque;
  return now_ns();
}

static void *timer_new_opaque(SlirpTimerId id, void *cb_opaque, void *opaque) {
  (void)opaque;
  for (int i = 0; i < MAX_TIMERS; i++)
    if (!timers[i].used) {
      timers[i] = (struct timer){1, id, cb_opaque, -1};
      return &timers[i];
    }
  fprintf(stderr, "net-slirp: out of timers\n");
  exit(1);
}

static void timer_free(void *timer, void *opaque) {
  (void)opaque;
  ((struct timer *)timer)->used = 0;
}

static void timer_mod(void *timer, int64_t expire_ms, void *opaque) {
  (void)opaque;
  ((struct timer *)timer)->expire_ms = expire_ms;
}

static void guest_error(const char *msg, void *opaque) {
  (void)opaque;
  fprintf(stderr, "net-slirp: guest error: %s\n", msg);
}

static void no_fd(int fd, void *opaque) {
  (void)fd, (void)opaque;
}

static void notify(void *opaque) {
  (void)opaque; // one thread: the loop polls again anyway
}

/** A frame for the guest: to the plug, whole (a partial write would break the framing). */
static ssize_t send_packet(const void *buf, size_t len, void *opaque) {
  (void)opaque;
  if (client < 0) return (ssize_t)len;
  uint32_t be = htonl((uint32_t)len);
  struct iovec iov[2] = {{&be, 4}, {(void *)buf, len}};
  size_t want = 4 + len, done = 0;
  while (done < want) {
    ssize_t n = writev(client, iov, 2);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    done += (size_t)n;
    for (int i = 0; i < 2; i++) {
      size_t take = (size_t)n < iov[i].iov_len ? (size_t)n : iov[i].iov_len;
      iov[i].iov_base = (char *)iov[i].iov_base + take;
      iov[i].iov_len -= take;
      n -= (ssize_t)take;
    }
  }
  return (ssize_t)len;
}

static int add_poll(int fd, int events, void *opaque) {
  (void)opaque;
  if (nfds == MAX_POLL) return -1;
  short ev = 0;
  if (events & SLIRP_POLL_IN) ev |= POLLIN;
  if (events & SLIRP_POLL_OUT) ev |= POLLOUT;
  if (events & SLIRP_POLL_PRI) ev |= POLLPRI;
  fds[nfds] = (struct pollfd){fd, ev, 0};
  return nfds++;
}

static int get_revents(int idx, void *opaque) {
  (void)opaque;
  if (idx < 0 || idx >= nfds) return 0;
  short r = fds[idx].revents;
  return (r & POLLIN ? SLIRP_POLL_IN : 0) | (r & POLLOUT ? SLIRP_POLL_OUT : 0) | (r & POLLPRI ? SLIRP_POLL_PRI : 0) |
         (r & POLLERR ? SLIRP_POLL_ERR : 0) | (r & POLLHUP ? SLIRP_POLL_HUP : 0);
}

/** A --hostfwd value: tcp|udp:HOSTADDR:HOSTPORT:GUESTPORT. */
static void add_forward(const char *spec, struct in_addr guest) {
  char proto[4], addr[64];
  int host_port, guest_port;
  struct in_addr host;
  if (sscanf(spec, "%3[a-z]:%63[^:]:%d:%d", proto, addr, &host_port, &guest_port) != 4 ||
      (strcmp(proto, "tcp") && strcmp(proto, "udp")) || !inet_aton(addr, &host)) {
    fprintf(stderr, "net-slirp: bad forward %s\n", spec);
    exit(2);
  }
  if (slirp_add_hostfwd(slirp, !strcmp(proto, "udp"), host, host_port, guest, guest_port) < 0) {
    fprintf(stderr, "net-slirp: cannot forward %s port %d on %s: %s\n", proto, host_port, addr, strerror(errno));
    exit(1);
  }
}

static void on_signal(int sig) {
  (void)sig;
  stopping = 1;
}

int main(int argc, char **argv) {
  SlirpConfig cfg = {.version = 4, .in_enabled = true, .in6_enabled = true, .vprefix_len = 64};
  int prefix = 0;
  char guest[32];
  if (argc < 5 || (argc % 2) != 1 || sscanf(argv[2], "%31[0-9.]/%d", guest, &prefix) != 2 || prefix < 1 ||
      prefix > 30 || !inet_aton(guest, &cfg.vdhcp_start) || !inet_aton(argv[3], &cfg.vhost) ||
      !inet_aton(argv[4], &cfg.vnameserver)) {
    fprintf(stderr, "usage: net-slirp SOCKET GUEST/PREFIX GATEWAY DNS [--hostfwd tcp|udp:HOSTADDR:HOSTPORT:GUESTPORT]...\n");
    return 2;
  }
  cfg.vnetmask.s_addr = htonl(~0u << (32 - prefix));
  cfg.vnetwork.s_addr = cfg.vdhcp_start.s_addr & cfg.vnetmask.s_addr;
  struct sigaction sa = {.sa_handler = on_signal};
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  inet_pton(AF_INET6, "fec0::", &cfg.vprefix_addr6);
  inet_pton(AF_INET6, "fec0::2", &cfg.vhost6);
  inet_pton(AF_INET6, "fec0::3", &cfg.vnameserver6);
  cfg.vhostname = "kwb";
  static const SlirpCb callbacks = {
      .send_packet = send_packet,
      .guest_error = guest_error,
      .clock_get_ns = clock_get_ns,
      .timer_free = timer_free,
      .timer_mod = timer_mod,
      .register_poll_fd = no_fd,
      .unregister_poll_fd = no_fd,
      .notify = notify,
      .timer_new_opaque = timer_new_opaque,
  };
  slirp = slirp_new(&cfg, &callbacks, NULL);
  if (!slirp) {
    fprintf(stderr, "net-slirp: libslirp would not start\n");
    return 1;
  }
  for (int i = 5; i < argc; i += 2) {
    if (strcmp(argv[i], "--hostfwd")) {
      fprintf(stderr, "net-slirp: unknown option %s\n", argv[i]);
      return 2;
    }
    add_forward(argv[i + 1], cfg.vdhcp_start);
  }

  struct sockaddr_un a = {.sun_family = AF_UNIX};
  if (strlen(argv[1]) >= sizeof a.sun_path) {
    fprintf(stderr, "net-slirp: socket path too long: %s\n", argv[1]);
    return 2;
  }
  strcpy(a.sun_path, argv[1]);
  int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  unlink(a.sun_path);
  if (listener < 0 || bind(listener, (struct sockaddr *)&a, sizeof a) < 0 || listen(listener, 1) < 0) {
    fprintf(stderr, "net-slirp: cannot listen at %s: %s\n", a.sun_path, strerror(errno));
    return 1;
  }
  printf("ready\n");
  fflush(stdout);

  static unsigned char rx[FRAME_MAX + 4];
  size_t rx_len = 0;
  while (!stopping) {
    nfds = 0;
    add_poll(0, SLIRP_POLL_IN, NULL);
    add_poll(client >= 0 ? client : listener, SLIRP_POLL_IN, NULL);
    uint32_t timeout = 1000;
    int64_t now = now_ns() / 1000000;
    for (int i = 0; i < MAX_TIMERS; i++)
      if (timers[i].used && timers[i].expire_ms >= 0) {
        int64_t left = timers[i].expire_ms - now;
        if (left < (int64_t)timeout) timeout = left < 0 ? 0 : (uint32_t)left;
      }
    slirp_pollfds_fill(slirp, &timeout, add_poll, NULL);
    int ready = poll(fds, (nfds_t)nfds, (int)timeout);
    if (ready < 0 && errno != EINTR) break;
    if (ready > 0 && fds[0].revents) {
      char b[64];
      if (read(0, b, sizeof b) <= 0) break; // kwb is gone
    }
    if (ready > 0 && fds[1].revents && client < 0) {
      client = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
      if (client >= 0) close(listener), unlink(a.sun_path); // one connection, as passt --one-off
    } else if (ready > 0 && fds[1].revents) {
      ssize_t n = read(client, rx + rx_len, sizeof rx - rx_len);
      if (n <= 0 && !(n < 0 && errno == EINTR)) break; // the plug is gone: so is the guest's network
      if (n > 0) rx_len += (size_t)n;
      size_t at = 0;
      while (rx_len - at >= 4) {
        uint32_t len = ntohl(*(uint32_t *)(rx + at));
        if (len > FRAME_MAX) {
          fprintf(stderr, "net-slirp: the plug sent a frame of %u bytes\n", len);
          return 1;
        }
        if (rx_len - at < 4 + len) break;
        slirp_input(slirp, rx + at + 4, (int)len);
        at += 4 + len;
      }
      memmove(rx, rx + at, rx_len - at);
      rx_len -= at;
    }
    slirp_pollfds_poll(slirp, ready < 0, get_revents, NULL);
    now = now_ns() / 1000000;
    for (int i = 0; i < MAX_TIMERS; i++)
      if (timers[i].used && timers[i].expire_ms >= 0 && timers[i].expire_ms <= now) {
        timers[i].expire_ms = -1;
        slirp_handle_timer(slirp, timers[i].id, timers[i].cb_opaque);
      }
  }
  slirp_cleanup(slirp);
  if (client < 0) unlink(a.sun_path);
  return 0;
}
