/*
 * tr_analyze.h -- from a parsed trace's events to what the commands show:
 * spans (paired BEGIN/END), GC cycles, pauses, per-thread times, heap
 * counters and counts.
 *
 * Pairing rules (docs/trace-format.md, "Guarantees"):
 *  - MARK_WORKER, ASSIST, SWEEP, BLOCKING and THREAD_ATTACH/DETACH pair per
 *    thread; REGION_BEGIN/END per thread, an END closing the innermost open
 *    region of the same name;
 *  - STW_BEGIN/END and GC_BEGIN/END pair globally (one stop-the-world and
 *    one cycle at a time); GC_END closes the open cycle of its number;
 *  - TASK_BEGIN/END pair by task id, on any threads;
 *  - a PHASE lasts until the next PHASE; "off" starts no span; a phase is
 *    clipped to the cycle it started in (or, outside any cycle, to the next
 *    cycle's start), so phases nest in cycles;
 *  - an END with no BEGIN began before the trace: its span starts at 0 and
 *    is flagged TR_SPAN_OPEN_START; a BEGIN with no END is closed at the
 *    trace's end and flagged TR_SPAN_OPEN_END.  Both count as they are,
 *    clipped to the trace.
 *
 * Mutator threads: the collector's own threads (controller, mark workers)
 * are not attached and write only collector events, so a thread counts as
 * a runtime thread if it wrote MARK_WORKER_*, GC_BEGIN/END or PHASE and
 * none of THREAD_ATTACH/DETACH, BLOCKING_*, ASSIST_*, TASK_*, REGION_* and
 * LOG (which only attached, user-code threads write); every other thread
 * that appears in the trace is a mutator.  A mutator with no
 * ATTACH/DETACH in the trace counts as attached throughout.
 */
#ifndef TR_ANALYZE_H
#define TR_ANALYZE_H

#include <stdbool.h>

#include "tr_parse.h"

enum tr_span_kind {
    TR_SPAN_CYCLE,     /* arg[0] cycle number, arg[1] forced */
    TR_SPAN_PHASE,     /* name: the phase */
    TR_SPAN_STW,       /* name: the reason */
    TR_SPAN_MARK,      /* arg[0] bytes scanned */
    TR_SPAN_ASSIST,    /* arg[0] bytes scanned */
    TR_SPAN_SWEEP,     /* arg[0] pages swept, arg[1] pages freed */
    TR_SPAN_BLOCKING,
    TR_SPAN_REGION,    /* name */
    TR_SPAN_TASK,      /* arg[0] task id, name; thread begins, end_thread ends */
    TR_SPAN_ATTACHED,
    TR_SPAN_KINDS
};

#define TR_SPAN_OPEN_START 1 /* began before the trace */
#define TR_SPAN_OPEN_END 2   /* still open when the trace ended */

#define TR_NONE UINT32_MAX

typedef struct tr_span {
    uint64_t start, end; /* ticks, start <= end */
    uint64_t arg[2];
    uint32_t thread;     /* index into the trace's threads */
    uint32_t end_thread; /* where it ended (tasks); = thread otherwise */
    uint32_t name;       /* string index, 0 if none */
    uint32_t cycle;      /* index into tr_analysis.cycles of the cycle it began in, or TR_NONE */
    uint8_t kind;
    uint8_t flags;
} tr_span;

typedef struct tr_cycle {
    uint64_t number;
    bool forced;
    uint8_t flags;        /* TR_SPAN_OPEN_* */
    uint64_t start, end;
    uint32_t nstw;
    uint64_t stw_total, stw_max;
    uint64_t mark_time, mark_bytes;     /* mark-worker spans that began in the cycle */
    uint64_t assist_time, assist_bytes; /* assists that began in the cycle */
    uint64_t sweep_time;                /* sweeps that began in the cycle */
    uint64_t heap_start;  /* the last HEAP_ALLOC at or before the start, 0 if none */
    uint64_t heap_end;    /* the last HEAP_ALLOC at or before the end */
    uint64_t goal;        /* the last HEAP_GOAL at or before the end, 0 if none */
} tr_cycle;

typedef struct tr_thread_stats {
    bool mutator;
    uint64_t attached;  /* time attached (mutators) */
    uint64_t busy;      /* mutators: attached minus blocking; runtime threads: GC work they did */
    uint64_t blocking, assist, mark, sweep; /* time in those spans */
    uint64_t stw;       /* stop-the-world time this thread ran (it wrote STW_BEGIN) */
} tr_thread_stats;

typedef struct tr_point {
    uint64_t time, value;
} tr_point;

typedef struct tr_analysis {
    const tr_trace *trace;
    tr_span *spans;       /* sorted by (start, kind, end descending) */
    size_t nspans;
    tr_cycle *cycles;     /* by start time */
    size_t ncycles;
    size_t ncomplete;     /* cycles with both GC_BEGIN and GC_END in the trace */
    size_t nforced;
    uint64_t *pauses;     /* every stop-the-world's length, ascending */
    size_t npauses;
    tr_thread_stats *threads; /* parallel to trace->threads */
    uint32_t *by_id;      /* indexes of trace->threads in order of thread id */
    size_t nmutators;
    tr_point *heap;       /* HEAP_ALLOC, in time order */
    size_t nheap;
    tr_point *goal;       /* HEAP_GOAL */
    size_t ngoal;
    uint64_t heap_peak;
    uint64_t stw_total, mark_total, assist_total, sweep_total;
    uint64_t mark_bytes, assist_bytes;
    size_t ntasks, ntasks_ended, nregions, nlogs;
} tr_analysis;

/* Returns 0, or -1 when out of memory. */
int tr_analyze(const tr_trace *t, tr_analysis *a);
void tr_analysis_free(tr_analysis *a);

/* The nearest-rank percentile of the pauses (p in 0..100): the smallest
 * pause such that at least p% of them are no longer.  0 with no pauses. */
uint64_t tr_pause_percentile(const tr_analysis *a, double p);

const char *tr_span_kind_name(unsigned kind);

#endif
