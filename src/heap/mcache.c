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
mcache mcache_unattached = { .alloc = { [0 ... NUM_SPAN_CLASSES - 1] = &empty_span } };
__thread mcache *tls_mcache __attribute__((tls_model("initial-exec"))) = &mcache_unattached;

void mcache_init(mcache *c)
{
    memset(c, 0, sizeof *c);
    for (unsigned i = 0; i < NUM_SPAN_CLASSES; i++)
        c->alloc[i] = &empty_span;
}

int mcache_refill(mcache *c, spanclass_t sc)
{
    span *old = c->alloc[sc];
    if (old != &empty_span)
        mcentral_uncache_span(&central[sc], old);
    c->alloc[sc] = &empty_span;
    span *s = mcentral_cache_span(&central[sc]);
    if (s == NULL)
        return -1;
    c->alloc[sc] = s;
    return 0;
}

void mcache_release_all(mcache *c)
{
    for (unsigned i = 0; i < NUM_SPAN_CLASSES; i++) {
        if (c->alloc[i] != &empty_span)
            mcentral_uncache_span(&central[i], c->alloc[i]);
        c->alloc[i] = &empty_span;
    }
}
