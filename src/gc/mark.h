/*
 * mark.h -- marking: greying objects, scanning them, draining work.
 * See mark.c.
 */
#ifndef TC_GC_MARK_H
#define TC_GC_MARK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "../heap/malloc.h"
#include "../heap/span.h"
#include "workbuf.h"

/* Collector phases (Go's gcphase). */
typedef enum gc_phase { GC_OFF = 0, GC_MARK, GC_MARKTERM, GC_PHASE_COUNT } gc_phase;
extern const char *const gc_phase_names[GC_PHASE_COUNT];
extern _Atomic int gc_phase_now;

/* Bits of alloc_flags, read on the allocation fast path after an object
 * is published: nonzero sends it to malloc_post. */
#define ALLOC_FLAG_BLACKEN 1 /* marking: new objects are allocated black */
#define ALLOC_FLAG_STRESS  2 /* TRICOLOR=stress=N: count allocations */
/* alloc_flags itself is defined by heap/malloc.c, which reads it. */

/* Totals flushed from gcworks (atomic, relaxed). */
extern _Atomic uint64_t mark_bytes_marked, mark_scan_work;

/* If p points into an allocated heap object, greys it (marks it and queues
 * it for scanning unless it is noscan).  Returns true if p was a heap
 * pointer.  Safe for any word (conservative scanning). */
bool mark_pointer(uintptr_t p, gcwork *gw);

/* mark_pointer for each of ptrs[0..n) (a flushed write-barrier buffer:
 * old and new values alternate).  Same result, cheaper per pointer. */
void mark_pointers(void *const *ptrs, size_t n, gcwork *gw);

/* Scans [lo, hi) (8-byte aligned words) conservatively. */
void mark_scan_block(uintptr_t lo, uintptr_t hi, gcwork *gw);

/* Scans the object at base (precisely by its type, conservatively if it
 * has none). */
void mark_scan_object(uintptr_t base, gcwork *gw);

/* Drains grey objects until about `budget` bytes were scanned (budget < 0:
 * until no work is left anywhere).  Returns the bytes scanned. */
int64_t mark_drain(gcwork *gw, int64_t budget);

/* Moves a gcwork's counters into the totals. */
void mark_flush_counters(gcwork *gw);

/* Allocate black: marks a just-allocated object.  Owner of the span. */
void mark_new_object(span *s, size_t idx);

/* Calls fn(slot, value, arg) for every pointer slot of the object at base
 * (by its type, or every word if it has none); fn returns false to stop.
 * Used by checkmark. */
void mark_object_slots(uintptr_t base, void (*fn)(uintptr_t slot, uintptr_t value, void *arg), void *arg);

#endif
