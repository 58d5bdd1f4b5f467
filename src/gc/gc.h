/*
 * gc.h -- the collection cycle and its controller.  See gc.c.
 */
#ifndef TC_GC_GC_H
#define TC_GC_GC_H

#include <stdbool.h>
#include <stdint.h>

#include "../heap/span.h"
#include "../mutator/thread.h"

int  gc_init(void);      /* tc_init: starts the controller */
void gc_shutdown(void);  /* tc_shutdown: stops it */

/* Allocation reports bytes newly taken into use (a span cached, a large
 * object): updates heap_live, makes the thread assist while marking, and
 * starts a cycle at the trigger.  `t` may be NULL for an unattached caller. */
void gc_on_alloc(thread_ctx *t, int64_t bytes);

/* Time mutators lost to the collector since tc_init: assisting, and
 * waiting for a cycle to start past the heap goal (the CPU limiter's
 * input).  ns, relaxed. */
uint64_t gc_mutator_gc_ns(void);
/* CPU time of the dedicated mark workers since tc_init (ns, relaxed). */
uint64_t gc_workers_cpu_ns(void);

/* The allocation fast path's post-hook when alloc_flags is set. */
void gc_alloc_post(span *s, size_t idx);

/* Statistics the API reports. */
typedef struct gc_stats {
    uint32_t num_gc, num_forced_gc;
    uint64_t pause_total_ns, pause_max_ns;
    uint64_t pause_ns[256], pause_end_ns[256];
    uint64_t last_gc_ns, next_gc;
    uint64_t gc_cpu_ns;         /* controller, workers and assists */
    uint64_t init_ns;           /* when tc_init ran (monotonic) */
} gc_stats;
void gc_read_stats(gc_stats *out);

/* Runs a checkmark pass now (world stopped); exposed for tests. */
void checkmark_run(void);

#endif
