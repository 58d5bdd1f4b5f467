/*
 * mcentral.c -- central span lists per span class (Go's mcentral).
 *
 * Design: each span class has its own mcentral, so threads refilling
 * different classes never contend.  A span not cached by a thread is on
 * exactly one list: partial (has free slots) or full, in the swept or the
 * unswept half selected by sweep parity.  A thread cache takes a partial
 * swept span, or a fresh span from the heap when there is none, and gives
 * it back when it is full or the thread detaches.  (Go uses lock-free span
 * sets here; per-class locks are held only for a list push or pop.)
 *
 * The sweep states are kept exactly as Go's: a span taken into a cache gets
 * sweepgen = h + 3 ("swept and cached"); when returned it goes back to h.
 * When no swept span has room, unswept ones are swept on the spot
 * (mcentral_sweep_hook, Go's lazy sweeping) before the heap is asked for a
 * new span.
 *
 * Invariants: s->list names the list holding s; list lengths are exact;
 * every in-use small span is either on one list or in one thread cache.
 * Locking: c->lock guards c's lists; taken before the heap lock.
 */
#include "mcentral.h"

#include <string.h>

#include "../base/throw.h"
#include "mcache.h"
#include "page_heap.h"

mcentral central[NUM_SPAN_CLASSES];
span *(*mcentral_sweep_hook)(mcentral *c);

void span_list_push(span_list *l, span *s)
{
    DCHECK(s->list == NULL);
    s->prev = NULL;
    s->next = l->first;
    if (l->first != NULL)
        l->first->prev = s;
    l->first = s;
    s->list = l;
    l->n++;
}

void span_list_remove(span_list *l, span *s)
{
    CHECK(s->list == l);
    if (s->prev != NULL)
        s->prev->next = s->next;
    else
        l->first = s->next;
    if (s->next != NULL)
        s->next->prev = s->prev;
    s->next = s->prev = NULL;
    s->list = NULL;
    l->n--;
}

void mcentral_init_all(void)
{
    for (unsigned i = 0; i < NUM_SPAN_CLASSES; i++) {
        memset(&central[i], 0, sizeof central[i]);
        lock_init(&central[i].lock, LOCK_RANK_MCENTRAL);
        central[i].spanclass = (spanclass_t)i;
    }
}

static span *mcentral_grow(mcentral *c)
{
    unsigned cls = spanclass_sizeclass(c->spanclass);
    return heap_alloc_span(size_classes[cls].npages, c->spanclass);
}

span *mcentral_cache_span(mcentral *c)
{
    uint32_t sg = atomic_load_explicit(&heap.sweepgen, memory_order_acquire);
    lock_acquire(&c->lock);
    span_list *l = &c->partial[sweep_swept_index(sg)];
    span *s = l->first;
    if (s != NULL)
        span_list_remove(l, s);
    lock_release(&c->lock);
    if (s == NULL && mcentral_sweep_hook != NULL)
        s = mcentral_sweep_hook(c);
    if (s == NULL && (s = mcentral_grow(c)) == NULL)
        return NULL;
    atomic_store_explicit(&s->sweepgen, sg + 3, memory_order_release);
    /* Point alloc_cache at freeindex. */
    span_refill_alloc_cache(s, align_down(s->freeindex, 64));
    s->alloc_cache >>= s->freeindex % 64;
    atomic_store_explicit(&s->alloc_count_before_cache,
                          atomic_load_explicit(&s->alloc_count, memory_order_relaxed),
                          memory_order_relaxed);
    return s;
}

void mcentral_uncache_span(mcentral *c, span *s)
{
    uint32_t sg = atomic_load_explicit(&heap.sweepgen, memory_order_acquire);
    uint32_t ssg = atomic_load_explicit(&s->sweepgen, memory_order_relaxed);
    if (ssg != sg + 3)
        throw_addr("mcentral_uncache_span: span was not cached in this sweep cycle", (void *)s->start);
    atomic_store_explicit(&s->sweepgen, sg, memory_order_release);
    lock_acquire(&c->lock);
    if (atomic_load_explicit(&s->alloc_count, memory_order_relaxed) < s->nelems)
        span_list_push(&c->partial[sweep_swept_index(sg)], s);
    else
        span_list_push(&c->full[sweep_swept_index(sg)], s);
    lock_release(&c->lock);
}

void mcentral_add_large(mcentral *c, span *s)
{
    uint32_t sg = atomic_load_explicit(&heap.sweepgen, memory_order_acquire);
    lock_acquire(&c->lock);
    span_list_push(&c->full[sweep_swept_index(sg)], s);
    lock_release(&c->lock);
}

void mcentral_fork_adopt_orphans(const struct mcache *keep)
{
    uint32_t sg = atomic_load_explicit(&heap.sweepgen, memory_order_acquire);
    size_t n;
    span *const *all = allspans_begin_read(&n);
    for (size_t k = 0; k < n; k++) {
        span *s = all[k];
        if (atomic_load_explicit(&s->state, memory_order_acquire) != SPAN_IN_USE || s->list != NULL)
            continue;
        if (keep != NULL && atomic_load_explicit(&keep->alloc[s->spanclass], memory_order_relaxed) == s)
            continue;
        /* Taken but not yet cached or listed: swept (h) or cached (h + 3)
         * in this sweep cycle, since no sweep runs across a fork. */
        atomic_store(&s->alloc_count, (uint16_t)span_count_allocated(s));
        atomic_store(&s->freeindex_for_scan, s->freeindex);
        atomic_store_explicit(&s->sweepgen, sg, memory_order_release);
        mcentral *c = &central[s->spanclass];
        if (atomic_load(&s->alloc_count) < s->nelems && !span_is_large(s))
            span_list_push(&c->partial[sweep_swept_index(sg)], s);
        else
            span_list_push(&c->full[sweep_swept_index(sg)], s);
    }
    allspans_end_read();
}
