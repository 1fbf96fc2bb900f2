// Do x86 hardware watchpoints fire on this host? Under nested virtualisation the debug registers can be accepted
// (ptrace sets DR0/DR7 without complaint, gdbserver says "Hardware watchpoint") and yet never trap. This traces a
// child, arms DR0 as a 4-byte write watchpoint on a variable through PTRACE_POKEUSER (as gdbserver does), lets the
// child write it, and looks for the SIGTRAP. Prints "fires" (exit 0) or "silent" (exit 1); exit 2 if it cannot tell.
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int watched;

static int poke_debugreg(pid_t pid, int n, unsigned long value) {
  long off = (long)offsetof(struct user, u_debugreg) + n * (long)sizeof(long);
  return (int)ptrace(PTRACE_POKEUSER, pid, (void *)off, (void *)value);
}

int main(void) {
  pid_t pid = fork();
  if (pid < 0) return 2;
  if (pid == 0) {
    if (ptrace(PTRACE_TRACEME, 0, 0, 0) != 0) _exit(3);
    raise(SIGSTOP);
    watched = 42;
    _exit(0);
  }
  int status;
  if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status)) return 2;
  // DR7: local enable of DR0 (bit 0), R/W0 = 01 (writes, bits 16-17), LEN0 = 11 (4 bytes, bits 18-19)
  unsigned long dr7 = 1UL | (1UL << 16) | (3UL << 18);
  int armed = poke_debugreg(pid, 0, (unsigned long)&watched) == 0 && poke_debugreg(pid, 7, dr7) == 0;
  if (ptrace(PTRACE_CONT, pid, 0, 0) != 0) return 2;
  int fired = 0;
  for (;;) {
    if (waitpid(pid, &status, 0) != pid) return 2;
    if (WIFEXITED(status) || WIFSIGNALED(status)) break;
    if (WIFSTOPPED(status) && WSTOPSIG(status) == SIGTRAP) {
      fired = 1;
      kill(pid, SIGKILL);
      ptrace(PTRACE_CONT, pid, 0, 0);
      continue;
    }
    if (ptrace(PTRACE_CONT, pid, 0, (void *)(long)WSTOPSIG(status)) != 0) return 2;
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 3) return 2;
  puts(armed && fired ? "fires" : "silent");
  return armed && fired ? 0 : 1;
}
