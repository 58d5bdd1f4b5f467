/*
 * sweep.c -- turning a cycle's marks into free slots (Go's mgcsweep.go).
 *
 * After mark termination heap.sweepgen has grown by 2, which turns every
 * listed span into an unswept one (the mcentral lists swap halves).  A span
 * is swept by whoever takes it off an unswept list first: the background
 * sweeper (gc.c, right after each cycle), an allocating thread that needs a
 * span of that class (mcentral_cache_span: lazy sweeping), or the next
 * cycle, which finishes sweeping before it starts.  Taking the span under
 * the mcentral lock and moving its sweepgen from h - 2 to h - 1 makes the
 * taker its only owner.
 *
 * Sweeping a small span: the mark bits become the allocation bits (plus
 * the always-set bits past nelems), fresh zeroed mark bits come from the
 * current gcbits epoch, freeindex restarts at 0.  The new bits are
 * published before freeindex_for_scan drops to 0, so a concurrent tc_base
 * sees either the old or the new view, both covering every live object.  A
 * span with no marked object goes back to the page heap, as does an
 * unmarked large object.  clobberfree fills each freed slot with a poison
 * pattern.
 *
 * Invariants: sweep_frees = objects allocated before the cycle and found
 * unmarked; a span is swept at most once per cycle.
 */
#include "sweep.h"

#include <sched.h>
#include <string.h>

#include "../base/options.h"
#include "../base/throw.h"
#include "../heap/gcbits.h"
#include "../heap/mcentral.h"
#include "../heap/page_heap.h"
#include "special.h"
#include "../trace/trace.h"

_Atomic uint64_t sweep_frees, sweep_freed_bytes, sweep_pages_swept, sweep_pages_freed;
static _Atomic int active_sweepers;

#define CLOBBER_PATTERN 0xdeadbeefdeadbeefull

/* fork() must not copy a span in mid-sweep: it is off every list and
 * half updated, and no thread of the child would finish it.  Sweepers
 * announce themselves in active_sweepers and, while sweep_fork_gate is
 * set, wait before starting; the fork handler sets the gate and then
 * waits for the count to drain (a handshake on two seq_cst atomics).
 * Sweepers are entered without runtime locks held, so the handler, which
 * takes every lock only afterwards, cannot deadlock with them. */
static _Atomic int sweep_fork_gate;

/* Tracing: a sweeper section shows as SWEEP_BEGIN..SWEEP_END only if it
 * swept something (the begin is written at its first span, as Go does). */
static __thread int trace_sweeping;
static __thread uint64_t trace_swept, trace_freed;

void sweep_begin(void)
{
    for (;;) {
        while (atomic_load(&sweep_fork_gate))
            sched_yield();
        atomic_fetch_add(&active_sweepers, 1);
        if (!atomic_load(&sweep_fork_gate))
            return;
        atomic_fetch_sub(&active_sweepers, 1);
    }
}

void sweep_end(void)
{
    if (trace_sweeping) {
        trace_sweeping = 0;
        TRACE_EV2(TRACE_EV_SWEEP_END, trace_swept, trace_freed);
    }
    atomic_fetch_sub(&active_sweepers, 1);
}

void sweep_fork_prepare(void)
{
    atomic_store(&sweep_fork_gate, 1);
    while (atomic_load(&active_sweepers) != 0)
        sched_yield();
}

void sweep_fork_parent(void) { atomic_store(&sweep_fork_gate, 0); }

void sweep_fork_child(void)
{
    atomic_store(&active_sweepers, 0);
    atomic_store(&sweep_fork_gate, 0);
}

void sweep_init(void)
{
    atomic_store(&sweep_frees, 0);
    atomic_store(&sweep_freed_bytes, 0);
    atomic_store(&sweep_pages_swept, 0);
    atomic_store(&sweep_pages_freed, 0);
    atomic_store(&active_sweepers, 0);
}

static void clobber(uintptr_t p, size_t n)
{
    for (size_t i = 0; i + 8 <= n; i += 8)
        *(uint64_t *)(p + i) = CLOBBER_PATTERN;
}

bool sweep_span(span *s, bool keep)
{
    uint32_t sg = atomic_load_explicit(&heap.sweepgen, memory_order_acquire);
    CHECK(atomic_load(&s->sweepgen) == sg - 1);
    atomic_fetch_add_explicit(&sweep_pages_swept, s->npages, memory_order_relaxed);
    if (TRACE_ON()) {
        if (!trace_sweeping) {
            trace_sweeping = 1;
            trace_swept = trace_freed = 0;
            TRACE_EV0(TRACE_EV_SWEEP_BEGIN);
        }
        trace_swept += s->npages;
    }
    specials_sweep(s); /* may revive objects with finalizers: before the bits are read */
    size_t words = bit_words(s->nelems);
    uint64_t *marks = s->mark_bits;
    size_t live = 0;
    for (size_t w = 0; w < words; w++)
        live += popcount64(marks[w]);
    size_t before = atomic_load_explicit(&s->alloc_count, memory_order_relaxed);
    CHECK(live <= before);
    size_t freed = before - live;
    if (freed > 0) {
        atomic_fetch_add_explicit(&sweep_frees, freed, memory_order_relaxed);
        atomic_fetch_add_explicit(&sweep_freed_bytes, (uint64_t)freed * s->elemsize,
                                  memory_order_relaxed);
        if (options.clobberfree)
            for (size_t i = 0; i < s->nelems; i++)
                if ((i < s->freeindex || bit_get(s->alloc_bits, i)) && !bit_get(marks, i))
                    clobber(span_object_base(s, i), s->elemsize);
    }
    if (live == 0) {
        CHECK(atomic_load_explicit(&s->specials, memory_order_relaxed) == NULL);
        atomic_fetch_add_explicit(&sweep_pages_freed, s->npages, memory_order_relaxed);
        trace_freed += s->npages;
        heap_free_span(s);
        return false;
    }
    uint64_t *fresh = gcbits_alloc(words);
    if (fresh == NULL)
        throw("out of memory for mark bits");
    if (s->nelems % 64 != 0)
        marks[s->nelems / 64] |= ~(uint64_t)0 << (s->nelems % 64);
    __atomic_store_n(&s->alloc_bits, marks, __ATOMIC_RELEASE);
    s->mark_bits = fresh;
    atomic_store_explicit(&s->freeindex_for_scan, 0, memory_order_release);
    s->freeindex = 0;
    s->alloc_cache = 0;
    atomic_store_explicit(&s->alloc_count, (uint16_t)live, memory_order_relaxed);
    if (freed > 0)
        s->needzero = 1;
    atomic_store_explicit(&s->sweepgen, sg, memory_order_release);
    if (!keep) {
        mcentral *c = &central[s->spanclass];
        lock_acquire(&c->lock);
        if (live < s->nelems && !span_is_large(s))
            span_list_push(&c->partial[sweep_swept_index(sg)], s);
        else
            span_list_push(&c->full[sweep_swept_index(sg)], s);
        lock_release(&c->lock);
    }
    return true;
}

/* Takes one unswept span of class sc off its list, or NULL. */
span *sweep_take(mcentral *c, bool partial_only)
{
    uint32_t sg = atomic_load_explicit(&heap.sweepgen, memory_order_acquire);
    unsigned u = sweep_unswept_index(sg);
    span *s = NULL;
    lock_acquire(&c->lock);
    if (c->partial[u].first != NULL)
        s = c->partial[u].first, span_list_remove(&c->partial[u], s);
    else if (!partial_only && c->full[u].first != NULL)
        s = c->full[u].first, span_list_remove(&c->full[u], s);
    lock_release(&c->lock);
    if (s != NULL) {
        uint32_t want = sg - 2;
        if (!atomic_compare_exchange_strong(&s->sweepgen, &want, sg - 1))
            throw_addr("sweep: unswept list held a span in another sweep state", (void *)s->start);
    }
    return s;
}

void sweep_ensure(span *s)
{
    uint32_t sg = atomic_load_explicit(&heap.sweepgen, memory_order_acquire);
    if (atomic_load_explicit(&s->sweepgen, memory_order_acquire) == sg - 2) {
        mcentral *c = &central[s->spanclass];
        unsigned u = sweep_unswept_index(sg);
        bool mine = false;
        sweep_begin();
        lock_acquire(&c->lock);
        uint32_t want = sg - 2;
        if ((s->list == &c->partial[u] || s->list == &c->full[u]) &&
            atomic_compare_exchange_strong(&s->sweepgen, &want, sg - 1)) {
            span_list_remove(s->list, s);
            mine = true;
        }
        lock_release(&c->lock);
        if (mine)
            sweep_span(s, false);
        sweep_end();
    }
    /* Someone else's sweep (taken off its list, about to start, or under
     * way): wait for it; sweeping a span is short. */
    for (;;) {
        uint32_t ssg = atomic_load_explicit(&s->sweepgen, memory_order_acquire);
        if ((ssg != sg - 2 && ssg != sg - 1) ||
            atomic_load_explicit(&s->state, memory_order_acquire) != SPAN_IN_USE || /* freed */
            atomic_load_explicit(&heap.sweepgen, memory_order_acquire) != sg)
            break;
        sched_yield();
    }
}

static _Atomic unsigned sweep_class_hint;

bool sweep_one(void)
{
    unsigned start = atomic_load_explicit(&sweep_class_hint, memory_order_relaxed);
    for (unsigned k = 0; k < NUM_SPAN_CLASSES; k++) {
        unsigned sc = (start + k) % NUM_SPAN_CLASSES;
        span *s = sweep_take(&central[sc], false);
        if (s != NULL) {
            atomic_store_explicit(&sweep_class_hint, sc, memory_order_relaxed);
            sweep_span(s, false);
            return true;
        }
    }
    return false;
}

size_t sweep_reclaim(size_t npages)
{
    uint64_t before = atomic_load(&sweep_pages_freed);
    sweep_begin();
    while (atomic_load(&sweep_pages_freed) - before < npages && sweep_one())
        ;
    sweep_end();
    return (size_t)(atomic_load(&sweep_pages_freed) - before);
}

void sweep_finish(void)
{
    sweep_begin();
    while (sweep_one())
        ;
    sweep_end();
    while (atomic_load(&active_sweepers) != 0)
        sched_yield();
}
