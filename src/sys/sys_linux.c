/*
 * sys_linux.c -- the memory contract of sys.h on Linux (and other systems
 * with mmap, mprotect and madvise).  The only file with OS calls for memory.
 *
 * Reserved memory is a PROT_NONE private anonymous mapping with
 * MAP_NORESERVE, so it costs neither memory nor commit charge; sys_map
 * makes a range read-write with mprotect.  sys_unused uses MADV_DONTNEED:
 * the pages go back to the OS at once and read as zero when touched again,
 * which the page heap relies on to skip zeroing released pages.
 */
#include "sys.h"

#include <errno.h>
#include <link.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "../base/throw.h"

_Atomic uint64_t memstat[MEMSTAT_COUNT];

/* Fault injection: fail_countdown > 0 counts mapping calls down; the call
 * that brings it to zero fails.  atomic, relaxed: tests arm it while no
 * other thread maps. */
static _Atomic long fail_countdown;
static _Atomic int fail_sticky;

void sys_fail_after(long n, int sticky)
{
    atomic_store(&fail_sticky, sticky);
    atomic_store(&fail_countdown, n);
}

static int injected_failure(void)
{
    long n = atomic_load_explicit(&fail_countdown, memory_order_relaxed);
    if (n <= 0)
        return 0;
    if (n == 1) {
        if (!atomic_load(&fail_sticky))
            atomic_store(&fail_countdown, 0);
        return 1;
    }
    atomic_store(&fail_countdown, n - 1);
    return 0;
}

void *sys_alloc(size_t size, memstat_kind stat)
{
    DCHECK(size % SYS_PAGE_SIZE == 0);
    if (injected_failure())
        return NULL;
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    memstat_add(stat, (int64_t)size);
    return p;
}

void sys_free(void *p, size_t size, memstat_kind stat)
{
    if (munmap(p, size) != 0)
        throw_addr("sys_free: munmap failed", p);
    memstat_add(stat, -(int64_t)size);
}

void *sys_reserve(void *hint, size_t size)
{
    if (injected_failure())
        return NULL;
    void *p = mmap(hint, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void sys_release(void *p, size_t size)
{
    if (munmap(p, size) != 0)
        throw_addr("sys_release: munmap failed", p);
}

int sys_map(void *p, size_t size, memstat_kind stat)
{
    if (injected_failure())
        return -1;
    if (mprotect(p, size, PROT_READ | PROT_WRITE) != 0)
        return -1;
    memstat_add(stat, (int64_t)size);
    return 0;
}

void sys_unmap(void *p, size_t size, memstat_kind stat)
{
    /* Drop the contents first so the range costs nothing while Reserved. */
    madvise(p, size, MADV_DONTNEED);
    if (mprotect(p, size, PROT_NONE) != 0)
        throw_addr("sys_unmap: mprotect failed", p);
    memstat_add(stat, -(int64_t)size);
}

void sys_unused(void *p, size_t size)
{
    madvise(p, size, MADV_DONTNEED);
}

void sys_used(void *p, size_t size)
{
    (void)p; /* Linux faults released pages back in on touch */
    (void)size;
}

uint64_t sys_physical_memory(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    return pages > 0 && size > 0 ? (uint64_t)pages * (uint64_t)size : 0;
}

/* Read once, as Go reads ncpu at startup: glibc's sysconf opens and parses
 * /sys/devices/system/cpu/online on every call, and the mark controller
 * asks at every tick. */
int sys_ncpu(void)
{
    static _Atomic int ncpu;
    int n = atomic_load_explicit(&ncpu, memory_order_relaxed);
    if (n == 0) {
        long v = sysconf(_SC_NPROCESSORS_ONLN);
        n = v > 0 ? (int)v : 1;
        atomic_store_explicit(&ncpu, n, memory_order_relaxed);
    }
    return n;
}

uint64_t sys_nanotime(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t sys_walltime(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t sys_thread_cputime(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t sys_process_cputime(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void sys_wait(_Atomic uint32_t *addr, uint32_t val, uint64_t timeout_ns)
{
    struct timespec ts, *tsp = NULL;
    if (timeout_ns != 0) {
        ts.tv_sec = (time_t)(timeout_ns / 1000000000u);
        ts.tv_nsec = (long)(timeout_ns % 1000000000u);
        tsp = &ts;
    }
    int saved = errno;
    syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAIT_PRIVATE, val, tsp, NULL, 0);
    errno = saved;
}

void sys_wake_all(_Atomic uint32_t *addr)
{
    int saved = errno;
    syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL, NULL, 0);
    errno = saved;
}

int sys_thread_stack(uintptr_t *lo, uintptr_t *hi)
{
    pthread_attr_t attr;
    void *addr;
    size_t size;
    if (pthread_getattr_np(pthread_self(), &attr) != 0)
        return -1;
    int rc = pthread_attr_getstack(&attr, &addr, &size);
    pthread_attr_destroy(&attr);
    if (rc != 0)
        return -1;
    *lo = (uintptr_t)addr;
    *hi = (uintptr_t)addr + size;
    return 0;
}

typedef struct tls_found {
    uintptr_t (*ranges)[2];
    size_t max, n;
} tls_found;

static int tls_callback(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    tls_found *f = arg;
    if (info->dlpi_tls_data == NULL)
        return 0; /* no TLS, or not allocated for this thread yet */
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_TLS || ph->p_memsz == 0)
            continue;
        if (f->n < f->max) {
            f->ranges[f->n][0] = (uintptr_t)info->dlpi_tls_data;
            f->ranges[f->n][1] = (uintptr_t)info->dlpi_tls_data + ph->p_memsz;
        }
        f->n++;
    }
    return 0;
}

size_t sys_thread_tls(uintptr_t (*ranges)[2], size_t max)
{
    tls_found f = {ranges, max, 0};
    dl_iterate_phdr(tls_callback, &f);
    return f.n;
}

size_t sys_ucontext_regs(const void *ucontext, uintptr_t *out, size_t max, uintptr_t *sp)
{
    const ucontext_t *uc = ucontext;
    size_t n = NGREG < max ? NGREG : max;
    for (size_t i = 0; i < n; i++)
        out[i] = (uintptr_t)uc->uc_mcontext.gregs[i];
#if defined(__x86_64__)
    *sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP] - 128; /* the red zone */
#elif defined(__aarch64__)
    *sp = (uintptr_t)uc->uc_mcontext.sp;
#else
#error "sys_ucontext_regs: unsupported architecture"
#endif
    return n;
}

uintptr_t sys_ucontext_pc(const void *ucontext)
{
    const ucontext_t *uc = ucontext;
#if defined(__x86_64__)
    return (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
#elif defined(__aarch64__)
    return (uintptr_t)uc->uc_mcontext.pc;
#endif
}

int sys_signal_install(int signo, void (*handler)(int, void *, void *))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = (void (*)(int, siginfo_t *, void *))(void (*)(void))handler;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    return sigaction(signo, &sa, NULL) == 0 ? 0 : -1;
}

int sys_signal_send(pthread_t thread, int signo)
{
    return pthread_kill(thread, signo) == 0 ? 0 : -1;
}
