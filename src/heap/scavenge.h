/*
 * scavenge.h -- returning free heap pages to the OS: the mechanism, and
 * synchronous scavenging on allocation over the memory limit.  See
 * scavenge.c; the background scavenger that decides how much and when is
 * gc/scavenger.c.
 */
#ifndef TC_HEAP_SCAVENGE_H
#define TC_HEAP_SCAVENGE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define SCAV_STEP_PAGES 64              /* pages per step: 512 KiB, some 30 us of madvise */
#define SCAV_SYNC_MIN_BYTES (4u << 20)  /* an allocation over the limit releases at least this */

typedef struct heap_scav_state {
    /* The memory limit as the allocator sees it, bytes; 0: none.  Written
     * by gc/memlimit.c; atomic, relaxed. */
    _Atomic int64_t limit;
    /* Nonzero while the GC CPU limiter limits (gc/limiter.c writes it):
     * allocation then does not scavenge.  atomic, relaxed. */
    _Atomic int cpu_limited;
    /* Cumulative since tc_init; atomic, relaxed: */
    _Atomic uint64_t released_bytes;    /* given back to the OS (tc_stats.released_total) */
    _Atomic uint64_t sync_bytes;        /* of which by allocating threads over the limit */
    _Atomic uint64_t sync_ns;           /* time allocating threads spent releasing */
} heap_scav_state;

extern heap_scav_state heap_scav;

void scavenge_init(void);   /* tc_init: counters from zero, no limit */

/* Releases up to max_bytes (rounded up to pages) of free, backed pages,
 * highest addresses first, in steps of at most SCAV_STEP_PAGES; the heap
 * lock is not held over the system calls.  Returns the bytes released
 * (less when fewer free backed pages exist).  Takes scav_lock and the heap
 * lock: call with neither held. */
size_t scavenge_release(size_t max_bytes);

/* What the memory limit is compared with (tc_stats.memory_total): every
 * byte obtained from the OS and counted in a memstat, less the heap pages
 * given back.  Lock-free, a racy but never torn snapshot. */
uint64_t heap_memory_total(void);

/* Heap memory retained from the OS: heap_sys less the released pages
 * (Go's heapRetained: in-use plus free backed pages).  Lock-free. */
uint64_t heap_retained(void);

/* heap_alloc_span, after it took scav_pages released pages, without the
 * heap lock: over the memory limit (and unless the CPU limiter is on),
 * releases the excess, at least as much as was just taken and at least
 * SCAV_SYNC_MIN_BYTES (Go's allocation-time scavenging). */
void scavenge_on_alloc(size_t scav_pages);

#endif
