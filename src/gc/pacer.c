/*
 * pacer.c -- the GC pacer (Go's mgcpacer.go, simplified), as pure
 * functions over a pacer struct so that tests can simulate it.
 *
 * Two goals, the smaller wins (Go 1.19):
 *
 *  - gc_percent: percent_goal = marked + (marked + roots) * gc_percent/100,
 *    never below PACER_HEAP_MIN * gc_percent/100 (Go 1.18); UINT64_MAX
 *    when gc_percent < 0.
 *  - the memory limit (memlimit.c gathers the inputs): the heap size at
 *    which everything tricolor holds from the OS would reach the limit,
 *    less a headroom of PACER_LIMIT_HEADROOM_PCT% (at least
 *    PACER_LIMIT_HEADROOM_MIN) for pacing errors; see pacer_limit_goal.
 *    Unlike the gc_percent goal it moves between cycles (sweeping frees
 *    pages, metadata grows), so memlimit.c recomputes it at each commit,
 *    after each sweep and periodically.  It never falls below the marked
 *    heap: a live heap over the limit means collecting continuously, and
 *    the CPU limiter (limiter.c) keeps that from stalling the program.
 *
 * Trigger: marking must end near the goal, so a cycle starts before it:
 * at goal minus what the program allocated during the previous mark phase
 * (with 10% slack), kept between PACER_TRIGGER_MIN and PACER_TRIGGER_MAX
 * of the runway goal - marked (Go's bounds are 0.7 and 0.95).  A goal at
 * or below the marked heap triggers at once (trigger = goal).
 *
 * Assists: while marking, a mutator that allocates owes scan work in
 * proportion, so that the remaining work (estimated from the last cycle's)
 * is done before the heap reaches the goal:
 *     ratio = remaining scan work / remaining runway.
 * Past the goal the ratio rises steeply, so no thread can outrun the
 * collector (unless the CPU limiter turns assists off).
 *
 * Invariants: trigger <= goal; goal = min(percent_goal, limit_goal or
 * UINT64_MAX); limit_goal is 0 (none) or >= max(1, heap_marked when it was
 * computed).
 * Locking: pacer_state's fields are written under pacer_lock (rank
 * LOCK_RANK_PACER) -- by the controller at commit (world stopped), by
 * tc_set_gc_percent, and by memlimit.c's refreshes; goal and trigger are
 * atomics that mutators read relaxed without the lock.
 */
#include "pacer.h"

pacer pacer_state;
lock_t pacer_lock = LOCK_INIT(LOCK_RANK_PACER);
_Atomic int64_t heap_live;

/* goal = min of the two goals; trigger from the runway. */
static void pacer_retarget(pacer *p)
{
    uint64_t goal = p->percent_goal;
    if (p->limit_goal != 0 && p->limit_goal < goal)
        goal = p->limit_goal;
    uint64_t marked = p->heap_marked, trigger;
    if (goal == UINT64_MAX) {
        trigger = UINT64_MAX;
    } else if (goal <= marked) {
        trigger = goal; /* collect continuously */
    } else {
        uint64_t runway = goal - marked;
        uint64_t lo = marked + (uint64_t)((double)runway * PACER_TRIGGER_MIN);
        uint64_t hi = marked + (uint64_t)((double)runway * PACER_TRIGGER_MAX);
        uint64_t ma = p->last_mark_alloc + p->last_mark_alloc / 10;
        uint64_t want = ma < goal ? goal - ma : 0;
        trigger = want < lo ? lo : want > hi ? hi : want;
    }
    atomic_store_explicit(&p->goal, goal, memory_order_relaxed);
    atomic_store_explicit(&p->trigger, trigger, memory_order_relaxed);
}

static void pacer_percent_goal(pacer *p)
{
    if (p->gc_percent < 0) {
        p->percent_goal = UINT64_MAX;
        return;
    }
    uint64_t pct = (uint64_t)p->gc_percent, marked = p->heap_marked;
    uint64_t goal = marked + (marked + p->roots_bytes) * pct / 100;
    uint64_t min = (uint64_t)PACER_HEAP_MIN * pct / 100;
    if (goal < min)
        goal = min;
    if (goal <= marked)
        goal = marked + 1;
    p->percent_goal = goal;
}

void pacer_commit(pacer *p, uint64_t marked, uint64_t roots, uint64_t mark_alloc, uint64_t scan_work)
{
    p->heap_marked = marked;
    p->roots_bytes = roots;
    p->last_mark_alloc = mark_alloc;
    p->last_scan_work = scan_work;
    pacer_percent_goal(p);
    if (p->limit_goal != 0 && p->limit_goal < marked)
        p->limit_goal = marked;
    pacer_retarget(p);
}

void pacer_set_gc_percent(pacer *p, int gc_percent)
{
    p->gc_percent = gc_percent;
    pacer_percent_goal(p);
    pacer_retarget(p);
}

uint64_t pacer_limit_goal(const pacer *p, uint64_t limit, uint64_t memory_total, uint64_t heap_free,
                          uint64_t heap_alloc)
{
    if (limit == 0)
        return 0;
    /* Racy snapshots may show more heap than total: no non-heap memory then. */
    uint64_t heap = heap_free + heap_alloc;
    uint64_t non_heap = memory_total > heap ? memory_total - heap : 0;
    uint64_t overage = memory_total > limit ? memory_total - limit : 0;
    uint64_t goal;
    if (non_heap >= limit || overage >= limit - non_heap) {
        goal = p->heap_marked;
    } else {
        goal = limit - non_heap - overage;
        uint64_t headroom = goal / 100 * PACER_LIMIT_HEADROOM_PCT;
        if (headroom < PACER_LIMIT_HEADROOM_MIN)
            headroom = PACER_LIMIT_HEADROOM_MIN;
        goal = goal >= 2 * headroom ? goal - headroom : headroom;
        if (goal < p->heap_marked)
            goal = p->heap_marked;
    }
    return goal != 0 ? goal : 1;
}

void pacer_set_limit_goal(pacer *p, uint64_t limit_goal)
{
    p->limit_goal = limit_goal;
    pacer_retarget(p);
}

bool pacer_should_start(const pacer *p, int64_t live)
{
    return live >= 0 && (uint64_t)live >= atomic_load_explicit(&p->trigger, memory_order_relaxed);
}

double pacer_assist_ratio(const pacer *p, uint64_t scan_done, int64_t live)
{
    uint64_t expected = p->last_scan_work > p->heap_marked ? p->last_scan_work : p->heap_marked;
    /* Past the estimate, the whole heap may need scanning (Go's worst case). */
    if (scan_done >= expected && live > 0 && (uint64_t)live > scan_done)
        expected = (uint64_t)live;
    double remaining = expected > scan_done ? (double)(expected - scan_done) : (double)expected / 10;
    double runway = (double)atomic_load_explicit(&p->goal, memory_order_relaxed) - (double)live;
    if (runway < (double)(64 << 10))
        runway = 64 << 10; /* past the goal: a steep, finite ratio */
    return remaining / runway;
}
