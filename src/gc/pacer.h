/*
 * pacer.h -- when to start a cycle and how much mutators must help.
 * See pacer.c.
 */
#ifndef TC_GC_PACER_H
#define TC_GC_PACER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "../base/lock.h"

#define PACER_HEAP_MIN (4u << 20)       /* the goal never falls below 4 MiB x gc_percent/100 */
#define PACER_TRIGGER_MIN 0.70          /* trigger bounds, as fractions of the runway */
#define PACER_TRIGGER_MAX 0.95
#define PACER_LIMIT_HEADROOM_PCT 3      /* the memory-limit goal keeps 3% of itself free ... */
#define PACER_LIMIT_HEADROOM_MIN (1u << 20) /* ... and at least 1 MiB */

typedef struct pacer {
    int gc_percent;             /* < 0: no gc_percent goal */
    uint64_t heap_marked;       /* live heap found by the last cycle */
    uint64_t roots_bytes;       /* stacks, globals and registered roots scanned last cycle */
    uint64_t last_mark_alloc;   /* bytes allocated while the last cycle marked */
    uint64_t last_scan_work;    /* bytes the last cycle scanned */
    uint64_t percent_goal;      /* the gc_percent goal; UINT64_MAX when gc_percent < 0 */
    uint64_t limit_goal;        /* the memory limit's goal; 0: no limit (never 0 otherwise) */
    /* The heap size at which marking should end, min(percent_goal,
     * limit_goal), and the heap_live at which the next cycle starts
     * (trigger <= goal; both UINT64_MAX when neither goal is set).
     * Written under pacer_lock (or with the world stopped); read without
     * it (atomic, relaxed). */
    _Atomic uint64_t goal;
    _Atomic uint64_t trigger;
} pacer;

/* The collector's pacer.  Its fields change under pacer_lock (rank
 * LOCK_RANK_PACER); mutators read goal and trigger without it. */
extern pacer pacer_state;
extern lock_t pacer_lock;
extern _Atomic int64_t heap_live; /* bytes marked last cycle + allocated since (span granularity) */

/* Computes the gc_percent goal and the trigger after a cycle found
 * `marked` live bytes; the memory-limit goal is kept. */
void pacer_commit(pacer *p, uint64_t marked, uint64_t roots, uint64_t mark_alloc, uint64_t scan_work);

/* Changes gc_percent and recomputes goal and trigger. */
void pacer_set_gc_percent(pacer *p, int gc_percent);

/* Go's memory-limit heap goal (mgcpacer.go, design 48409): what the heap
 * may reach when every other byte counted against `limit` stays as it is:
 *   non_heap = memory_total - heap_free - heap_alloc
 *   overage  = max(0, memory_total - limit)
 *   goal     = limit - (non_heap + overage) - headroom,
 * headroom = max(PACER_LIMIT_HEADROOM_PCT% of that, PACER_LIMIT_HEADROOM_MIN),
 * never below p->heap_marked (non-heap memory alone over the limit means
 * collecting continuously).  memory_total: everything obtained from the
 * OS minus what was given back; heap_free: free heap pages still backed;
 * heap_alloc: bytes of objects allocated and not yet freed by sweeping.
 * Returns 0 when limit is 0 (no limit); otherwise at least 1. */
uint64_t pacer_limit_goal(const pacer *p, uint64_t limit, uint64_t memory_total, uint64_t heap_free,
                          uint64_t heap_alloc);

/* Installs a memory-limit goal (0: none) and recomputes goal and trigger. */
void pacer_set_limit_goal(pacer *p, uint64_t limit_goal);

/* Whether heap_live has reached the trigger. */
bool pacer_should_start(const pacer *p, int64_t live);

/* Scan work a mutator owes per byte it allocates while marking, given the
 * work done so far this cycle and the heap size now. */
double pacer_assist_ratio(const pacer *p, uint64_t scan_done, int64_t live);

#endif
