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

#include <sys/mman.h>
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

int sys_ncpu(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}
