// kwb's network plug for one guest: it plays uml_switch for each of a UML guest's interfaces (UML's `daemon`
// transport: a control connection on a unix stream socket, then one Ethernet frame per unix datagram), or, with
// --stream, takes one stream connection per interface on CTL carrying the frames in QEMU's stream netdev framing
// (kwb's rv64 machine, which runs in a Node process: Node has no unix datagram sockets), and carries the frames to
// where the interface belongs:
//   --user CTL SOCK   the NAT's socket (net-slirp.c; QEMU's stream netdev framing: a 32-bit big-endian length, then
//                     the frame);
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

// Frames on their way to a socket that has not taken them yet. A unix datagram socket holds only
// net.unix.max_dgram_qlen frames (10 by default) from senders it is not connected to, so a guest or a peer plug that
// was not scheduled for a moment lost the rest, and TCP fell back to retransmission timeouts (5 MiB through the NAT
// took 22 s, 917 of 4106 segments resent). They wait here instead and go as the receiver drains (POLLOUT); while too many
// wait for a guest, the plug stops reading what feeds them (the NAT, the LAN), so senders slow down rather than lose.
#define QUEUE_FRAMES 512
struct queue {
  unsigned char *frame[QUEUE_FRAMES];
  uint32_t len[QUEUE_FRAMES];
  unsigned head, count;
};

struct peer {
  unsigned char mac[6];
  struct sockaddr_un addr;
  struct queue q; // unicast frames for it, sent from the LAN socket
  int watch;      // -1, or a socket connected to the peer's: POLLOUT on it says the peer's socket has room
};

// a stream of frames, each after its 32-bit big-endian length (QEMU's stream netdev, the NAT)
struct stream {
  int fd;
  unsigned char rx[FRAME_MAX + 4];
  size_t rx_len;
};

struct iface {
  int user; // 1: the NAT, 0: LAN
  char ctl_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
  int ctl_listen, ctl, data;
  struct sockaddr_un data_addr, uml;
  int uml_known;
  struct queue to_uml; // frames the guest's socket has not taken yet
  struct stream guest; // --stream: the guest's frames come and go on the connection accepted on CTL
  struct stream nat;
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

static void queue_drop_all(struct queue *q) {
  for (; q->count; q->count--, q->head = (q->head + 1) % QUEUE_FRAMES) free(q->frame[q->head]);
  q->head = 0;
}

static int send_one(int fd, const struct sockaddr_un *to, const unsigned char *frame, size_t len) {
  return (int)sendto(fd, frame, len, MSG_DONTWAIT, (const struct sockaddr *)to, to ? sizeof *to : 0);
}

/** Send a frame from fd (to `to`, or to fd's peer when NULL) after what already waits in q, or leave it waiting there
 *  when the receiver has no room (a receiver that takes nothing while QUEUE_FRAMES wait loses it, as on a real
 *  switch). Returns -1 when the receiver refused it for good (gone). */
static int send_queued(struct queue *q, int fd, const struct sockaddr_un *to, const unsigned char *frame, size_t len) {
  if (!q->count) {
    if (send_one(fd, to, frame, len) >= 0) return 0;
    if (errno != EAGAIN) return -1;
  }
  unsigned char *copy = q->count < QUEUE_FRAMES ? malloc(len) : NULL;
  if (!copy) return 0;
  unsigned at = (q->head + q->count++) % QUEUE_FRAMES;
  q->frame[at] = memcpy(copy, frame, len);
  q->len[at] = (uint32_t)len;
  return 0;
}

/** Send what waits in q, oldest first, until the receiver takes no more; -1 (and q emptied) when it is gone. */
static int queue_flush(struct queue *q, int fd, const struct sockaddr_un *to) {
  while (q->count) {
    if (send_one(fd, to, q->frame[q->head], q->len[q->head]) < 0) {
      if (errno == EAGAIN) return 0;
      queue_drop_all(q);
      return -1;
    }
    free(q->frame[q->head]);
    q->head = (q->head + 1) % QUEUE_FRAMES;
    q->count--;
  }
  return 0;
}

static void to_uml(struct iface *f, const unsigned char *frame, size_t len) {
  if (!f->uml_known) return;
  pcap_frame(frame, len);
  if (stream_guests) {
    write_frame(f->guest.fd, frame, len);
    return;
  }
  send_queued(&f->to_uml, f->data, NULL, frame, len);
}

/** A frame for a peer plug we do not know (broadcasts, unknown destinations): it is lost if it has no room. */
static void send_peer(struct iface *f, const struct sockaddr_un *to, const unsigned char *frame, size_t len) {
  if (send_one(f->lan, to, frame, len) < 0 && errno == ECONNREFUSED) unlink(to->sun_path); // died uncleaned
}

static void forget_peer(struct peer *p) {
  queue_drop_all(&p->q);
  if (p->watch >= 0) close(p->watch), p->watch = -1;
  p->addr.sun_family = 0;
}

/** A unicast frame for a known peer plug; 0, or -1 when its socket is gone. */
static int send_known_peer(struct iface *f, struct peer *p, const unsigned char *frame, size_t len) {
  if (send_queued(&p->q, f->lan, &p->addr, frame, len) < 0) {
    if (errno == ECONNREFUSED) unlink(p->addr.sun_path);
    return -1;
  }
  if (p->q.count && p->watch < 0) {
    p->watch = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (p->watch >= 0 && connect(p->watch, (struct sockaddr *)&p->addr, sizeof p->addr) < 0)
      close(p->watch), p->watch = -1;
    if (p->watch < 0) queue_drop_all(&p->q); // nothing would say when to send them
  }
  return 0;
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
        if (send_known_peer(f, p, frame, len) == 0) return;
        forget_peer(p); // gone: flood
        break;
      }
    }
  }
  flood(f, frame, len);
}

static void learn(struct iface *f, const unsigned char *src, const struct sockaddr_un *from) {
  if (src[0] & 1) return;
  for (int i = 0; i < FDB_SIZE; i++) {
    struct peer *p = &f->fdb[i];
    if (p->addr.sun_family && !memcmp(p->mac, src, 6)) {
      if (memcmp(&p->addr, from, sizeof *from)) forget_peer(p), p->addr = *from; // it moved
      return;
    }
  }
  struct peer *p = &f->fdb[f->fdb_next++ % FDB_SIZE];
  forget_peer(p);
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

static void to_nat(struct iface *f, const unsigned char *frame, size_t len) { write_frame(f->nat.fd, frame, len); }

/** A frame the guest sent on interface f. */
static void from_guest(struct iface *f, const unsigned char *frame, size_t len) {
  if (len < 14) return;
  pcap_frame(frame, len);
  if (f->user) to_nat(f, frame, len);
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
  // connected to the guest's socket, the data socket takes frames from it alone, and without the queue limit
  // (the kernel skips it for a receiver connected to its sender: the guest's send buffer is the limit), and
  // POLLOUT on it says when the guest's socket has room again
  queue_drop_all(&f->to_uml);
  f->uml_known = connect(f->data, (struct sockaddr *)&f->uml, sizeof f->uml) == 0;
}

static void forget_uml(struct iface *f) {
  f->uml_known = 0;
  queue_drop_all(&f->to_uml);
  if (!stream_guests) connect(f->data, &(struct sockaddr){.sa_family = AF_UNSPEC}, sizeof(struct sockaddr));
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
  for (int i = 0; i < FDB_SIZE; i++) f->fdb[i].watch = -1;
  f->ctl_listen = listen_at(f->ctl_path);
  // our datagram address, given to UML: abstract, full length (UML sends to all of struct sockaddr_un)
  f->data = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  f->data_addr.sun_family = AF_UNIX;
  snprintf(f->data_addr.sun_path + 1, sizeof f->data_addr.sun_path - 1, "kwb-net-plug/%d/%d", getpid(), index);
  if (bind(f->data, (struct sockaddr *)&f->data_addr, sizeof f->data_addr) < 0) die("cannot bind", "data socket");
  if (f->user) {
    struct sockaddr_un a = unix_addr(target);
    f->nat.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (connect(f->nat.fd, (struct sockaddr *)&a, sizeof a) < 0) die("cannot connect to the NAT at", target);
    // room for a burst while the NAT is not scheduled (up to net.core.wmem_max): the plug waits for it when this is
    // full, and meanwhile the guest's frames pile up in its own send buffer, which holds fewer
    int buf = 4 << 20;
    setsockopt(f->nat.fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
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
    struct pollfd p[1 + (5 + FDB_SIZE) * MAX_IF];
    struct iface *owner[1 + (5 + FDB_SIZE) * MAX_IF];
    struct peer *peer[1 + (5 + FDB_SIZE) * MAX_IF];
    int role[1 + (5 + FDB_SIZE) * MAX_IF], n = 0;
    p[n] = (struct pollfd){0, POLLIN, 0}, owner[n] = NULL, role[n++] = 0;
    for (int i = 0; i < n_if; i++) {
      struct iface *f = &ifs[i];
      p[n] = (struct pollfd){f->ctl_listen, POLLIN, 0}, owner[n] = f, role[n++] = 1;
      if (f->ctl >= 0) p[n] = (struct pollfd){f->ctl, POLLIN, 0}, owner[n] = f, role[n++] = 2;
      if (f->guest.fd >= 0) p[n] = (struct pollfd){f->guest.fd, POLLIN, 0}, owner[n] = f, role[n++] = 5;
      p[n] = (struct pollfd){f->data, POLLIN | (f->to_uml.count ? POLLOUT : 0), 0}, owner[n] = f, role[n++] = 3;
      // the guest's side is backed up: leave the frames for it where they are (their senders wait or slow down)
      if (f->to_uml.count < QUEUE_FRAMES / 2)
        p[n] = (struct pollfd){f->user ? f->nat.fd : f->lan, POLLIN, 0}, owner[n] = f, role[n++] = 4;
      for (int j = 0; j < FDB_SIZE && !f->user; j++)
        if (f->fdb[j].q.count) p[n] = (struct pollfd){f->fdb[j].watch, POLLOUT, 0}, owner[n] = f, peer[n] = &f->fdb[j], role[n++] = 6;
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
        if (read(f->ctl, b, sizeof b) <= 0) close(f->ctl), f->ctl = -1, forget_uml(f);
      } else if (role[k] == 3) {
        if (p[k].revents & POLLOUT) queue_flush(&f->to_uml, f->data, NULL);
        // take all the guest sent: what its socket's send buffer does not hold, UML drops
        for (;;) {
          struct sockaddr_un from;
          socklen_t fl = sizeof from;
          ssize_t len = recvfrom(f->data, frame, sizeof frame, MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
          if (len < 0) break;
          // only the guest that registered may send on its interface (abstract names cannot be taken over)
          if (!f->uml_known || fl != sizeof f->uml || memcmp(&from, &f->uml, fl)) continue;
          from_guest(f, frame, (size_t)len);
        }
      } else if (role[k] == 6) {
        if (queue_flush(&peer[k]->q, f->lan, &peer[k]->addr) < 0) forget_peer(peer[k]);
      } else if (role[k] == 5) {
        if (read_frames(&f->guest, f, from_guest, "the guest") < 0) close(f->guest.fd), f->guest.fd = -1, forget_uml(f);
      } else if (f->user) {
        if (read_frames(&f->nat, f, to_uml, "the NAT") < 0) {
          fprintf(stderr, "the NAT closed its socket\n");
          stopping = 1; // it served this guest alone; the guest has no network left
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
