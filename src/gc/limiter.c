/*
 * limiter.c -- the GC CPU limiter (Go 1.19's gcCPULimiter, design 48409).
 *
 * Why: with a memory limit the heap goal can fall to the live heap (or the
 * live heap can exceed the limit), and the pacer then collects back to
 * back with every allocation paying in assists: the program would stall
 * rather than run over a soft limit.  The limiter caps what the GC may
 * take: while it is on, mark assists are skipped, an allocation past the
 * goal does not wait for the next cycle, and allocation does not scavenge
 * synchronously (heap/scavenge.c); the heap overshoots the limit instead.
 *
 * How: a leaky bucket of capacity nprocs x limiter_capacity_per_cpu_ns
 * (Go's one CPU-second per CPU).  Each update accounts the window since the
 * last one: GC time (what mutators spent assisting, waiting for the
 * collector or scavenging, the CPU time of the background workers -- the
 * controller thread and any dedicated workers, measured rather than
 * modelled as Go's 25%, so that a process confined to fewer CPUs than the
 * machine has is judged by what it really runs -- plus nprocs x every
 * stop-the-world) fills the bucket, mutator time (the process's CPU time
 * less that GC time, so idle CPUs count for neither side, as in Go 1.20)
 * drains it.  The bucket never goes below empty, so idle time earns no
 * credit; it is limiting while full.  GC time and mutator time count the
 * same, so the GC gets at most about 50% of the CPU the program uses,
 * over a window of about twice the capacity.
 *
 * Only with a memory limit: without one the heap goal grows with the live
 * heap and the pacer alone bounds the GC's share, so the limiter only
 * keeps its inputs current (limiter_rebase) and never limits; tricolor's
 * tests of bounded heaps on one CPU rely on assists never being skipped
 * there.  (Go runs its limiter always; it was built for the limit.)
 *
 * Updates: at each stop-the-world of a cycle (limiter_cycle_stw, the world
 * stopped), and every LIMITER_PERIOD_NS while marking from the background
 * worker and assists (limiter_tick).  limited_ns, the wall time spent
 * limiting, is reported as tc_stats.limiter_ns.
 *
 * Invariants: 0 <= fill <= capacity; enabled == (fill == capacity) after
 * every accumulation; limited_ns only grows.
 * Locking: `busy` is a try-lock: a periodic update that finds it taken is
 * dropped (the next one covers its window); a stop-the-world update waits
 * for it.  Mutators hold it only with preemption off, so the world is
 * never stopped while a mutator holds it.  docs/design.md "The memory
 * limit".
 */
#include "limiter.h"

#include <sched.h>

#include "../heap/scavenge.h"
#include "../sys/sys.h"
#include "gc.h"

limiter gc_limiter;
uint64_t limiter_capacity_per_cpu_ns = LIMITER_CAPACITY_PER_CPU_NS;

static bool try_lock(limiter *l)
{
    int expected = 0;
    return atomic_compare_exchange_strong_explicit(&l->busy, &expected, 1, memory_order_acquire,
                                                   memory_order_relaxed);
}

static void unlock(limiter *l)
{
    atomic_store_explicit(&l->busy, 0, memory_order_release);
}

static void set_enabled(limiter *l, bool on, uint64_t now)
{
    bool was = atomic_load_explicit(&l->enabled, memory_order_relaxed) != 0;
    if (on == was)
        return;
    if (on) {
        atomic_store_explicit(&l->enabled_since, now, memory_order_relaxed);
    } else {
        uint64_t since = atomic_load_explicit(&l->enabled_since, memory_order_relaxed);
        if (now > since)
            atomic_fetch_add_explicit(&l->limited_ns, now - since, memory_order_relaxed);
    }
    atomic_store_explicit(&l->enabled, on, memory_order_relaxed);
}

/* GC time in, mutator time out.  Under busy. */
static void accumulate(limiter *l, uint64_t mutator, uint64_t gc, uint64_t now)
{
    if (gc > mutator) {
        uint64_t change = gc - mutator, room = l->capacity - l->fill;
        if (change >= room) {
            l->overflow += change - room;
            l->fill = l->capacity;
            set_enabled(l, true, now);
            return;
        }
        l->fill += change;
    } else if (mutator > gc) {
        uint64_t change = mutator - gc;
        l->fill = l->fill > change ? l->fill - change : 0;
    } else {
        return;
    }
    set_enabled(l, false, now);
}

void limiter_reset(limiter *l, int nprocs, double bg_cpus, uint64_t capacity_per_cpu, uint64_t now,
                   uint64_t gc_total, uint64_t cpu_total)
{
    atomic_store(&l->busy, 0);
    atomic_store(&l->enabled, 0);
    l->nprocs = nprocs > 0 ? nprocs : 1;
    l->bg_cpus = bg_cpus;
    l->capacity = (uint64_t)l->nprocs * capacity_per_cpu;
    l->fill = 0;
    l->overflow = 0;
    l->gc_active = false;
    l->last_gc = gc_total;
    l->last_cpu = cpu_total;
    atomic_store(&l->last_update, now);
    atomic_store(&l->enabled_since, 0);
    atomic_store(&l->limited_ns, 0);
}

/* The window [last_update, until) plus `extra_gc`, with the inputs read
 * at its end.  Under busy. */
static void account(limiter *l, uint64_t until, uint64_t extra_gc, uint64_t now, uint64_t gc_total,
                    uint64_t cpu_total)
{
    uint64_t last = atomic_load_explicit(&l->last_update, memory_order_relaxed);
    uint64_t window = until > last ? until - last : 0;
    uint64_t dgc = gc_total > l->last_gc ? gc_total - l->last_gc : 0;
    uint64_t dcpu = cpu_total > l->last_cpu ? cpu_total - l->last_cpu : 0;
    uint64_t gc = dgc + (l->gc_active ? (uint64_t)(l->bg_cpus * (double)window) : 0);
    uint64_t mutator = dcpu > gc ? dcpu - gc : 0;
    accumulate(l, mutator, gc + extra_gc, now);
    /* Inputs that went backwards (a new controller thread after fork, a
     * racing reader) counted as nothing and are the new base. */
    l->last_gc = gc_total;
    l->last_cpu = cpu_total;
    if (now > last)
        atomic_store_explicit(&l->last_update, now, memory_order_relaxed);
}

bool limiter_update(limiter *l, uint64_t now, uint64_t gc_total, uint64_t cpu_total)
{
    if (!try_lock(l))
        return false;
    account(l, now, 0, now, gc_total, cpu_total);
    unlock(l);
    return true;
}

static void rebase_locked(limiter *l, uint64_t now, uint64_t gc_total, uint64_t cpu_total)
{
    l->fill = 0;
    set_enabled(l, false, now);
    l->last_gc = gc_total;
    l->last_cpu = cpu_total;
    atomic_store_explicit(&l->last_update, now, memory_order_relaxed);
}

bool limiter_rebase(limiter *l, uint64_t now, uint64_t gc_total, uint64_t cpu_total)
{
    if (!try_lock(l))
        return false;
    rebase_locked(l, now, gc_total, cpu_total);
    unlock(l);
    return true;
}

void limiter_stw(limiter *l, uint64_t stw_start, uint64_t now, uint64_t gc_total, uint64_t cpu_total,
                 bool gc_active_after)
{
    while (!try_lock(l))
        sched_yield(); /* an unattached updater: it finishes without us */
    uint64_t pause = now > stw_start ? now - stw_start : 0;
    account(l, stw_start, pause * (uint64_t)l->nprocs, now, gc_total, cpu_total);
    l->gc_active = gc_active_after;
    unlock(l);
}

uint64_t limiter_limited_ns(const limiter *l, uint64_t now)
{
    uint64_t total = atomic_load_explicit(&l->limited_ns, memory_order_relaxed);
    if (limiter_limiting(l)) {
        uint64_t since = atomic_load_explicit(&l->enabled_since, memory_order_relaxed);
        if (now > since)
            total += now - since;
    }
    return total;
}

/* ---- The collector's limiter ------------------------------------------------ */

/* The controller's CPU time, read by itself (limiter_tick(true) and the
 * stop-the-world updates) and kept for the assists' updates.  relaxed. */
static _Atomic uint64_t controller_cpu_ns;

static uint64_t gc_time_total(void)
{
    return gc_mutator_gc_ns() + atomic_load_explicit(&heap_scav.sync_ns, memory_order_relaxed) +
           gc_workers_cpu_ns() + atomic_load_explicit(&controller_cpu_ns, memory_order_relaxed);
}

static bool limit_set(void)
{
    return atomic_load_explicit(&heap_scav.limit, memory_order_relaxed) > 0;
}

static void publish(void)
{
    atomic_store_explicit(&heap_scav.cpu_limited, limiter_on(), memory_order_relaxed);
}

void limiter_init(void)
{
    atomic_store(&controller_cpu_ns, 0); /* a new controller thread */
    limiter_reset(&gc_limiter, sys_ncpu(), 0.0, limiter_capacity_per_cpu_ns, sys_nanotime(), gc_time_total(),
                  sys_process_cputime());
    publish();
}

void limiter_tick(bool background)
{
    uint64_t now = sys_nanotime();
    if (now < atomic_load_explicit(&gc_limiter.last_update, memory_order_relaxed) + LIMITER_PERIOD_NS)
        return;
    if (background)
        atomic_store_explicit(&controller_cpu_ns, sys_thread_cputime(), memory_order_relaxed);
    bool done = limit_set() ? limiter_update(&gc_limiter, now, gc_time_total(), sys_process_cputime())
                            : limiter_rebase(&gc_limiter, now, gc_time_total(), sys_process_cputime());
    if (done)
        publish();
}

void limiter_cycle_stw(uint64_t stw_start, uint64_t now, bool gc_active_after)
{
    atomic_store_explicit(&controller_cpu_ns, sys_thread_cputime(), memory_order_relaxed);
    if (limit_set()) {
        limiter_stw(&gc_limiter, stw_start, now, gc_time_total(), sys_process_cputime(), gc_active_after);
    } else {
        while (!try_lock(&gc_limiter))
            sched_yield();
        rebase_locked(&gc_limiter, now, gc_time_total(), sys_process_cputime());
        gc_limiter.gc_active = gc_active_after;
        unlock(&gc_limiter);
    }
    publish();
}
