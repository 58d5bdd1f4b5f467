/*
 * scavenger.h -- the background scavenger: how much free memory to give
 * back to the OS, and a thread that does it at a low CPU share.  See
 * scavenger.c; the releasing itself is heap/scavenge.c.
 */
#ifndef TC_GC_SCAVENGER_H
#define TC_GC_SCAVENGER_H

#include <stdatomic.h>
#include <stdint.h>

#define SCAV_RETAIN_EXTRA_PCT 10     /* retain the heap goal's share of in-use memory + 10% (Go's) */
#define SCAV_LIMIT_PCT 95            /* under a memory limit, release down to 95% of it (Go's) */
#define SCAV_CPU_PERCENT 1           /* the background scavenger's share of one CPU (Go's) */
#define SCAV_BURST_NS 1000000u       /* work per wake-up: about 1 ms */
#define SCAV_POLL_NS 100000000u      /* an idle scavenger looks again after 100 ms */

/* Go's gc_percent scavenging goal for retained heap memory (in-use plus
 * free backed pages): heap_inuse x goal / last_goal x (1 + 10%), rounded
 * up to a page, where heap_inuse was measured at the commit of `goal` and
 * last_goal is the goal before it.  UINT64_MAX (no goal) before the second
 * cycle (last_goal 0) or when either goal is UINT64_MAX. */
uint64_t scavenger_retained_goal(uint64_t heap_inuse, uint64_t goal, uint64_t last_goal);

/* Bytes to release now: how far retained memory is over its goal (nothing
 * within a page of it), or memory_total over SCAV_LIMIT_PCT% of the limit
 * (limit 0: none), whichever is more. */
uint64_t scavenger_need(uint64_t retained, uint64_t retained_goal, uint64_t memory_total, uint64_t limit);

/* The background scavenger's share of one CPU, in percent (tests raise it
 * to run faster); read at each pause. */
extern _Atomic int scavenger_cpu_percent;

void scavenger_start(void);       /* tc_init (without the thread, memory goes back only
                                     at the end of cycles and on allocation) */
void scavenger_stop(void);        /* tc_shutdown: joins the thread */
void scavenger_fork_child(void);  /* fork(): a new thread in the child */
void scavenger_wake(void);        /* look at the goals now (not with the world stopped) */

/* Mark termination, world stopped, after the pacer committed: the new
 * retained goal from the heap in use now and the new heap goal. */
void scavenger_commit_stw(void);

/* For tests and benchmarks (atomic, relaxed). */
typedef struct scavenger_stats {
    uint64_t retained_goal;   /* the current gc_percent goal, UINT64_MAX if none */
    uint64_t work_ns;         /* time the background thread spent releasing */
    uint64_t released_bytes;  /* what it released */
    uint64_t bursts;          /* its wake-ups that released something */
} scavenger_stats;
scavenger_stats scavenger_read_stats(void);

#endif
