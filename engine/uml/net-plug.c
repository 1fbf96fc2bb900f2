// kwb's network plug for one guest: it plays uml_switch for each of a UML guest's interfaces (UML's `daemon`
// transport: a control connection on a unix stream socket, then one Ethernet frame per unix datagram), or, with
// --stream, takes one stream connection per interface on CTL carrying the frames in QEMU's stream netdev framing
// (kwb's rv64 machine, which runs in a Node process: Node has no unix datagram sockets), and carries the frames to
// where the interface belongs:
//   --user CTL SOCK   passt's socket (QEMU's stream netdev framing: a 32-bit big-endian length, then the frame);
//   --lan  CTL DIR    a LAN: every plug on it binds a datagram socket in DIR; frames go to the peer that owns the
//                     destination MAC (learnt from the frames it sent), broadcasts and unknown ones to every peer.
// --pcap FILE records every frame of every interface of the guest (classic pcap, Ethernet), as UML sent or got it.
// No switch process outlives its guests: the LAN is the directory. A plug ends when its stdin closes (kwb exits,
// even by SIGKILL) or on SIGTERM, and removes its sockets; sockets of a plug killed harder are removed by its peers
// when sending to them is refused. Prints "ready" on stdout once every socket exists (UML may connect from then on).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_IF 8
#define FRAME_MAX 65536
#define FDB_SIZE 64

// the uml_switch control protocol, as arch/um/drivers/daemon_user.c speaks it
#define SWITCH_MAGIC 0xfeedface
struct request_v3 {
  uint32_t magic;
  uint32_t version;
  uint32_t type; // REQ_NEW_CONTROL = 0
  struct sockaddr_un sock;
};

struct peer {
  unsigned char mac[6];
  struct sockaddr_un addr;
};

// a stream of frames, each after its 32-bit big-endian length (QEMU's stream netdev, passt)
struct stream {
  int fd;
  unsigned char rx[FRAME_MAX + 4];
  size_t rx_len;
};

struct iface {
  int user; // 1: passt, 0: LAN
  char ctl_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
  int ctl_listen, ctl, data;
  struct sockaddr_un data_addr, uml;
  int uml_known;
  struct stream guest; // --stream: the guest's frames come and go on the connection accepted on CTL
  struct stream passt;
  // LAN
  int lan;
  char lan_dir[96], lan_name[32];
  struct peer fdb[FDB_SIZE];
  int fdb_next;
};

static struct iface ifs[MAX_IF];
static int n_if;
static FILE *pcap;
static int stream_guests; // --stream
static volatile sig_atomic_t stopping;

static void die(const char *what, const char *arg) {
  fprintf(stderr, "%s %s: %s\n", what, arg, strerror(errno));
  exit(1);
}

static struct sockaddr_un unix_addr(const char *path) {
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof a.sun_path) {
    errno = ENAMETOOLONG;
    die("socket path", path);
  }
  strcpy(a.sun_path, path);
  return a;
}

static void pcap_frame(const unsigned char *frame, size_t len) {
  if (!pcap) return;
  struct timeval tv;
  gettimeofday(&tv, NULL);
  uint32_t rec[4] = {(uint32_t)tv.tv_sec, (uint32_t)tv.tv_usec, (uint32_t)len, (uint32_t)len};
  fwrite(rec, sizeof rec, 1, pcap);
  fwrite(frame, 1, len, pcap);
}

static void write_frame(int fd, const unsigned char *frame, size_t len);

static void to_uml(struct iface *f, const unsigned char *frame, size_t len) {
  if (!f->uml_known) return;
  pcap_frame(frame, len);
  if (stream_guests) write_frame(f->guest.fd, frame, len);
  // a guest that does not read fast enough loses the frame, as on a real switch
  else sendto(f->data, frame, len, MSG_DONTWAIT, (struct sockaddr *)&f->uml, sizeof f->uml);
}

static int send_peer(struct iface *f, const struct sockaddr_un *to, const unsigned char *frame, size_t len) {
  if (sendto(f->lan, frame, len, MSG_DONTWAIT, (const struct sockaddr *)to, sizeof *to) >= 0) return 0;
  if (errno == ECONNREFUSED) unlink(to->sun_path); // its plug died without cleaning up
  return errno == EAGAIN ? 0 : -1;
}

static void flood(struct iface *f, const unsigned char *frame, size_t len) {
  DIR *d = opendir(f->lan_dir);
  if (!d) return;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.' || !strcmp(e->d_name, f->lan_name)) continue;
    char path[sizeof f->lan_dir + 300];
    snprintf(path, sizeof path, "%s/%s", f->lan_dir, e->d_name);
    struct sockaddr_un to = unix_addr(path);
    send_peer(f, &to, frame, len);
  }
  closedir(d);
}

static void to_lan(struct iface *f, const unsigned char *frame, size_t len) {
  if (!(frame[0] & 1)) {
    for (int i = 0; i < FDB_SIZE; i++) {
      struct peer *p = &f->fdb[i];
      if (p->addr.sun_family && !memcmp(p->mac, frame, 6)) {
        if (send_peer(f, &p->addr, frame, len) == 0) return;
        p->addr.sun_family = 0; // gone: forget it and flood
        break;
      }
    }
  }
  flood(f, frame, len);
}

static void learn(struct iface *f, const unsigned char *src, const struct sockaddr_un *from) {
  if (src[0] & 1) return;
  for (int i = 0; i < FDB_SIZE; i++)
    if (f->fdb[i].addr.sun_family && !memcmp(f->fdb[i].mac, src, 6)) {
      f->fdb[i].addr = *from;
      return;
    }
  struct peer *p = &f->fdb[f->fdb_next++ % FDB_SIZE];
  memcpy(p->mac, src, 6);
  p->addr = *from;
}

static void write_frame(int fd, const unsigned char *frame, size_t len) {
  uint32_t be = htonl((uint32_t)len);
  struct iovec iov[2] = {{&be, 4}, {(void *)frame, len}};
  size_t want = 4 + len;
  ssize_t n = writev(fd, iov, 2);
  // a partial write must be completed, or the stream's framing is lost
  while (n >= 0 && (size_t)n < want) {
    size_t done = (size_t)n;
    ssize_t m = done < 4 ? write(fd, (char *)&be + done, 4 - done) : write(fd, frame + done - 4, want - done);
    if (m < 0) break;
    n += m;
  }
}

/** Read what the stream has and hand each whole frame to `deliver`; returns -1 when it closed or broke its framing. */
static int read_frames(struct stream *s, struct iface *f, void (*deliver)(struct iface *, const unsigned char *, size_t),
                       const char *who) {
  ssize_t n = read(s->fd, s->rx + s->rx_len, sizeof s->rx - s->rx_len);
  if (n <= 0) return n < 0 && errno == EINTR ? 0 : -1;
  s->rx_len += (size_t)n;
  size_t at = 0;
  while (s->rx_len - at >= 4) {
    uint32_t len = ntohl(*(uint32_t *)(s->rx + at));
    if (len > FRAME_MAX) {
      fprintf(stderr, "%s sent a frame of %u bytes\n", who, len);
      return -1;
    }
    if (s->rx_len - at < 4 + len) break;
    deliver(f, s->rx + at + 4, len);
    at += 4 + len;
  }
  memmove(s->rx, s->rx + at, s->rx_len - at);
  s->rx_len -= at;
  return 0;
}

static void to_passt(struct iface *f, const unsigned char *frame, size_t len) { write_frame(f->passt.fd, frame, len); }

/** A frame the guest sent on interface f. */
static void from_guest(struct iface *f, const unsigned char *frame, size_t len) {
  if (len < 14) return;
  pcap_frame(frame, len);
  if (f->user) to_passt(f, frame, len);
  else to_lan(f, frame, len);
}

static void accept_uml(struct iface *f) {
  int c = accept4(f->ctl_listen, NULL, NULL, SOCK_CLOEXEC);
  if (c < 0) return;
  if (stream_guests) {
    // one connection at a time: a new one replaces the old (the guest's frames arrive on it from now on)
    if (f->guest.fd >= 0) close(f->guest.fd);
    int buf = 1 << 20;
    setsockopt(c, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
    f->guest.fd = c;
    f->guest.rx_len = 0;
    f->uml_known = 1;
    return;
  }
  struct request_v3 req;
  struct timeval tv = {2, 0};
  setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (read(c, &req, sizeof req) != sizeof req || req.magic != SWITCH_MAGIC || req.version != 3 || req.type != 0) {
    close(c);
    return;
  }
  if (write(c, &f->data_addr, sizeof f->data_addr) != sizeof f->data_addr) {
    close(c);
    return;
  }
  if (f->ctl >= 0) close(f->ctl);
  f->ctl = c;
  f->uml = req.sock;
  f->uml_known = 1;
}

static int listen_at(const char *path) {
  struct sockaddr_un a = unix_addr(path);
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  unlink(path);
  if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 4) < 0) die("cannot listen at", path);
  return s;
}

static void open_iface(struct iface *f, int index, const char *target) {
  f->ctl = -1;
  f->guest.fd = -1;
  f->ctl_listen = listen_at(f->ctl_path);
  // our datagram address, given to UML: abstract, full length (UML sends to all of struct sockaddr_un)
  f->data = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  f->data_addr.sun_family = AF_UNIX;
  snprintf(f->data_addr.sun_path + 1, sizeof f->data_addr.sun_path - 1, "kwb-net-plug/%d/%d", getpid(), index);
  if (bind(f->data, (struct sockaddr *)&f->data_addr, sizeof f->data_addr) < 0) die("cannot bind", "data socket");
  if (f->user) {
    struct sockaddr_un a = unix_addr(target);
    f->passt.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (connect(f->passt.fd, (struct sockaddr *)&a, sizeof a) < 0) die("cannot connect to passt at", target);
    return;
  }
  snprintf(f->lan_dir, sizeof f->lan_dir, "%s", target);
  snprintf(f->lan_name, sizeof f->lan_name, "%d.%d", getpid(), index);
  char path[sizeof f->lan_dir + sizeof f->lan_name + 1];
  snprintf(path, sizeof path, "%s/%s", f->lan_dir, f->lan_name);
  struct sockaddr_un a = unix_addr(path);
  f->lan = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  int buf = 4 << 20;
  setsockopt(f->lan, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  // the last plug leaving a LAN removes its directory (and their parent): if that races with this bind, make it again
  char parent[sizeof f->lan_dir];
  snprintf(parent, sizeof parent, "%s", f->lan_dir);
  *strrchr(parent, '/') = 0;
  for (int tries = 0;; tries++) {
    if (mkdir(parent, 0700) < 0 && errno != EEXIST) die("cannot create", parent);
    if (mkdir(f->lan_dir, 0700) < 0 && errno != EEXIST) die("cannot create", f->lan_dir);
    if (bind(f->lan, (struct sockaddr *)&a, sizeof a) == 0) break;
    if (errno != ENOENT || tries == 10) die("cannot bind", path);
  }
}

static void cleanup(void) {
  for (int i = 0; i < n_if; i++) {
    struct iface *f = &ifs[i];
    unlink(f->ctl_path);
    if (!f->user && f->lan_name[0]) {
      char path[sizeof f->lan_dir + sizeof f->lan_name + 1];
      snprintf(path, sizeof path, "%s/%s", f->lan_dir, f->lan_name);
      unlink(path);
      // only when no other plug is on it (and no other LAN is in use)
      if (rmdir(f->lan_dir) == 0) *strrchr(f->lan_dir, '/') = 0, rmdir(f->lan_dir);
    }
  }
  if (pcap) fclose(pcap);
}

static void on_signal(int sig) {
  (void)sig;
  stopping = 1;
}

int main(int argc, char **argv) {
  const char *targets[MAX_IF];
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--stream")) {
      stream_guests = 1;
    } else if (!strcmp(argv[i], "--pcap") && i + 1 < argc) {
      if (!(pcap = fopen(argv[++i], "wb"))) die("cannot write", argv[i]);
      uint32_t hdr[6] = {0xa1b2c3d4, 0x00040002, 0, 0, FRAME_MAX, 1}; // v2.4, snaplen, LINKTYPE_ETHERNET
      fwrite(hdr, sizeof hdr, 1, pcap);
    } else if ((!strcmp(argv[i], "--user") || !strcmp(argv[i], "--lan")) && i + 2 < argc && n_if < MAX_IF) {
      struct iface *f = &ifs[n_if];
      f->user = argv[i][2] == 'u';
      snprintf(f->ctl_path, sizeof f->ctl_path, "%s", argv[i + 1]);
      targets[n_if++] = argv[i + 2];
      i += 2;
    } else {
      fprintf(stderr, "usage: net-plug [--stream] [--pcap FILE] (--user CTL PASST_SOCKET | --lan CTL DIR)...\n");
      return 2;
    }
  }
  atexit(cleanup);
  struct sigaction sa = {.sa_handler = on_signal};
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  for (int i = 0; i < n_if; i++) open_iface(&ifs[i], i, targets[i]);
  printf("ready\n");
  fflush(stdout);

  static unsigned char frame[FRAME_MAX];
  while (!stopping) {
    struct pollfd p[1 + 5 * MAX_IF];
    struct iface *owner[1 + 5 * MAX_IF];
    int role[1 + 5 * MAX_IF], n = 0;
    p[n] = (struct pollfd){0, POLLIN, 0}, owner[n] = NULL, role[n++] = 0;
    for (int i = 0; i < n_if; i++) {
      struct iface *f = &ifs[i];
      p[n] = (struct pollfd){f->ctl_listen, POLLIN, 0}, owner[n] = f, role[n++] = 1;
      if (f->ctl >= 0) p[n] = (struct pollfd){f->ctl, POLLIN, 0}, owner[n] = f, role[n++] = 2;
      if (f->guest.fd >= 0) p[n] = (struct pollfd){f->guest.fd, POLLIN, 0}, owner[n] = f, role[n++] = 5;
      p[n] = (struct pollfd){f->data, POLLIN, 0}, owner[n] = f, role[n++] = 3;
      p[n] = (struct pollfd){f->user ? f->passt.fd : f->lan, POLLIN, 0}, owner[n] = f, role[n++] = 4;
    }
    int ready = poll(p, n, 200);
    if (ready == 0 && pcap) fflush(pcap); // idle: let a reader see the capture so far
    if (ready <= 0) continue;
    for (int k = 0; k < n; k++) {
      if (!p[k].revents) continue;
      struct iface *f = owner[k];
      if (role[k] == 0) {
        char b[64];
        if (read(0, b, sizeof b) <= 0) stopping = 1; // kwb is gone, or asked us to stop
      } else if (role[k] == 1) {
        accept_uml(f);
      } else if (role[k] == 2) {
        char b[64];
        if (read(f->ctl, b, sizeof b) <= 0) close(f->ctl), f->ctl = -1, f->uml_known = 0;
      } else if (role[k] == 3) {
        // drain the queue: a unix datagram socket holds only net.unix.max_dgram_qlen (often 10) frames, and UML
        // drops what does not fit
        for (;;) {
          struct sockaddr_un from;
          socklen_t fl = sizeof from;
          ssize_t len = recvfrom(f->data, frame, sizeof frame, MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
          if (len < 0) break;
          // only the guest that registered may send on its interface (abstract names cannot be taken over)
          if (!f->uml_known || fl != sizeof f->uml || memcmp(&from, &f->uml, fl)) continue;
          from_guest(f, frame, (size_t)len);
        }
      } else if (role[k] == 5) {
        if (read_frames(&f->guest, f, from_guest, "the guest") < 0) close(f->guest.fd), f->guest.fd = -1, f->uml_known = 0;
      } else if (f->user) {
        if (read_frames(&f->passt, f, to_uml, "passt") < 0) {
          fprintf(stderr, "passt closed its socket\n");
          stopping = 1; // passt --one-off is gone; the guest has no network left
        }
      } else {
        for (;;) {
          struct sockaddr_un from = {0};
          socklen_t fl = sizeof from;
          ssize_t len = recvfrom(f->lan, frame, sizeof frame, MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
          if (len < 0) break;
          if (len < 14) continue;
          learn(f, frame + 6, &from);
          to_uml(f, frame, (size_t)len);
        }
      }
    }
  }
  return 0;
}
