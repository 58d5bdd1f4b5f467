/*
 * pacer.h -- when to start a cycle and how much mutators must help.
 * See pacer.c.
 */
#ifndef TC_GC_PACER_H
#define TC_GC_PACER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define PACER_HEAP_MIN (4u << 20)       /* the goal never falls below 4 MiB x gc_percent/100 */
#define PACER_TRIGGER_MIN 0.70          /* trigger bounds, as fractions of the runway */
#define PACER_TRIGGER_MAX 0.95

typedef struct pacer {
    int gc_percent;             /* < 0: no automatic cycles */
    uint64_t heap_marked;       /* live heap found by the last cycle */
    uint64_t roots_bytes;       /* stacks, globals and registered roots scanned last cycle */
    uint64_t goal;              /* heap size at which marking should end */
    uint64_t trigger;           /* heap_live at which the next cycle starts */
    uint64_t last_mark_alloc;   /* bytes allocated while the last cycle marked */
    uint64_t last_scan_work;    /* bytes the last cycle scanned */
} pacer;

extern pacer pacer_state;       /* the collector's; read racily by mutators */
extern _Atomic int64_t heap_live; /* bytes marked last cycle + allocated since (span granularity) */

/* Computes goal and trigger after a cycle found `marked` live bytes. */
void pacer_commit(pacer *p, uint64_t marked, uint64_t roots, uint64_t mark_alloc, uint64_t scan_work);

/* Whether heap_live has reached the trigger. */
bool pacer_should_start(const pacer *p, int64_t live);

/* Scan work a mutator owes per byte it allocates while marking, given the
 * work done so far this cycle and the heap size now. */
double pacer_assist_ratio(const pacer *p, uint64_t scan_done, int64_t live);

#endif
