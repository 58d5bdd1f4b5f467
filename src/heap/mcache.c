/*
 * mcache.c -- per-thread span caches (Go's mcache).
 *
 * Design: a thread allocates from the span it caches for the object's span
 * class without any lock (malloc.c).  When that span is full, refill gives
 * it back to the class's mcentral and takes another with free slots.  On
 * detach every span goes back.  Every class starts at empty_span, whose
 * alloc_cache is 0, so the first allocation of a class falls into the slow
 * path without a separate test (mimalloc's empty page).
 *
 * Invariants: c->alloc[sc] is empty_span or a span of class sc with
 * sweepgen = heap.sweepgen + 3, on no mcentral list.
 * Ownership: a cache belongs to its thread; only the counters are read by
 * others.
 */
#include "mcache.h"

#include <string.h>

#include "mcentral.h"

span empty_span;
void (*heap_alloc_hook)(int64_t bytes);

static void report_alloc(int64_t bytes)
{
    if (heap_alloc_hook != NULL && bytes != 0)
        heap_alloc_hook(bytes);
}

/* Bytes of a span's slots not yet handed out. */
static int64_t span_unused_bytes(const span *s)
{
    return ((int64_t)s->nelems - atomic_load_explicit(&s->alloc_count, memory_order_relaxed)) *
           (int64_t)s->elemsize;
}
mcache mcache_unattached = { .alloc = { [0 ... NUM_SPAN_CLASSES - 1] = &empty_span } };
__thread mcache *tls_mcache __attribute__((tls_model("initial-exec"))) = &mcache_unattached;

void mcache_init(mcache *c)
{
    memset(c, 0, sizeof *c);
    for (unsigned i = 0; i < NUM_SPAN_CLASSES; i++)
        atomic_store_explicit(&c->alloc[i], &empty_span, memory_order_relaxed);
}

/* Takes the cached span of class sc out of the cache, moving its
 * allocation count into the cache's counters inside a seqlock write. */
static span *mcache_take(mcache *c, spanclass_t sc)
{
    span *s = mcache_span(c, sc);
    if (s == &empty_span)
        return NULL;
    uint32_t seq = atomic_load_explicit(&c->stats_seq, memory_order_relaxed);
    atomic_store_explicit(&c->stats_seq, seq + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    uint64_t n = (uint64_t)atomic_load_explicit(&s->alloc_count, memory_order_relaxed) -
                 atomic_load_explicit(&s->alloc_count_before_cache, memory_order_relaxed);
    mcache_count(c, n, n * s->elemsize);
    atomic_store_explicit(&c->alloc[sc], &empty_span, memory_order_relaxed);
    atomic_store_explicit(&c->stats_seq, seq + 2, memory_order_release);
    return s;
}

int mcache_refill(mcache *c, spanclass_t sc)
{
    span *old = mcache_take(c, sc);
    if (old != NULL) {
        report_alloc(-span_unused_bytes(old));
        mcentral_uncache_span(&central[sc], old);
    }
    span *s = mcentral_cache_span(&central[sc]);
    if (s == NULL)
        return -1;
    if (s->needzero)
        span_zero_free(s);
    atomic_store_explicit(&c->alloc[sc], s, memory_order_release);
    report_alloc(span_unused_bytes(s)); /* may assist or start a cycle */
    return 0;
}

void mcache_release_all(mcache *c)
{
    for (unsigned i = 0; i < NUM_SPAN_CLASSES; i++) {
        span *s = mcache_take(c, (spanclass_t)i);
        if (s != NULL) {
            report_alloc(-span_unused_bytes(s));
            mcentral_uncache_span(&central[i], s);
        }
    }
}

void mcache_read_counts(mcache *c, uint64_t *objects, uint64_t *bytes)
{
    for (;;) {
        uint32_t seq = atomic_load_explicit(&c->stats_seq, memory_order_acquire);
        if (seq & 1)
            continue;
        uint64_t n = atomic_load_explicit(&c->mallocs, memory_order_relaxed);
        uint64_t b = atomic_load_explicit(&c->alloc_bytes, memory_order_relaxed);
        for (unsigned i = 0; i < NUM_SPAN_CLASSES; i++) {
            span *s = atomic_load_explicit(&c->alloc[i], memory_order_acquire);
            if (s == &empty_span)
                continue;
            uint64_t d = (uint64_t)atomic_load_explicit(&s->alloc_count, memory_order_relaxed) -
                         atomic_load_explicit(&s->alloc_count_before_cache, memory_order_relaxed);
            n += d;
            b += d * s->elemsize;
        }
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&c->stats_seq, memory_order_relaxed) == seq) {
            *objects = n;
            *bytes = b;
            return;
        }
    }
}
