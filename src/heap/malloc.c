/*
 * malloc.c -- allocating objects (Go's mallocgc).
 *
 * Pipeline: size 0 -> zerobase.  Small (<= MAX_SMALL_SIZE): size class and
 * span class (pointer-free objects in noscan spans), then the fast path:
 * the thread's cached span for that class yields its next free slot by a
 * count-trailing-zeros of alloc_cache, with no lock and no atomic
 * read-modify-write.  When the 64-slot window is used up or the span is
 * full, the slow path (malloc_small_slow) advances through the alloc bits or
 * refills from the mcentral, which may grow the heap.  Objects are
 * counted per span when it leaves the cache (mcache.h), not one by one.  Large: a span of its
 * own straight from the heap.
 *
 * Zeroing: memory is zero as the API promises.  A span made from pages the
 * OS zeroed (fresh or released) has needzero = 0 and its slots are handed
 * out as they are; otherwise a small span's free slots are cleared in runs
 * when it enters a cache (mcache_refill), so the fast path finds needzero
 * = 0 and never calls memset per object; a large object is cleared when
 * allocated.
 *
 * Publication: the object's type id is written, then freeindex_for_scan is
 * stored with release order, so a concurrent reader that sees the slot as
 * allocated also sees its type.  The collector will rely on this.
 *
 * Ownership: everything on the fast path belongs to the calling thread.
 */
#include "malloc.h"

#include <string.h>

#include "../base/nopreempt.h"
#include "../base/throw.h"
#include "mcache.h"
#include "mcentral.h"
#include "page_heap.h"
#include "type.h"

char zerobase[16] __attribute__((aligned(16)));

static COLD void malloc_unattached(void)
{
    throw("allocation from a thread that is not attached (call tc_init or tc_thread_attach first)");
}

/* Set by the collector: the post-publication hook (allocate black,
 * stress counting), called when alloc_flags is nonzero.  Must itself be
 * NOPREEMPT_TEXT: between publication and marking, a suspended thread
 * could see its new object swept. */
void (*malloc_post_hook)(span *s, size_t idx);
int alloc_flags;

static inline int post_flags(void)
{
    return __atomic_load_n(&alloc_flags, __ATOMIC_RELAXED);
}

/* The fast path's exit when alloc_flags is set: a tail call, so that the
 * fast path itself stays a leaf. */
static NOPREEMPT_TEXT void *malloc_post(span *s, size_t idx)
{
    malloc_post_hook(s, idx);
    return (void *)span_object_base(s, idx);
}

/* Everything after a slot was taken that is not on the fast path: zeroing
 * dirty memory, creating the span's type-id array.  Returns the object.
 * The fast path has already taken the slot when it tail-calls this, so it
 * must not be suspended before raising c->nopreempt: it is NOPREEMPT_TEXT
 * (a thread stopped in between could see its cached span swept). */
static NOPREEMPT_TEXT void *malloc_small_finish(mcache *c, span *s, size_t idx, uint16_t type_id)
{
    void *p = (void *)span_object_base(s, idx);
    c->nopreempt++;
    if (s->needzero)
        memset(p, 0, s->elemsize);
    if (unlikely(span_set_type_id(s, idx, type_id) != 0))
        p = NULL; /* no memory for the id array: the slot stays used until swept */
    atomic_store_explicit(&s->freeindex_for_scan, s->freeindex, memory_order_release);
    if (post_flags())
        malloc_post_hook(s, idx);
    c->nopreempt--;
    return p;
}

static inline void span_count_alloc(span *s)
{
    atomic_store_explicit(&s->alloc_count,
                          (uint16_t)(atomic_load_explicit(&s->alloc_count, memory_order_relaxed) + 1),
                          memory_order_relaxed);
}

/* The slow half of small allocation: the next free slot of class sc,
 * loading the next 64-slot window or refilling the cache when its span is
 * full.  NULL when out of memory. */
static NOINLINE void *malloc_small_slow(mcache *c, spanclass_t sc, uint16_t type_id)
{
    if (c == &mcache_unattached)
        malloc_unattached();
    tc_safepoint(); /* the cache is consistent here: the collector may flush it */
    c->nopreempt++;
    span *s = mcache_span(c, sc);
    size_t idx = span_next_free_index(s);
    while (idx == s->nelems) {
        /* A refill may wait for the collector, which may flush this cache
         * meanwhile: then it is refilled again. */
        if (mcache_refill(c, sc) != 0) {
            c->nopreempt--;
            return NULL;
        }
        s = mcache_span(c, sc);
        idx = span_next_free_index(s);
    }
    span_count_alloc(s);
    void *p = malloc_small_finish(c, s, idx, type_id);
    c->nopreempt--;
    return p;
}

/* The fast path: a free slot from the cached span's alloc_cache.  The bits
 * past a span's last slot are never free and a window's cache reads 0 once
 * used up, so one test covers "span full", "window used up" and "nothing
 * cached" (empty_span).  Every call out of here is a tail call, so the
 * common case is a leaf that saves no registers. */
static inline __attribute__((always_inline)) void *malloc_small_sc(spanclass_t sc, uint16_t type_id)
{
    mcache *c = tls_mcache;
    span *s = mcache_span(c, sc);
    uint64_t cache = s->alloc_cache;
    if (unlikely(cache == 0))
        return malloc_small_slow(c, sc, type_id);
    unsigned bit = ctz64(cache);
    size_t idx = s->freeindex + bit;
    s->alloc_cache = (cache >> bit) >> 1;
    s->freeindex = (uint16_t)(idx + 1);
    span_count_alloc(s);
    DCHECK(!s->needzero); /* cleared when the span entered the cache (mcache_refill) */
    if (unlikely(atomic_load_explicit(&s->types_mixed, memory_order_relaxed)))
        s->type_ids[idx] = type_id;
    else if (unlikely(type_id != atomic_load_explicit(&s->sole_type_id, memory_order_relaxed)))
        return malloc_small_finish(c, s, idx, type_id); /* a new sole type, or mixed */
    /* Publish, then ask whether to allocate black: a thread interrupted
     * before publishing is scanned with an unpublished slot (ignored) and
     * marks the object itself after publishing. */
    atomic_store_explicit(&s->freeindex_for_scan, (uint16_t)(idx + 1), memory_order_release);
    if (unlikely(post_flags()))
        return malloc_post(s, idx);
    return (void *)span_object_base(s, idx);
}

static inline __attribute__((always_inline)) void *malloc_small(size_t size, uint16_t type_id, bool noscan)
{
    return malloc_small_sc(make_spanclass(size_to_class(size), noscan), type_id);
}

static NOINLINE void *malloc_large(size_t size, const tc_type *t, bool noscan)
{
    mcache *c = tls_mcache;
    if (c == &mcache_unattached)
        malloc_unattached();
    size_t npages = (size + PAGE_SIZE - 1) >> PAGE_SHIFT;
    if (npages < (size >> PAGE_SHIFT)) /* overflow */
        return NULL;
    tc_safepoint();
    /* Charged before the object exists (Go charges assists first): the
     * collector may make this thread wait, and an object nobody points to
     * yet would not survive a cycle starting meanwhile. */
    if (heap_alloc_hook != NULL)
        heap_alloc_hook((int64_t)(npages << PAGE_SHIFT)); /* may assist or start a cycle */
    c->nopreempt++;
    spanclass_t sc = make_spanclass(0, noscan);
    span *s = heap_alloc_span(npages, sc);
    if (s == NULL) {
        c->nopreempt--;
        if (heap_alloc_hook != NULL)
            heap_alloc_hook(-(int64_t)(npages << PAGE_SHIFT));
        return NULL;
    }
    if (s->needzero)
        memset((void *)s->start, 0, s->elemsize);
    s->freeindex = 1;
    atomic_store_explicit(&s->alloc_count, 1, memory_order_relaxed);
    atomic_store_explicit(&s->large_type, t, memory_order_release);
    atomic_store_explicit(&s->freeindex_for_scan, 1, memory_order_release);
    if (post_flags())
        malloc_post_hook(s, 0);
    mcentral_add_large(&central[sc], s);
    mcache_count(c, 1, s->elemsize);
    c->nopreempt--;
    return (void *)s->start;
}

/* size 0 and large objects: everything but the small fast path. */
static NOINLINE void *malloc_other(size_t size, const tc_type *t, bool noscan)
{
    if (size == 0) {
        if (tls_mcache == &mcache_unattached)
            malloc_unattached();
        return zerobase;
    }
    return malloc_large(size, t, noscan);
}

/* Inlined into each entry point, so that constant arguments fold away.
 * size - 1 wraps for size 0, sending it off the fast path with the large
 * sizes in one comparison. */
static inline __attribute__((always_inline)) void *malloc_inline(size_t size, const tc_type *t, bool noscan)
{
    if (likely(size - 1 < MAX_SMALL_SIZE))
        return malloc_small(size, t ? t->id : 0, noscan);
    return malloc_other(size, t, noscan);
}

TC_API NOPREEMPT_TEXT void *tc_alloc(size_t size)
{
    TSAN_NOPREEMPT_ENTER();
    void *p = malloc_inline(size, NULL, false);
    TSAN_NOPREEMPT_EXIT();
    return p;
}

TC_API NOPREEMPT_TEXT void *tc_alloc_noscan(size_t size)
{
    TSAN_NOPREEMPT_ENTER();
    void *p = malloc_inline(size, NULL, true);
    TSAN_NOPREEMPT_EXIT();
    return p;
}

TC_API NOPREEMPT_TEXT void *tc_new(const tc_type *t)
{
    type_check(t, "tc_new");
    TSAN_NOPREEMPT_ENTER();
    /* A small type carries its span class: no size-class lookup. */
    void *p = likely(t->spanclass != 0) ? malloc_small_sc(t->spanclass, t->id)
                                        : malloc_other(t->size, t, type_is_noscan(t));
    TSAN_NOPREEMPT_EXIT();
    return p;
}

TC_API NOPREEMPT_TEXT void *tc_new_array(const tc_type *t, size_t n)
{
    type_check(t, "tc_new_array");
    if (n != 0 && t->size > SIZE_MAX / n)
        return NULL;
    TSAN_NOPREEMPT_ENTER();
    void *p = malloc_inline(t->size * n, t, type_is_noscan(t));
    TSAN_NOPREEMPT_EXIT();
    return p;
}
