/*
 * sweep.h -- sweeping spans after marking.  See sweep.c.
 */
#ifndef TC_GC_SWEEP_H
#define TC_GC_SWEEP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "../heap/span.h"

/* Objects and bytes freed by sweeping, pages swept and pages given back
 * to the page heap, since tc_init (atomic). */
extern _Atomic uint64_t sweep_frees, sweep_freed_bytes, sweep_pages_swept, sweep_pages_freed;

/* Sweeps until about npages pages went back to the page heap or nothing is
 * left to sweep; returns the pages freed (heap_reclaim_hook). */
size_t sweep_reclaim(size_t npages);

/* Sweeps s, which the caller owns (sweepgen h - 1, taken off its list).
 * Returns true if the span survives (then it is swept, sweepgen h, and on
 * its mcentral's swept list unless `keep`, in which case the caller keeps
 * it); false if it had no live object and went back to the page heap. */
bool sweep_span(span *s, bool keep);

/* Takes one unswept span of class c off its list (partial ones only if
 * partial_only), now owned by the caller (sweepgen h - 1); NULL if none. */
struct mcentral;
span *sweep_take(struct mcentral *c, bool partial_only);

/* Returns once s is swept for this cycle: sweeps it if no one has taken
 * it yet, else waits for its sweeper (Go's ensureSwept). */
void sweep_ensure(span *s);

/* Sweeps one unswept span of any class; false when none was left. */
bool sweep_one(void);

/* Sweeps until every span of the cycle is swept and no other sweeper is
 * busy. */
void sweep_finish(void);

/* Counters of sweepers at work (Go's activeSweep). */
void sweep_begin(void);
void sweep_end(void);

/* fork(): prepare stops new sweeps and waits for those under way (call
 * it holding no runtime lock), parent and child let sweeping go on. */
void sweep_fork_prepare(void);
void sweep_fork_parent(void);
void sweep_fork_child(void);

void sweep_init(void); /* tc_init: counters from zero */

#endif
