/*
 * page_heap.h -- the heap (Go's mheap): spans carved from pages, heap
 * growth, the heap lock and the all-spans list.  See page_heap.c.
 */
#ifndef TC_HEAP_PAGE_HEAP_H
#define TC_HEAP_PAGE_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/lock.h"
#include "../offheap/fixalloc.h"
#include "span.h"

#define ALLSPANS_MIN_BYTES (64 * 1024)
#define ALLSPANS_MAX_RETIRED 64

typedef struct heap {
    /* The heap lock, rank LOCK_RANK_HEAP: guards the page allocator, arena
     * growth, span setup and teardown, and everything in this struct not
     * marked otherwise. */
    lock_t lock;
    fixalloc spanalloc;       /* span records; zero = false (keeps sweepgen) */

    /* Every span record ever handed out by spanalloc, exactly once.  Grows
     * by 3/2 from ALLSPANS_MIN_BYTES; an outgrown array is freed only when
     * no reader (allspans_readers) may still be iterating it. */
    span **allspans;
    size_t nspans, allspans_cap;
    int allspans_readers;
    struct { span **array; size_t cap; } retired[ALLSPANS_MAX_RETIRED];
    int nretired;

    /* Pages for small-object spans (at most 10 pages each), taken from the
     * page allocator PAGE_CACHE_PAGES at a time so that its summaries are
     * updated once per block rather than once per span. */
    page_cache pcache;

    uint64_t physical_memory; /* constant after heap_init: no span may be larger */

    /* Sweep generation: grows by 2 each cycle, with the world stopped. */
    _Atomic uint32_t sweepgen;

    /* Pages of in-use spans (the page cache's free pages excluded):
     * changed under the heap lock, read lock-free by the memory limit's
     * pacing (atomic, relaxed). */
    _Atomic uint64_t span_pages;

    /* Nonzero from a cycle's mark termination until its sweep is done (set
     * and cleared by the collector, gc/memlimit.c; relaxed). */
    _Atomic int sweep_pending;

} heap_t;

extern heap_t heap;

/* Installed by the collector: sweeps unswept spans until about npages
 * pages went back to the page heap (or none is left to sweep); returns the
 * pages freed.  Called without the heap lock before the heap grows, as
 * Go's mheap.reclaim. */
extern size_t (*heap_reclaim_hook)(size_t npages);

int  heap_init(void);      /* TC_ENOMEM */
void heap_free_all(void);  /* tc_shutdown */

/* A new in-use span of npages pages and span class sc, with the heap lock
 * taken inside; NULL when memory cannot be had.  s->needzero says whether
 * its memory may hold garbage. */
span *heap_alloc_span(size_t npages, spanclass_t sc);

/* Returns a span's pages to the page allocator and its record to spanalloc. */
void heap_free_span(span *s);

/* All-spans readers: between begin and end, the array returned stays
 * valid; spans appended later are not in it.  Takes the heap lock briefly. */
span *const *allspans_begin_read(size_t *n);
void allspans_end_read(void);

/* Heap-lock-free snapshots of page counts (taken under the lock). */
page_alloc_stats heap_page_stats(void);

#endif
