/*
 * gcbits.h -- span mark and allocation bitmaps, allocated by epoch (Go's
 * gcBits arenas).  See gcbits.c.
 */
#ifndef TC_HEAP_GCBITS_H
#define TC_HEAP_GCBITS_H

#include <stddef.h>
#include <stdint.h>

#define GCBITS_ARENA_BYTES (64 * 1024)
#define GCBITS_EPOCHS 4

/* nwords zeroed 64-bit words from the current epoch; NULL when out of
 * memory.  Lock-free in the common case. */
uint64_t *gcbits_alloc(size_t nwords);

/* With the world stopped, at the start of a cycle: opens a new epoch and
 * recycles the arenas of the epoch GCBITS_EPOCHS cycles old, whose bitmaps
 * no span uses any more (every span is swept once per cycle, taking new
 * mark bits each time).  Skipped while a heap walk is in progress. */
void gcbits_next_epoch(void);

void gcbits_init(void);      /* tc_init */

/* Heap walks in progress (they may hold bitmap pointers for long). */
extern _Atomic int gcbits_walkers;

#endif
