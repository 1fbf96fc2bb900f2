/*
 * kwb's xstate shim, preloaded into UML kernels that need it.
 *
 * UML kernels before the upstream fix hand PTRACE_SETREGSET(NT_X86_XSTATE) a fixed 2696-byte buffer. Hosts with
 * AMX (or any xstate larger than that) demand the full XSAVE size, so the very first context switch fails with
 * "ptrace set fp regs failed, errno = 14" and init dies. This shim widens the buffer: GETREGSET reads the full state
 * and returns the prefix UML asked for; SETREGSET pads UML's prefix to the full size, marking the components UML
 * could not see as being in their initial state (UML's guest processes never enable them).
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/uio.h>

#define NT_X86_XSTATE 0x202
#define XSTATE_BV_OFFSET 512
#define MAX_XSTATE (64 * 1024)

typedef long (*ptrace_fn)(int, pid_t, void *, void *);

static ptrace_fn real_ptrace;
static size_t host_size; /* the host's full XSAVE size, learned from the first GETREGSET */
static unsigned char scratch[MAX_XSTATE];

/* Components (bits of XSTATE_BV) that lie entirely within the first `len` bytes of the standard format.
   CPUID traps to the hypervisor in a VM, so the answer is computed once per length. */
static uint64_t components_within(size_t len)
{
    static size_t cached_len;
    static uint64_t cached_mask;
    if (len == cached_len)
        return cached_mask;
    uint64_t mask = 3; /* x87 and SSE live in the legacy area */
    for (unsigned i = 2; i < 63; i++) {
        unsigned size, offset, ecx, edx;
        __cpuid_count(0xd, i, size, offset, ecx, edx);
        if (size && offset + size <= len)
            mask |= 1ULL << i;
    }
    cached_len = len;
    cached_mask = mask;
    return mask;
}

long ptrace(enum __ptrace_request request, ...)
{
    va_list ap;
    va_start(ap, request);
    pid_t pid = va_arg(ap, pid_t);
    void *addr = va_arg(ap, void *);
    void *data = va_arg(ap, void *);
    va_end(ap);
    if (!real_ptrace)
        real_ptrace = (ptrace_fn)dlsym(RTLD_NEXT, "ptrace");

    struct iovec *iov = data;
    int xstate = (request == PTRACE_GETREGSET || request == PTRACE_SETREGSET) && (long)addr == NT_X86_XSTATE;
    if (!xstate || !iov || iov->iov_len >= MAX_XSTATE || (host_size && iov->iov_len >= host_size))
        return real_ptrace(request, pid, addr, data);

    struct iovec full = { scratch, MAX_XSTATE };
    if (request == PTRACE_GETREGSET) {
        long r = real_ptrace(request, pid, addr, &full);
        if (r < 0)
            return r;
        host_size = full.iov_len;
        size_t n = iov->iov_len < full.iov_len ? iov->iov_len : full.iov_len;
        memcpy(iov->iov_base, scratch, n);
        iov->iov_len = n;
        return r;
    }
    if (!host_size) {
        long r = real_ptrace(PTRACE_GETREGSET, pid, addr, &full);
        if (r < 0)
            return r;
        host_size = full.iov_len;
    }
    memset(scratch, 0, host_size);
    memcpy(scratch, iov->iov_base, iov->iov_len);
    uint64_t bv;
    memcpy(&bv, scratch + XSTATE_BV_OFFSET, sizeof bv);
    bv &= components_within(iov->iov_len);
    memcpy(scratch + XSTATE_BV_OFFSET, &bv, sizeof bv);
    full.iov_len = host_size;
    return real_ptrace(request, pid, addr, &full);
}
