/*
 * mcache.h -- the per-thread allocation cache (Go's mcache) and the
 * allocation fast path's state.  See mcache.c and malloc.c.
 */
#ifndef TC_HEAP_MCACHE_H
#define TC_HEAP_MCACHE_H

#include <stdatomic.h>

#include "span.h"

typedef struct mcache {
    /* One span per span class, owned by this cache's thread (relaxed
     * loads on the fast path; release stores when a span is installed, so
     * tc_read_stats sees its alloc_count_before_cache).  Classes with
     * nothing cached point at empty_span, which has no free slot, so the
     * fast path needs no "is there a span?" test. */
    _Atomic(span *) alloc[NUM_SPAN_CLASSES];
    /* Allocation counters, as Go keeps them: objects are counted per span
     * when the span leaves the cache (alloc_count - alloc_count_before_cache),
     * large objects one by one.  Owner writes (relaxed).  A reader adds the
     * in-flight counts of the cached spans; stats_seq is odd while the
     * owner moves a span's count into these fields, so the reader retries
     * instead of counting it twice (a seqlock). */
    _Atomic uint32_t stats_seq;
    _Atomic uint64_t mallocs;
    _Atomic uint64_t alloc_bytes;
    /* > 0 while the owner runs runtime code that must not be suspended by
     * the collector's signal (it leaves per-thread or per-span state half
     * updated, or calls out of NOPREEMPT_TEXT doing so).  Owner only, read
     * by its own signal handler. */
    int nopreempt;
} mcache;

/* Reports bytes taken into use (> 0: a span cached, a large object) or
 * given back unused (< 0: a span uncached) to the collector, which keeps
 * heap_live, assists and triggers cycles.  Set by gc_init. */
extern void (*heap_alloc_hook)(int64_t bytes);

static inline span *mcache_span(mcache *c, spanclass_t sc)
{
    return atomic_load_explicit(&c->alloc[sc], memory_order_relaxed);
}

/* The sentinel span: nelems = 0, alloc_cache = 0. */
extern span empty_span;

/* The cache of threads that are not attached: every class points at
 * empty_span, and the slow path reports the misuse. */
extern mcache mcache_unattached;

/* The calling thread's cache (initial-exec TLS); &mcache_unattached when
 * the thread is not attached. */
extern __thread mcache *tls_mcache __attribute__((tls_model("initial-exec")));

void mcache_init(mcache *c);
/* Replaces the cached span of class sc (full) by one with a free slot.
 * Returns -1 when memory cannot be had. */
int  mcache_refill(mcache *c, spanclass_t sc);
/* Gives every cached span back to its mcentral (thread detach). */
void mcache_release_all(mcache *c);

/* Adds objects and bytes to the cache's counters.  Owner only. */
static inline void mcache_count(mcache *c, uint64_t objects, uint64_t bytes)
{
    atomic_store_explicit(&c->mallocs,
                          atomic_load_explicit(&c->mallocs, memory_order_relaxed) + objects,
                          memory_order_relaxed);
    atomic_store_explicit(&c->alloc_bytes,
                          atomic_load_explicit(&c->alloc_bytes, memory_order_relaxed) + bytes,
                          memory_order_relaxed);
}

/* Reads the objects and bytes allocated through c so far, including the
 * spans it caches now.  Any thread; consistent for c. */
void mcache_read_counts(mcache *c, uint64_t *objects, uint64_t *bytes);

#endif
