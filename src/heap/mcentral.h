/*
 * mcentral.h -- the central span lists of one span class, shared by all
 * threads.  See mcentral.c.
 */
#ifndef TC_HEAP_MCENTRAL_H
#define TC_HEAP_MCENTRAL_H

#include "../base/lock.h"
#include "span.h"

typedef struct span_list {
    span *first;
    size_t n;
} span_list;

typedef struct mcentral {
    lock_t lock;              /* rank LOCK_RANK_MCENTRAL: guards the lists */
    spanclass_t spanclass;    /* constant */
    /* Indexed by sweep parity (sweepgen / 2 % 2): one pair holds swept
     * spans, the other spans still to sweep this cycle; the roles swap
     * when heap.sweepgen grows by 2. */
    span_list partial[2];     /* spans with at least one free slot */
    span_list full[2];        /* spans with none (and every large span) */
} __attribute__((aligned(64))) mcentral;

extern mcentral central[NUM_SPAN_CLASSES];

void mcentral_init_all(void);

/* Lazy sweeping, installed by the collector: sweeps unswept spans of c
 * until one has a free slot and returns it (swept, owned by the caller),
 * or NULL after a bounded number of spans. */
extern span *(*mcentral_sweep_hook)(mcentral *c);

/* A span of this class with a free slot, now owned by the caller (marked
 * cached, sweepgen = h + 3), with alloc_cache ready at freeindex; NULL
 * when memory cannot be had. */
span *mcentral_cache_span(mcentral *c);

/* Gives a cached span back: onto partial or full by whether it has room. */
void mcentral_uncache_span(mcentral *c, span *s);

/* Lists a newly allocated large span so that the sweeper will find it. */
void mcentral_add_large(mcentral *c, span *s);

/* fork() child, single-threaded: an in-use span that is on no list and in
 * no cache (`keep`, the surviving thread's, may be NULL) belonged to a
 * thread that was between taking it and caching or listing it when the
 * parent forked.  Each such span is made consistent and put on its swept
 * list: left out, it would never be swept again, and its mark bits, which
 * sweeping renews each cycle, would outlive their epoch and alias another
 * span's. */
struct mcache;
void mcentral_fork_adopt_orphans(const struct mcache *keep);

static inline unsigned sweep_swept_index(uint32_t sg) { return (sg / 2) % 2; }
static inline unsigned sweep_unswept_index(uint32_t sg) { return 1 - (sg / 2) % 2; }

void span_list_push(span_list *l, span *s);
void span_list_remove(span_list *l, span *s);

#endif
