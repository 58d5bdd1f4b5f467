/*
 * limiter.h -- the GC CPU limiter (Go's mgclimit.go): a leaky bucket that
 * fills with GC time and drains with mutator time.  See limiter.c.
 */
#ifndef TC_GC_LIMITER_H
#define TC_GC_LIMITER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define LIMITER_PERIOD_NS 10000000u     /* the bucket is updated at least this often while marking */
#define LIMITER_CAPACITY_PER_CPU_NS 1000000000u /* Go's: one CPU-second per CPU */

typedef struct limiter {
    _Atomic int busy;               /* the updaters' try-lock: 1 while one updates */
    _Atomic int enabled;            /* the bucket is full: GC work is held back; relaxed */
    /* Under busy: */
    uint64_t fill, capacity;        /* GC ns in the bucket; 0 <= fill <= capacity */
    uint64_t overflow;              /* GC ns that found the bucket full */
    bool gc_active;                 /* a cycle is marking: bg_cpus count */
    double bg_cpus;                 /* modelled background workers while marking (Go's
                                       0.25 x CPUs); 0 when gc_total measures them */
    int nprocs;
    uint64_t last_gc, last_cpu;     /* the cumulative inputs at the last update */
    /* Written under busy, read without it (atomic, relaxed): */
    _Atomic uint64_t last_update;   /* monotonic ns of the last update */
    _Atomic uint64_t enabled_since; /* when `enabled` last became 1 */
    _Atomic uint64_t limited_ns;    /* limiting time of the windows already closed */
} limiter;

/* Pure mechanism, for the collector and the tests.  gc_total: cumulative
 * ns of GC time spent by mutators (assists, waits for the collector,
 * synchronous scavenging); cpu_total: cumulative CPU ns of the whole
 * process.  `now` is monotonic ns. */
void limiter_reset(limiter *l, int nprocs, double bg_cpus, uint64_t capacity_per_cpu, uint64_t now,
                   uint64_t gc_total, uint64_t cpu_total);
/* Accounts the window since the last update; false (and nothing done) if
 * another updater holds the bucket. */
bool limiter_update(limiter *l, uint64_t now, uint64_t gc_total, uint64_t cpu_total);
/* Forgets the window since the last update (it is not accounted), empties
 * the bucket and stops limiting; false if another updater holds it. */
bool limiter_rebase(limiter *l, uint64_t now, uint64_t gc_total, uint64_t cpu_total);
/* A stop-the-world that began at stw_start and ends now: the window before
 * it as limiter_update, the pause as GC time on every CPU; then marking is
 * on or off as gc_active_after says.  Waits for a concurrent updater. */
void limiter_stw(limiter *l, uint64_t stw_start, uint64_t now, uint64_t gc_total, uint64_t cpu_total,
                 bool gc_active_after);
static inline bool limiter_limiting(const limiter *l)
{
    return atomic_load_explicit(&l->enabled, memory_order_relaxed) != 0;
}
/* Total time spent limiting up to now. */
uint64_t limiter_limited_ns(const limiter *l, uint64_t now);

/* The collector's limiter. */
extern limiter gc_limiter;
/* Bucket capacity per CPU for the next tc_init (tests shorten it). */
extern uint64_t limiter_capacity_per_cpu_ns;

void limiter_init(void);                                /* tc_init */
/* An update if LIMITER_PERIOD_NS passed; `background`: the caller is the
 * collector's background worker (its CPU time is then read and kept). */
void limiter_tick(bool background);
/* The controller, right after restarting the world it stopped from
 * stw_start to stw_end: accounts the pause as GC time.  Not called with
 * the world stopped: reading CPU clocks is a system call, and the kernel
 * may hand the CPU to another thread on its way out, stretching the stop
 * by a time slice. */
void limiter_cycle_stw(uint64_t stw_start, uint64_t stw_end, bool gc_active_after);
/* Whether GC work is held back now (only ever with a memory limit). */
static inline bool limiter_on(void) { return limiter_limiting(&gc_limiter); }

#endif
