/*
 * memlimit.h -- the soft memory limit (Go's GOMEMLIMIT): the limit itself,
 * keeping the pacer's memory-limit goal current, what happens at the end of
 * a cycle, and its statistics.  See memlimit.c.
 */
#ifndef TC_GC_MEMLIMIT_H
#define TC_GC_MEMLIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "tricolor.h"

#define MEMLIMIT_REFRESH_NS 100000000u  /* the background scavenger refreshes the goal this often */

void memlimit_init(void);     /* tc_init: the limit from options.memory_limit */

/* Recomputes the pacer's memory-limit goal from the heap as it is now
 * (lock-free reads, then pacer_lock). */
void memlimit_refresh(void);

/* pacer_should_start, with the memory-limit goal recomputed first when
 * heap_live has reached the trigger (Go tests its trigger against a goal
 * computed then). */
bool memlimit_should_start(int64_t live);

/* Whether an allocating thread at heap_live `live` should wait for the
 * current mark phase to end: a limit is set, live is past the goal, and the
 * CPU limiter does not limit. */
bool memlimit_over_goal(int64_t live);

/* A refresh if a limit is set and LIMITER_PERIOD_NS passed since the last
 * one (the background worker, while marking). */
void memlimit_tick(void);

/* Mark termination, world stopped, after pacer_commit: live_end is
 * heap_live before it was reset to `marked` (so live_end - marked is what
 * this cycle's sweep will free). */
void memlimit_commit_stw(uint64_t live_end, uint64_t marked);

/* The controller, after the cycle's sweep: refreshes the goal, gives back
 * what is over the limit, and counts the cycle if that was not enough. */
void memlimit_cycle_end(void);

/* memory_limit, memory_total, released_total, limiter_ns and
 * limit_exceeded_cycles for tc_read_stats. */
void memlimit_read_stats(tc_stats *st);

#endif
