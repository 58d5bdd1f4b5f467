/*
 * pacer.c -- the GC pacer (Go's mgcpacer.go, simplified), as pure
 * functions over a pacer struct so that tests can simulate it.
 *
 * Goal (Go 1.18+): heap_goal = marked + (marked + roots) * gc_percent/100,
 * never below PACER_HEAP_MIN * gc_percent/100.  The runway is goal -
 * marked.
 *
 * Trigger: marking must end near the goal, so a cycle starts before it:
 * at goal minus what the program allocated during the previous mark phase
 * (with 10% slack), kept between PACER_TRIGGER_MIN and PACER_TRIGGER_MAX
 * of the runway (Go's bounds are 0.7 and 0.95).
 *
 * Assists: while marking, a mutator that allocates owes scan work in
 * proportion, so that the remaining work (estimated from the last cycle's)
 * is done before the heap reaches the goal:
 *     ratio = remaining scan work / remaining runway.
 * Past the goal the ratio rises steeply, so no thread can outrun the
 * collector.
 */
#include "pacer.h"

pacer pacer_state;
_Atomic int64_t heap_live;

void pacer_commit(pacer *p, uint64_t marked, uint64_t roots, uint64_t mark_alloc, uint64_t scan_work)
{
    p->heap_marked = marked;
    p->roots_bytes = roots;
    p->last_mark_alloc = mark_alloc;
    p->last_scan_work = scan_work;
    if (p->gc_percent < 0) {
        p->goal = p->trigger = UINT64_MAX;
        return;
    }
    uint64_t pct = (uint64_t)p->gc_percent;
    uint64_t goal = marked + (marked + roots) * pct / 100;
    uint64_t min = (uint64_t)PACER_HEAP_MIN * pct / 100;
    if (goal < min)
        goal = min;
    if (goal <= marked)
        goal = marked + 1;
    uint64_t runway = goal - marked;
    uint64_t lo = marked + (uint64_t)(runway * PACER_TRIGGER_MIN);
    uint64_t hi = marked + (uint64_t)(runway * PACER_TRIGGER_MAX);
    uint64_t want = mark_alloc + mark_alloc / 10 < goal ? goal - (mark_alloc + mark_alloc / 10) : 0;
    p->goal = goal;
    p->trigger = want < lo ? lo : want > hi ? hi : want;
}

bool pacer_should_start(const pacer *p, int64_t live)
{
    return p->gc_percent >= 0 && live >= 0 && (uint64_t)live >= p->trigger;
}

double pacer_assist_ratio(const pacer *p, uint64_t scan_done, int64_t live)
{
    uint64_t expected = p->last_scan_work > p->heap_marked ? p->last_scan_work : p->heap_marked;
    /* Past the estimate, the whole heap may need scanning (Go's worst case). */
    if (scan_done >= expected && live > 0 && (uint64_t)live > scan_done)
        expected = (uint64_t)live;
    double remaining = expected > scan_done ? (double)(expected - scan_done) : (double)expected / 10;
    double runway = (double)p->goal - (double)live;
    if (runway < (double)(64 << 10))
        runway = 64 << 10; /* past the goal: a steep, finite ratio */
    return remaining / runway;
}
