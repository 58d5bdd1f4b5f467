/*
 * roots.c -- the roots: thread stacks and registers, the program's globals,
 * and the ranges registered with tc_root_add.
 *
 * Stacks, registers and globals are written without a barrier, so they are
 * scanned with the world stopped at the start of each cycle, once: the
 * hybrid barrier (old values shaded) keeps everything reachable from them
 * at that moment alive, and objects allocated later are black, so they are
 * never rescanned.  A thread's stack is scanned conservatively from its
 * saved stack pointer to its base, plus the registers it saved when it
 * stopped and its static thread-local storage where that lies outside the
 * stack (the main thread's __thread variables: thread.c finds the blocks
 * at attach).  Registered roots are barriered and scanned concurrently.
 *
 * Globals are the writable PT_LOAD segments of every loaded object, found
 * with dl_iterate_phdr before the world stops (the loader's lock must not
 * be taken with the world stopped), less the runtime's own data: the
 * build moves the library's .data and .bss into the sections tricolor_data
 * and tricolor_bss (Makefile), and NOGC_DATA variables live in
 * tricolor_nogc.  Runtime metadata is never a root; scanning it would cost
 * every cycle and keep objects alive by coincidence.
 *
 * Locking: roots_lock (rank LOCK_RANK_ROOTS) guards the registered ranges
 * and the globals list; scanning a registered range holds it, so
 * tc_root_remove returns only once the range is no longer being read.  The
 * collector reads the globals list without it while the world is stopped
 * (only the collector writes it).
 */
#include "roots.h"

#include <link.h>
#include <string.h>

#include "../base/lock.h"
#include "../base/throw.h"
#include "../mutator/safepoint.h"
#include "../mutator/thread.h"
#include "../offheap/persistent_alloc.h"
#include "../sys/sys.h"
#include "mark.h"
#include "tricolor.h"

#define MAX_GLOBALS 512

typedef struct range {
    uintptr_t lo, hi;
} range;

static lock_t roots_lock = LOCK_INIT(LOCK_RANK_ROOTS);
static range *registered;           /* under roots_lock */
static size_t nregistered, registered_cap;
static range globals[MAX_GLOBALS];  /* the collector's */
static size_t nglobals;

void roots_init(void)
{
    lock_register(&roots_lock);
    lock_acquire(&roots_lock);
    registered = NULL;
    nregistered = registered_cap = 0;
    lock_release(&roots_lock);
    nglobals = 0;
}

void roots_free_all(void)
{
    roots_init(); /* the array is persistent memory */
}

/* The runtime's own writable data, which is never a root: the
 * address-holding variables marked NOGC_DATA, and every other variable of
 * the library, which the build moves out of .data and .bss (Makefile).
 * The bounds are weak: a section no object has is absent, and its bounds
 * are null. */
#define RUNTIME_SECTION(name)                                                          \
    extern char __start_##name[] __attribute__((weak, visibility("hidden")));          \
    extern char __stop_##name[] __attribute__((weak, visibility("hidden")));
RUNTIME_SECTION(tricolor_nogc)
RUNTIME_SECTION(tricolor_data)
RUNTIME_SECTION(tricolor_bss)

typedef struct addr_range {
    uintptr_t lo, hi;
} addr_range;

typedef struct skip_list {
    addr_range r[3]; /* sorted by address, disjoint */
    int n;
} skip_list;

static void add_global(uintptr_t lo, uintptr_t hi)
{
    if (lo < hi && nglobals < MAX_GLOBALS) {
        globals[nglobals].lo = lo;
        globals[nglobals].hi = hi;
        nglobals++;
    }
}

/* Adds [lo, hi) less the runtime's sections. */
static void add_global_except(uintptr_t lo, uintptr_t hi, const skip_list *skip)
{
    for (int i = 0; i < skip->n && lo < hi; i++) {
        if (skip->r[i].hi <= lo || skip->r[i].lo >= hi)
            continue;
        add_global(lo, skip->r[i].lo);
        lo = skip->r[i].hi;
    }
    add_global(lo, hi);
}

static int phdr_callback(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W))
            continue;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
        add_global_except(lo, hi, arg);
    }
    return 0;
}

void roots_find_globals(void)
{
    const addr_range all[3] = {
        {(uintptr_t)__start_tricolor_nogc, (uintptr_t)__stop_tricolor_nogc},
        {(uintptr_t)__start_tricolor_data, (uintptr_t)__stop_tricolor_data},
        {(uintptr_t)__start_tricolor_bss, (uintptr_t)__stop_tricolor_bss},
    };
    skip_list skip = {.n = 0};
    for (int i = 0; i < 3; i++) {
        if (all[i].lo >= all[i].hi)
            continue;
        int j = skip.n++;
        for (; j > 0 && skip.r[j - 1].lo > all[i].lo; j--) /* insertion, by address */
            skip.r[j] = skip.r[j - 1];
        skip.r[j] = all[i];
    }
    lock_acquire(&roots_lock);
    nglobals = 0;
    dl_iterate_phdr(phdr_callback, &skip);
    lock_release(&roots_lock);
}

size_t roots_scan_stw(gcwork *gw)
{
    size_t bytes = 0;
    for (thread_ctx *t = registry.first; t != NULL; t = t->next) {
        uintptr_t lo = t->saved_sp;
        if (lo < t->stack_lo || lo > t->stack_hi)
            lo = t->stack_lo; /* an sp below the known bounds: scan it all */
        mark_scan_block(lo, t->stack_hi, gw);
        mark_scan_block((uintptr_t)t->regs, (uintptr_t)(t->regs + t->nregs), gw);
        bytes += t->stack_hi - lo;
        for (size_t i = 0; i < t->ntls; i++) {
            mark_scan_block(t->tls[i][0], t->tls[i][1], gw);
            bytes += t->tls[i][1] - t->tls[i][0];
        }
    }
    for (size_t i = 0; i < nglobals; i++) {
        mark_scan_block(globals[i].lo, globals[i].hi, gw);
        bytes += globals[i].hi - globals[i].lo;
    }
    return bytes;
}

size_t roots_scan_registered(gcwork *gw)
{
    size_t bytes = 0;
    lock_acquire(&roots_lock);
    for (size_t i = 0; i < nregistered; i++) {
        mark_scan_block(registered[i].lo, registered[i].hi, gw);
        bytes += registered[i].hi - registered[i].lo;
    }
    lock_release(&roots_lock);
    return bytes;
}

/* Whether p lies in t's stack or its thread-local storage. */
static bool thread_owns(const thread_ctx *t, uintptr_t p)
{
    if (p >= t->stack_lo && p < t->stack_hi)
        return true;
    for (size_t i = 0; i < t->ntls; i++)
        if (p >= t->tls[i][0] && p < t->tls[i][1])
            return true;
    return false;
}

bool roots_contains(uintptr_t p)
{
    thread_ctx *self = tls_thread;
    if (self != NULL && thread_owns(self, p))
        return true;
    bool found = false;
    lock_acquire(&roots_lock);
    for (size_t i = 0; i < nglobals && !found; i++)
        found = p >= globals[i].lo && p < globals[i].hi;
    for (size_t i = 0; i < nregistered && !found; i++)
        found = p >= registered[i].lo && p < registered[i].hi;
    lock_release(&roots_lock);
    if (!found && self != NULL) {
        /* Another attached thread's stack: the registry is read as a
         * blocking thread, since a stop-the-world holds its lock. */
        bool waited = runtime_wait_begin(self);
        lock_acquire(&registry.lock);
        for (thread_ctx *t = registry.first; t != NULL && !found; t = t->next)
            found = thread_owns(t, p);
        lock_release(&registry.lock);
        runtime_wait_end(self, waited);
    }
    return found;
}

void roots_for_each_global(void (*fn)(uintptr_t, uintptr_t, const char *, void *), void *arg)
{
    for (size_t i = 0; i < nglobals; i++)
        fn(globals[i].lo, globals[i].hi, "global data", arg);
    lock_acquire(&roots_lock);
    for (size_t i = 0; i < nregistered; i++)
        fn(registered[i].lo, registered[i].hi, "registered root", arg);
    lock_release(&roots_lock);
}

void roots_for_each_range(void (*fn)(root_range_kind, uintptr_t, uintptr_t, void *), void *arg)
{
    lock_acquire(&roots_lock);
    for (size_t i = 0; i < nglobals; i++)
        fn(ROOT_RANGE_GLOBAL, globals[i].lo, globals[i].hi, arg);
    for (size_t i = 0; i < nregistered; i++)
        fn(ROOT_RANGE_REGISTERED, registered[i].lo, registered[i].hi, arg);
    lock_release(&roots_lock);
}

/* Shades what a range holds when it is registered while marking runs. */
void gc_root_added(uintptr_t lo, uintptr_t hi);

TC_API int tc_root_add(void *start, size_t size)
{
    if (start == NULL || size == 0 || (uintptr_t)start + size < (uintptr_t)start)
        return TC_EINVAL;
    uintptr_t lo = (uintptr_t)start, hi = lo + size;
    lock_acquire(&roots_lock);
    for (size_t i = 0; i < nregistered; i++)
        if (registered[i].lo == lo) {
            lock_release(&roots_lock);
            return TC_EBUSY;
        }
    if (nregistered == registered_cap) {
        size_t cap = registered_cap ? registered_cap * 2 : 64;
        range *n = persistent_alloc(cap * sizeof *n, 8, MEMSTAT_OTHER);
        if (n == NULL) {
            lock_release(&roots_lock);
            return TC_ENOMEM;
        }
        if (nregistered)
            memcpy(n, registered, nregistered * sizeof *n);
        registered = n; /* the old array is persistent memory: left as it is */
        registered_cap = cap;
    }
    registered[nregistered].lo = lo;
    registered[nregistered].hi = hi;
    nregistered++;
    lock_release(&roots_lock);
    gc_root_added(lo, hi);
    return 0;
}

TC_API int tc_root_remove(void *start)
{
    lock_acquire(&roots_lock);
    for (size_t i = 0; i < nregistered; i++) {
        if (registered[i].lo == (uintptr_t)start) {
            registered[i] = registered[--nregistered];
            lock_release(&roots_lock);
            return 0;
        }
    }
    lock_release(&roots_lock);
    return TC_EINVAL;
}
