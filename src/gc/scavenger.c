/*
 * scavenger.c -- the background scavenger (Go's bgscavenge, proposal 30333
 * in its 1.19 form): decides how much free heap memory to give back to the
 * OS and gives it back from a runtime thread at about SCAV_CPU_PERCENT% of
 * one CPU.  heap/scavenge.c does the releasing, a step at a time.
 *
 * Two goals, whichever asks for more:
 *
 *  - gc_percent: retained heap memory (in-use plus free backed pages)
 *    should stay near what the heap goal needs: the in-use memory at the
 *    last commit, scaled by how the goal moved (goal / last goal), plus
 *    SCAV_RETAIN_EXTRA_PCT% for fragmentation and as a pool of backed pages
 *    for allocation.  So a heap that shrank gives its pages back after the
 *    next cycle, and a steady heap keeps its 10% and never thrashes.  None
 *    before the second cycle, and none when gc_percent < 0;
 *  - the memory limit: memory_total down to SCAV_LIMIT_PCT% of the limit,
 *    so that allocation under the limit rarely has to scavenge itself.
 *
 * Pacing: the thread works in bursts of about SCAV_BURST_NS and sleeps
 * (100 - p)/p times as long after each, p = scavenger_cpu_percent.  With
 * nothing to do it looks again every SCAV_POLL_NS (retained memory grows
 * when allocation takes released pages, which nobody announces), and then
 * also refreshes the memory-limit goal (memlimit.c).  The commit of each
 * cycle sets the new goal and a `kick` flag, which ends an idle wait at the
 * next poll at the latest (the commit runs with the world stopped and so
 * takes no mutex); scavenger_wake ends it at once.
 *
 * Invariants: retained_goal is UINT64_MAX or a multiple of PAGE_SIZE;
 * last_goal is 0 (no previous cycle) or the goal of the last commit.
 * Locking: retained_goal, kick and the statistics are atomics; last_goal
 * is the controller's, written with the world stopped; scv.mu (a plain
 * mutex outside the rank order, never taken with the world stopped) only
 * guards the sleeping: stop and the condition variable.  docs/design.md
 * "Returning memory to the OS".
 */
#include "scavenger.h"

#include <pthread.h>
#include <time.h>

#include "../heap/page_heap.h"
#include "../heap/scavenge.h"
#include "../sys/sys.h"
#include "memlimit.h"
#include "pacer.h"
#include "tricolor.h"

_Atomic int scavenger_cpu_percent = SCAV_CPU_PERCENT;

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool running;                   /* the thread exists; tc_init/tc_shutdown only */
    bool stop;                      /* under mu */
    pthread_t thread;
    _Atomic int kick;               /* a commit or tc_set_memory_limit moved a goal */
    _Atomic uint64_t retained_goal; /* UINT64_MAX: none */
    uint64_t last_goal;             /* the controller's, world stopped */
    _Atomic uint64_t work_ns, released_bytes, bursts;
} scv = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

uint64_t scavenger_retained_goal(uint64_t heap_inuse, uint64_t goal, uint64_t last_goal)
{
    if (last_goal == 0 || last_goal == UINT64_MAX || goal == UINT64_MAX)
        return UINT64_MAX;
    double g = (double)heap_inuse * ((double)goal / (double)last_goal) * (1.0 + SCAV_RETAIN_EXTRA_PCT / 100.0);
    if (g >= 1.8e19)
        return UINT64_MAX;
    return align_up((uint64_t)g, PAGE_SIZE);
}

uint64_t scavenger_need(uint64_t retained, uint64_t retained_goal, uint64_t memory_total, uint64_t limit)
{
    uint64_t need = 0;
    if (retained_goal != UINT64_MAX && retained > retained_goal + PAGE_SIZE)
        need = retained - retained_goal;
    if (limit != 0) {
        uint64_t target = limit / 100 * SCAV_LIMIT_PCT + limit % 100 * SCAV_LIMIT_PCT / 100;
        if (memory_total > target && memory_total - target > need)
            need = memory_total - target;
    }
    return need;
}

static uint64_t need_now(void)
{
    int64_t limit = atomic_load_explicit(&heap_scav.limit, memory_order_relaxed);
    return scavenger_need(heap_retained(), atomic_load_explicit(&scv.retained_goal, memory_order_relaxed),
                          heap_memory_total(), limit > 0 ? (uint64_t)limit : 0);
}

/* Sleeps until `ns` passed or stop (and kick, if `idle`); true on stop. */
static bool sleep_for(uint64_t ns, bool idle)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    uint64_t t = (uint64_t)until.tv_nsec + ns;
    until.tv_sec += (time_t)(t / 1000000000u);
    until.tv_nsec = (long)(t % 1000000000u);
    pthread_mutex_lock(&scv.mu);
    while (!scv.stop && !(idle && atomic_load(&scv.kick)) &&
           pthread_cond_timedwait(&scv.cv, &scv.mu, &until) == 0)
        ;
    bool stop = scv.stop;
    pthread_mutex_unlock(&scv.mu);
    return stop;
}

static void *scavenger_main(void *arg)
{
    (void)arg;
    uint64_t last_refresh = 0;
    for (;;) {
        atomic_store(&scv.kick, 0);
        uint64_t now = sys_nanotime();
        if (atomic_load_explicit(&heap_scav.limit, memory_order_relaxed) > 0 &&
            now - last_refresh >= MEMLIMIT_REFRESH_NS) {
            memlimit_refresh();
            last_refresh = now;
        }
        uint64_t need = need_now(), released = 0, t0 = sys_nanotime(), t = t0;
        while (released < need && t - t0 < SCAV_BURST_NS) {
            uint64_t step = need - released < (SCAV_STEP_PAGES << PAGE_SHIFT) ? need - released
                                                                            : (SCAV_STEP_PAGES << PAGE_SHIFT);
            size_t got = scavenge_release(step);
            t = sys_nanotime();
            if (got == 0)
                break; /* no free backed page left */
            released += got;
        }
        if (released == 0) {
            if (sleep_for(SCAV_POLL_NS, true))
                return NULL;
            continue;
        }
        uint64_t work = t - t0;
        atomic_fetch_add_explicit(&scv.work_ns, work, memory_order_relaxed);
        atomic_fetch_add_explicit(&scv.released_bytes, released, memory_order_relaxed);
        atomic_fetch_add_explicit(&scv.bursts, 1, memory_order_relaxed);
        int pct = atomic_load_explicit(&scavenger_cpu_percent, memory_order_relaxed);
        if (pct < 1)
            pct = 1;
        if (pct > 100)
            pct = 100;
        uint64_t pause = work * (uint64_t)(100 - pct) / (uint64_t)pct;
        if (pause > 1000000000u)
            pause = 1000000000u;
        if (pause > 0 && sleep_for(pause, false))
            return NULL;
    }
}

void scavenger_start(void)
{
    atomic_store(&scv.retained_goal, UINT64_MAX);
    atomic_store(&scv.kick, 0);
    atomic_store(&scv.work_ns, 0);
    atomic_store(&scv.released_bytes, 0);
    atomic_store(&scv.bursts, 0);
    scv.last_goal = 0;
    scv.stop = false;
    if (pthread_create(&scv.thread, NULL, scavenger_main, NULL) != 0)
        return; /* memory is then given back at the end of cycles and on allocation only */
    scv.running = true;
}

void scavenger_stop(void)
{
    if (!scv.running)
        return;
    pthread_mutex_lock(&scv.mu);
    scv.stop = true;
    pthread_cond_broadcast(&scv.cv);
    pthread_mutex_unlock(&scv.mu);
    pthread_join(scv.thread, NULL);
    scv.running = false;
}

void scavenger_fork_child(void)
{
    pthread_mutex_init(&scv.mu, NULL);
    pthread_cond_init(&scv.cv, NULL);
    if (scv.running && pthread_create(&scv.thread, NULL, scavenger_main, NULL) != 0)
        scv.running = false;
}

void scavenger_wake(void)
{
    atomic_store(&scv.kick, 1);
    pthread_mutex_lock(&scv.mu);
    pthread_cond_broadcast(&scv.cv);
    pthread_mutex_unlock(&scv.mu);
}

void scavenger_commit_stw(void)
{
    page_alloc_stats ps = heap_page_stats();
    uint64_t goal = atomic_load_explicit(&pacer_state.goal, memory_order_relaxed);
    if (pacer_state.percent_goal == UINT64_MAX)
        goal = UINT64_MAX; /* gc_percent < 0: only the limit's goal */
    atomic_store_explicit(&scv.retained_goal,
                          scavenger_retained_goal(ps.inuse_pages << PAGE_SHIFT, goal, scv.last_goal),
                          memory_order_relaxed);
    scv.last_goal = goal == UINT64_MAX ? 0 : goal;
    atomic_store(&scv.kick, 1);
}

scavenger_stats scavenger_read_stats(void)
{
    scavenger_stats st;
    st.retained_goal = atomic_load_explicit(&scv.retained_goal, memory_order_relaxed);
    st.work_ns = atomic_load_explicit(&scv.work_ns, memory_order_relaxed);
    st.released_bytes = atomic_load_explicit(&scv.released_bytes, memory_order_relaxed);
    st.bursts = atomic_load_explicit(&scv.bursts, memory_order_relaxed);
    return st;
}
