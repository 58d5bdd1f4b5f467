/*
 * page_heap.c -- the heap: from pages to spans.
 *
 * Design (Go's mheap):
 *  - heap_alloc_span asks the page allocator for npages contiguous free
 *    pages; when none is free it grows the heap by whole arenas
 *    (arena_grow) and hands the new pages to the page allocator as free
 *    and zero.  The span record comes from spanalloc, is set up, entered in
 *    the page -> span map of every page it covers and published by storing
 *    state = SPAN_IN_USE with release order.
 *  - Small-object spans (at most 10 pages) are cut from a page cache, an
 *    aligned block of PAGE_CACHE_PAGES pages taken from the page allocator
 *    at once, as Go's per-P page cache: the allocator's bitmaps and
 *    summaries are then updated once per block instead of once per span.
 *    Large spans come from the allocator directly, first fit.
 *  - needzero comes from the page allocator: a span whose pages were all
 *    returned to the OS (or never used) reads as zero and is not cleared.
 *    A span that took released pages while memory_total is over the
 *    memory limit makes its thread release as much (scavenge.c), after
 *    the heap lock is dropped.
 *  - The all-spans list (seeds 000, 001) records each span record exactly
 *    once, when spanalloc first hands it out (allspans_record, the
 *    fixalloc first-use hook).  The array lives outside the GC heap and is
 *    never scanned; it grows by 3/2 from ALLSPANS_MIN_BYTES.  Readers that
 *    iterate it without the heap lock (sweepers, the heap walker) register
 *    with allspans_begin_read, and an outgrown array is kept until the last
 *    of them leaves.  Capacity is ensured *before* a record is allocated,
 *    so the hook itself cannot fail.
 *
 * Invariants:
 *  - sum of npages over in-use spans in allspans + pages in the page
 *    cache = page allocator's inuse_pages (heap_verify checks it);
 *  - a page maps to a span iff it belongs to an in-use span.
 * Locking: the heap lock, rank LOCK_RANK_HEAP, taken with no mcentral lock
 * held (mcentral_grow releases its own first); takes fixalloc and
 * persistent locks inside.
 */
#include "page_heap.h"

#include <string.h>

#include "../base/nopreempt.h"
#include "../base/throw.h"
#include "../sys/sys.h"
#include "scavenge.h"
#include "tricolor.h"

NOGC_DATA heap_t heap = { .lock = LOCK_INIT(LOCK_RANK_HEAP) };
size_t (*heap_reclaim_hook)(size_t npages);

static void allspans_record(void *arg, void *rec)
{
    (void)arg;
    /* Under the heap lock (spanalloc is only used with it held), with
     * capacity ensured by allspans_reserve. */
    CHECK(heap.nspans < heap.allspans_cap);
    heap.allspans[heap.nspans++] = rec;
}

static void allspans_free_retired(void)
{
    for (int i = 0; i < heap.nretired; i++)
        sys_free(heap.retired[i].array, heap.retired[i].cap * sizeof(span *), MEMSTAT_OTHER);
    heap.nretired = 0;
}

/* Makes room for one more record.  Under the heap lock. */
static int allspans_reserve(void)
{
    if (heap.nspans < heap.allspans_cap)
        return 0;
    if (heap.nretired == ALLSPANS_MAX_RETIRED)
        return -1;
    size_t cap = heap.allspans_cap * 3 / 2;
    if (cap < ALLSPANS_MIN_BYTES / sizeof(span *))
        cap = ALLSPANS_MIN_BYTES / sizeof(span *);
    cap = align_up(cap * sizeof(span *), SYS_PAGE_SIZE) / sizeof(span *);
    span **n = sys_alloc(cap * sizeof(span *), MEMSTAT_OTHER);
    if (n == NULL)
        return -1;
    if (heap.nspans > 0)
        memcpy(n, heap.allspans, heap.nspans * sizeof(span *));
    if (heap.allspans != NULL) {
        heap.retired[heap.nretired].array = heap.allspans;
        heap.retired[heap.nretired].cap = heap.allspans_cap;
        heap.nretired++;
        if (heap.allspans_readers == 0)
            allspans_free_retired();
    }
    heap.allspans = n;
    heap.allspans_cap = cap;
    return 0;
}

span *const *allspans_begin_read(size_t *n)
{
    lock_acquire(&heap.lock);
    heap.allspans_readers++;
    span *const *a = heap.allspans;
    *n = heap.nspans;
    lock_release(&heap.lock);
    return a;
}

void allspans_end_read(void)
{
    lock_acquire(&heap.lock);
    CHECK(heap.allspans_readers > 0);
    if (--heap.allspans_readers == 0)
        allspans_free_retired();
    lock_release(&heap.lock);
}

int heap_init(void)
{
    memset(&heap, 0, sizeof heap);
    lock_init(&heap.lock, LOCK_RANK_HEAP);
    fixalloc_init(&heap.spanalloc, sizeof(span), false, MEMSTAT_OTHER, allspans_record, NULL);
    heap.physical_memory = sys_physical_memory();
    scavenge_init();
    return page_alloc_init();
}

void heap_free_all(void)
{
    page_alloc_free_all();
    arena_free_all();
    allspans_free_retired();
    if (heap.allspans != NULL)
        sys_free(heap.allspans, heap.allspans_cap * sizeof(span *), MEMSTAT_OTHER);
    memset(&heap, 0, sizeof heap);
    lock_init(&heap.lock, LOCK_RANK_HEAP);
}

/* Adds at least npages pages to the page allocator.  Under the heap lock. */
static bool heap_grow(size_t npages)
{
    size_t grown = 0;
    uintptr_t base = arena_grow(npages << PAGE_SHIFT, &grown);
    if (base == 0)
        return false;
    /* arena_grow committed the summaries: this cannot fail. */
    CHECK(page_alloc_grow(base, grown) == 0);
    return true;
}

/* Pages for a small-object span from the page cache, refilling it when it
 * is empty.  0 when the cache cannot serve the request (the caller falls
 * back to the page allocator).  Under the heap lock. */
static uintptr_t heap_alloc_pages_cached(size_t npages, size_t *scav)
{
    uintptr_t base = page_cache_alloc(&heap.pcache, npages, scav);
    if (base != 0 || heap.pcache.free != 0)
        return base;
    if (!page_alloc_to_cache(&heap.pcache) && (!heap_grow(1) || !page_alloc_to_cache(&heap.pcache)))
        return 0;
    return page_cache_alloc(&heap.pcache, npages, scav);
}

static void span_map_pages(span *s, span *value)
{
    for (size_t i = 0; i < s->npages; i++) {
        uintptr_t p = s->start + (i << PAGE_SHIFT);
        atomic_store_explicit(&arena_of(p)->spans[arena_page_index(p)], value, memory_order_release);
    }
    arena *a = arena_of(s->start);
    size_t first = arena_page_index(s->start);
    if (value != NULL)
        bit_set(a->page_in_use, first);
    else
        bit_clear(a->page_in_use, first);
}

span *heap_alloc_span(size_t npages, spanclass_t sc)
{
    /* A span larger than the machine's memory could never be backed (the
     * heap is mapped without commit charge, so the kernel would not say
     * no): refuse it rather than spend seconds filling its page map. */
    uint64_t ram = heap.physical_memory;
    if (npages == 0 || npages > ((size_t)1 << (HEAP_ADDR_BITS - PAGE_SHIFT - 1)) ||
        (ram != 0 && (uint64_t)npages > ram >> PAGE_SHIFT))
        return NULL;
    /* Under a memory limit, while the last cycle's garbage is not swept,
     * sweep enough of it first: otherwise the heap would take released
     * pages (growing memory_total) while dead objects still hold backed
     * ones (Go's mheap.alloc reclaims first whenever sweeping is
     * unfinished). */
    if (heap_reclaim_hook != NULL && atomic_load_explicit(&heap.sweep_pending, memory_order_relaxed) &&
        atomic_load_explicit(&heap_scav.limit, memory_order_relaxed) > 0)
        heap_reclaim_hook(npages);
    lock_acquire(&heap.lock);
    size_t scav;
    uintptr_t base = spanclass_sizeclass(sc) != 0 ? heap_alloc_pages_cached(npages, &scav) : 0;
    if (base == 0)
        base = page_alloc_alloc(npages, &scav);
    if (base == 0 && heap_reclaim_hook != NULL) {
        /* Garbage that is not swept yet may hold the pages: sweep first. */
        lock_release(&heap.lock);
        size_t freed = heap_reclaim_hook(npages);
        lock_acquire(&heap.lock);
        if (freed > 0)
            base = page_alloc_alloc(npages, &scav);
    }
    if (base == 0) {
        if (!heap_grow(npages) || (base = page_alloc_alloc(npages, &scav)) == 0) {
            lock_release(&heap.lock);
            return NULL;
        }
    }
    span *s = NULL;
    if (allspans_reserve() == 0)
        s = fixalloc_alloc(&heap.spanalloc);
    if (s == NULL || span_init(s, base, npages, sc, scav != npages) != 0) {
        if (s != NULL)
            fixalloc_free(&heap.spanalloc, s);
        page_alloc_free(base, npages);
        lock_release(&heap.lock);
        return NULL;
    }
    if (scav > 0)
        sys_used((void *)base, npages << PAGE_SHIFT);
    atomic_store_explicit(&s->sweepgen, atomic_load(&heap.sweepgen), memory_order_relaxed);
    span_map_pages(s, s);
    atomic_store_explicit(&s->state, SPAN_IN_USE, memory_order_release);
    atomic_fetch_add_explicit(&heap.span_pages, npages, memory_order_relaxed);
    lock_release(&heap.lock);
    if (scav > 0)
        scavenge_on_alloc(scav); /* over the memory limit: give as much back */
    return s;
}

void heap_free_span(span *s)
{
    lock_acquire(&heap.lock);
    CHECK(atomic_load(&s->state) == SPAN_IN_USE);
    atomic_store_explicit(&s->state, SPAN_DEAD, memory_order_release);
    span_map_pages(s, NULL);
    atomic_fetch_sub_explicit(&heap.span_pages, s->npages, memory_order_relaxed);
    page_alloc_free(s->start, s->npages);
    span_release_bits(s);
    fixalloc_free(&heap.spanalloc, s);
    lock_release(&heap.lock);
}

page_alloc_stats heap_page_stats(void)
{
    lock_acquire(&heap.lock);
    page_alloc_stats st = page_alloc_read_stats();
    st.inuse_pages -= popcount64(heap.pcache.free); /* cached pages hold no span */
    st.scav_pages += popcount64(heap.pcache.scav);  /* and those never touched are still released */
    lock_release(&heap.lock);
    return st;
}
