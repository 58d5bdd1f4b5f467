/*
 * memlimit.c -- the soft memory limit (Go 1.19's GOMEMLIMIT, design 48409).
 *
 * What is limited: memory_total = everything tricolor obtained from the OS
 * and still holds -- heap arenas, GC metadata, other runtime records (the
 * three memstats) -- less the heap pages given back (heap/scavenge.c).  Set
 * by tc_options.memory_limit, TRICOLOR=memlimit=SIZE or
 * tc_set_memory_limit; 0 means none.  Three mechanisms keep memory_total
 * under it:
 *
 *  - the pacer (pacer.c) collects sooner, whatever gc_percent says, at a
 *    heap goal computed from the limit (pacer_limit_goal).  Its inputs are
 *    gathered here: memory_total, the free backed heap pages, and heap_alloc
 *    = heap_live plus the garbage the last cycle found and its sweep has not
 *    freed yet (Go's totalAlloc - totalFree: without the unswept garbage the
 *    goal would collapse at every commit, while the dead objects still hold
 *    their pages).  All three are lock-free reads.  The goal moves as the
 *    program runs: allocation into free slots of partly used spans raises
 *    heap_alloc but not memory_total, so it raises the goal as much (free
 *    slots are not room the goal can count on, but once used they cost
 *    nothing); sweeping turns unswept garbage into free slots and pages.
 *    So, as Go evaluates its goal at every trigger test, the goal is
 *    recomputed whenever heap_live reaches the trigger
 *    (memlimit_should_start), every LIMITER_PERIOD_NS while marking (for
 *    the assist ratio), at each commit, after each sweep, by the background
 *    scavenger every MEMLIMIT_REFRESH_NS, and when the limit changes;
 *  - the scavenger returns free pages: in the background down to 95% of
 *    the limit (gc/scavenger.c), synchronously on allocation over it
 *    (heap/scavenge.c), and here at the end of each cycle;
 *  - past the goal while a cycle marks, an allocating thread waits for
 *    marking to end (memlimit_over_goal, gc.c): assists pay in scan work,
 *    and a heap of pointer-free objects offers too little of it to hold
 *    back a fast allocator -- the heap would run through the headroom;
 *  - the CPU limiter (limiter.c) bounds what collecting harder may cost:
 *    while it limits there are no assists and no waiting.
 *
 * The limit is soft: when the live heap and the metadata alone exceed it,
 * the collector runs back to back at the CPU limiter's share, allocation
 * goes on, and every cycle that ends with memory_total above the limit is
 * counted (tc_stats.limit_exceeded_cycles).
 *
 * Locking: the limit is heap_scav.limit (atomic); garbage accounting is
 * written by the controller with the world stopped and read with relaxed
 * atomics; refreshes read their inputs without locks and write the pacer
 * under pacer_lock.
 * docs/design.md "The memory limit".
 */
#include "memlimit.h"

#include "../base/options.h"
#include "../heap/page_heap.h"
#include "../heap/scavenge.h"
#include "../sys/sys.h"
#include "gc.h"
#include "limiter.h"
#include "pacer.h"
#include "scavenger.h"
#include "sweep.h"

static struct {
    _Atomic uint64_t garbage;          /* bytes the last commit found dead, to be freed by its sweep */
    _Atomic uint64_t freed_at_commit;  /* sweep_freed_bytes at that commit */
    _Atomic uint32_t exceeded_cycles;  /* cycles that ended over the limit */
    _Atomic uint64_t last_refresh;     /* monotonic ns */
} ml;

void memlimit_init(void)
{
    lock_register(&pacer_lock);
    atomic_store(&ml.garbage, 0);
    atomic_store(&ml.freed_at_commit, 0);
    atomic_store(&ml.exceeded_cycles, 0);
    atomic_store(&ml.last_refresh, 0);
    atomic_store(&heap_scav.limit, options.memory_limit);
    memlimit_refresh();
}

/* Objects allocated and not yet freed by sweeping. */
static uint64_t heap_alloc_estimate(void)
{
    int64_t live = atomic_load_explicit(&heap_live, memory_order_relaxed);
    uint64_t garbage = atomic_load_explicit(&ml.garbage, memory_order_relaxed);
    uint64_t freed = atomic_load_explicit(&sweep_freed_bytes, memory_order_relaxed) -
                     atomic_load_explicit(&ml.freed_at_commit, memory_order_relaxed);
    uint64_t unswept = garbage > freed ? garbage - freed : 0;
    return (live > 0 ? (uint64_t)live : 0) + unswept;
}

void memlimit_refresh(void)
{
    uint64_t limit = (uint64_t)atomic_load_explicit(&heap_scav.limit, memory_order_relaxed);
    uint64_t total = 0, heap_free = 0, alloc = 0;
    if (limit != 0) {
        /* Free backed pages: retained heap memory outside in-use spans. */
        uint64_t retained = heap_retained();
        uint64_t spans = atomic_load_explicit(&heap.span_pages, memory_order_relaxed) << PAGE_SHIFT;
        heap_free = retained > spans ? retained - spans : 0;
        total = heap_memory_total();
        alloc = heap_alloc_estimate();
    }
    lock_acquire(&pacer_lock);
    uint64_t goal = pacer_limit_goal(&pacer_state, limit, total, heap_free, alloc);
    if (goal != pacer_state.limit_goal)
        pacer_set_limit_goal(&pacer_state, goal);
    lock_release(&pacer_lock);
    atomic_store_explicit(&ml.last_refresh, sys_nanotime(), memory_order_relaxed);
}

bool memlimit_should_start(int64_t live)
{
    if (!pacer_should_start(&pacer_state, live))
        return false;
    if (atomic_load_explicit(&heap_scav.limit, memory_order_relaxed) <= 0)
        return true;
    memlimit_refresh(); /* the goal may have moved since it was computed */
    return pacer_should_start(&pacer_state, live);
}

bool memlimit_over_goal(int64_t live)
{
    return live > 0 && atomic_load_explicit(&heap_scav.limit, memory_order_relaxed) > 0 &&
           (uint64_t)live > atomic_load_explicit(&pacer_state.goal, memory_order_relaxed) && !limiter_on();
}

void memlimit_tick(void)
{
    if (atomic_load_explicit(&heap_scav.limit, memory_order_relaxed) > 0 &&
        sys_nanotime() >= atomic_load_explicit(&ml.last_refresh, memory_order_relaxed) + LIMITER_PERIOD_NS)
        memlimit_refresh();
}

void memlimit_commit_stw(uint64_t live_end, uint64_t marked)
{
    atomic_store_explicit(&ml.garbage, live_end > marked ? live_end - marked : 0, memory_order_relaxed);
    atomic_store_explicit(&ml.freed_at_commit, atomic_load(&sweep_freed_bytes), memory_order_relaxed);
    atomic_store_explicit(&heap.sweep_pending, 1, memory_order_relaxed);
    memlimit_refresh();
}

void memlimit_cycle_end(void)
{
    atomic_store_explicit(&heap.sweep_pending, 0, memory_order_relaxed);
    int64_t limit = atomic_load_explicit(&heap_scav.limit, memory_order_relaxed);
    if (limit <= 0)
        return;
    memlimit_refresh();
    uint64_t total = heap_memory_total();
    if (total > (uint64_t)limit && !limiter_on()) {
        uint64_t t0 = sys_nanotime();
        scavenge_release(total - (uint64_t)limit);
        atomic_fetch_add_explicit(&heap_scav.sync_ns, sys_nanotime() - t0, memory_order_relaxed);
        total = heap_memory_total();
    }
    if (total > (uint64_t)limit)
        atomic_fetch_add_explicit(&ml.exceeded_cycles, 1, memory_order_relaxed);
}

void memlimit_read_stats(tc_stats *st)
{
    int64_t limit = atomic_load_explicit(&heap_scav.limit, memory_order_relaxed);
    st->memory_limit = limit > 0 ? (uint64_t)limit : 0;
    st->memory_total = heap_memory_total();
    st->released_total = atomic_load_explicit(&heap_scav.released_bytes, memory_order_relaxed);
    st->limiter_ns = limiter_limited_ns(&gc_limiter, sys_nanotime());
    st->limit_exceeded_cycles = atomic_load_explicit(&ml.exceeded_cycles, memory_order_relaxed);
}

TC_API int64_t tc_set_memory_limit(int64_t bytes)
{
    if (bytes < 0)
        return atomic_load_explicit(&heap_scav.limit, memory_order_relaxed);
    int64_t old = atomic_exchange_explicit(&heap_scav.limit, bytes, memory_order_relaxed);
    options.memory_limit = bytes;
    memlimit_refresh();
    scavenger_wake();
    gc_on_alloc(NULL, 0); /* a cycle now if the new goal is already reached */
    return old;
}
