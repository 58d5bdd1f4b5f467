/*
 * scavenge.c -- returning free heap pages to the OS (the mechanism half of
 * Go's mgcscavenge.go; the policy half, goals and pacing, is
 * gc/scavenger.c).
 *
 * A step takes the highest run of free, backed pages (at most
 * SCAV_STEP_PAGES, within one chunk) out of the page allocator under the
 * heap lock, drops the lock, releases the run with sys_unused
 * (MADV_DONTNEED), and retakes the lock to free the run as released.  So
 * the heap lock is held for a few bitmap updates, never over the system
 * call, and allocation goes on meanwhile (just not in that run).  Released
 * pages read as zero: a span made only of them needs no clearing.
 *
 * Which pages: the page allocator finds free backed pages from the top
 * (highest address first, whatever order the arenas came in) and
 * allocation is first fit
 * from the bottom, so the pages given back are those the allocator would
 * reach last, and a growing heap uses the backed pages below before it
 * touches released ones -- each released page costs a fault and a zeroed
 * page from the kernel when reused (bench/memlimit measures it).
 *
 * Synchronous scavenging (Go's allocSpan): when a span takes released
 * pages while memory_total is over the memory limit, the allocating
 * thread releases the excess itself, unless the GC CPU limiter is on (the
 * heap may then overshoot, as the limit is soft).
 *
 * Invariants: released_bytes only grows; heap_memory_total() =
 * sum of memstats - page_alloc_released_pages() * PAGE_SIZE.
 * Locking: scav_lock (rank LOCK_RANK_SCAVENGE, above the mcentral locks,
 * below the heap lock) is held over one step, so that fork() (which takes
 * every lock) never copies a run taken out of the allocator and not yet
 * given back.  The counters are atomics.  docs/design.md "Returning memory
 * to the OS".
 */
#include "scavenge.h"

#include "../base/lock.h"
#include "../sys/sys.h"
#include "page_alloc.h"
#include "page_heap.h"

heap_scav_state heap_scav;
static lock_t scav_lock = LOCK_INIT(LOCK_RANK_SCAVENGE);

void scavenge_init(void)
{
    lock_register(&scav_lock);
    atomic_store(&heap_scav.limit, 0);
    atomic_store(&heap_scav.cpu_limited, 0);
    atomic_store(&heap_scav.released_bytes, 0);
    atomic_store(&heap_scav.sync_bytes, 0);
    atomic_store(&heap_scav.sync_ns, 0);
}

size_t scavenge_release(size_t max_bytes)
{
    size_t want = (max_bytes >> PAGE_SHIFT) + ((max_bytes & (PAGE_SIZE - 1)) != 0), done = 0;
    while (done < want) {
        size_t step = want - done < SCAV_STEP_PAGES ? want - done : SCAV_STEP_PAGES;
        uintptr_t base = 0;
        lock_acquire(&scav_lock);
        lock_acquire(&heap.lock);
        size_t n = page_alloc_scav_take(step, &base);
        lock_release(&heap.lock);
        if (n > 0) {
            sys_unused((void *)base, n << PAGE_SHIFT);
            lock_acquire(&heap.lock);
            page_alloc_scav_done(base, n);
            lock_release(&heap.lock);
        }
        lock_release(&scav_lock);
        if (n == 0)
            break;
        done += n;
        atomic_fetch_add_explicit(&heap_scav.released_bytes, (uint64_t)n << PAGE_SHIFT, memory_order_relaxed);
    }
    return done << PAGE_SHIFT;
}

uint64_t heap_memory_total(void)
{
    uint64_t sys = memstat_get(MEMSTAT_HEAP) + memstat_get(MEMSTAT_GC) + memstat_get(MEMSTAT_OTHER);
    uint64_t released = page_alloc_released_pages() << PAGE_SHIFT;
    return sys > released ? sys - released : 0;
}

uint64_t heap_retained(void)
{
    uint64_t sys = memstat_get(MEMSTAT_HEAP);
    uint64_t released = page_alloc_released_pages() << PAGE_SHIFT;
    return sys > released ? sys - released : 0;
}

void scavenge_on_alloc(size_t scav_pages)
{
    int64_t limit = atomic_load_explicit(&heap_scav.limit, memory_order_relaxed);
    if (limit <= 0 || atomic_load_explicit(&heap_scav.cpu_limited, memory_order_relaxed))
        return;
    uint64_t total = heap_memory_total();
    if (total <= (uint64_t)limit)
        return;
    uint64_t excess = total - (uint64_t)limit;
    uint64_t bound = (uint64_t)scav_pages << PAGE_SHIFT;
    if (bound < SCAV_SYNC_MIN_BYTES)
        bound = SCAV_SYNC_MIN_BYTES;
    uint64_t t0 = sys_nanotime();
    size_t got = scavenge_release(excess < bound ? excess : bound);
    atomic_fetch_add_explicit(&heap_scav.sync_ns, sys_nanotime() - t0, memory_order_relaxed);
    atomic_fetch_add_explicit(&heap_scav.sync_bytes, got, memory_order_relaxed);
}
