/*
 * tr_mmu.h -- mutator utilization and minimum mutator utilization (MMU).
 *
 * The model: the program ran on P processors (tr_util_build's procs; the
 * tool's -p, by default the number of mutator threads).  At any moment the
 * collector holds
 *   - all P of them while the world is stopped, and otherwise
 *   - one per thread inside a mark-worker or assist span, at most P;
 * the mutator utilization u(t) is the fraction of the P not held.  Sweeping
 * is not counted as GC (as in Go's MMU by default).
 *
 * u is a step function over [0, end].  The MMU for a window w is
 *   min over 0 <= x <= end - w of (1/w) * integral of u over [x, x + w],
 * the worst a mutator saw in any window of that length.  The integral
 * moves linearly between the points where x or x + w crosses a step, so
 * the minimum is at one of them; tr_mmu visits those in one merged pass,
 * O(steps) per window.  Utilization is kept in whole processors and its
 * integral in 128-bit processor-ticks, so the minimum is exact however long
 * the trace and short the window.  A window longer than the trace is cut
 * to the trace (the mean utilization).
 */
#ifndef TR_MMU_H
#define TR_MMU_H

#include "tr_analyze.h"

__extension__ typedef unsigned __int128 tr_u128;

typedef struct tr_util {
    uint64_t *t;    /* n + 1 step points: t[0] = 0 < t[1] < ... < t[n] = end */
    uint32_t *m;    /* m[i]: processors left to the mutator on [t[i], t[i+1]), 0..procs */
    tr_u128 *acc;   /* acc[i]: the integral of m over [0, t[i]], processor-ticks */
    size_t n;
    uint64_t end;
    unsigned procs;
} tr_util;

/* Returns 0, or -1 when out of memory.  procs >= 1. */
int tr_util_build(const tr_analysis *a, unsigned procs, tr_util *u);
void tr_util_free(tr_util *u);

/* The mean mutator utilization over the whole trace (1 for an empty one). */
double tr_util_mean(const tr_util *u);

/* The MMU for a window of `window` ticks; 1 for an empty trace. */
double tr_mmu(const tr_util *u, uint64_t window);

/* The default processor count: the mutator threads, at least 1. */
unsigned tr_default_procs(const tr_analysis *a);

#endif
