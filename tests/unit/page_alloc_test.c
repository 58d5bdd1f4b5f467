/*
 * page_alloc_test.c -- the page allocator (src/heap/page_alloc.c) and the
 * page heap's use of it (heap_alloc_span / heap_free_span).
 *
 * Properties checked:
 *  - first fit by address: every run handed out is the lowest free run
 *    that is long enough (an oracle computed from the per-page bitmaps via
 *    page_alloc_is_free, and in the randomized test an independent
 *    byte-per-page model of the heap);
 *  - freed neighbours coalesce into one run that a larger request reuses;
 *  - runs that cross 4 MiB chunk and 64 MiB arena boundaries;
 *  - released ("scavenged") bookkeeping: fresh pages count as released,
 *    reused pages do not, page_alloc_scavenge releases the highest free
 *    backed pages, they read as zero afterwards, and the counters of
 *    page_alloc_read_stats agree;
 *  - impossible requests fail cleanly;
 *  - page_alloc_verify() and heap_verify() report no inconsistency.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <tricolor.h>

#include "heap/arena.h"
#include "heap/heap_verify.h"
#include "heap/page_alloc.h"
#include "heap/page_heap.h"
#include "sys/sys.h"
#include "test.h"

#define PG ((uintptr_t)PAGE_SIZE)
#define LARGE_NOSCAN make_spanclass(0, 1)

/* ---- helpers: the allocator under the heap lock -------------------------- */

static uintptr_t pa_alloc(size_t npages, size_t *scav)
{
    size_t dummy;
    lock_acquire(&heap.lock);
    uintptr_t p = page_alloc_alloc(npages, scav ? scav : &dummy);
    lock_release(&heap.lock);
    return p;
}

static void pa_free(uintptr_t base, size_t npages)
{
    lock_acquire(&heap.lock);
    page_alloc_free(base, npages);
    lock_release(&heap.lock);
}

static size_t pa_verify(void)
{
    lock_acquire(&heap.lock);
    size_t bad = page_alloc_verify();
    lock_release(&heap.lock);
    return bad;
}

static size_t pa_scavenge(size_t max)
{
    lock_acquire(&heap.lock);
    size_t n = page_alloc_scavenge(max);
    lock_release(&heap.lock);
    return n;
}

static page_alloc_stats pa_stats(void)
{
    lock_acquire(&heap.lock);
    page_alloc_stats st = page_alloc_read_stats();
    lock_release(&heap.lock);
    return st;
}

static bool pa_is_free(uintptr_t a)
{
    lock_acquire(&heap.lock);
    bool f = page_alloc_is_free(a);
    lock_release(&heap.lock);
    return f;
}

static bool pa_is_scav(uintptr_t a)
{
    lock_acquire(&heap.lock);
    bool f = page_alloc_is_scavenged(a);
    lock_release(&heap.lock);
    return f;
}

/* Adds fresh arenas of at least `bytes` to the heap; returns their base. */
static uintptr_t grow_heap(size_t bytes)
{
    size_t grown = 0;
    lock_acquire(&heap.lock);
    uintptr_t base = arena_grow(bytes, &grown);
    if (base != 0 && page_alloc_grow(base, grown) != 0)
        base = 0;
    lock_release(&heap.lock);
    return base;
}

/* Makes the heap hold at least `bytes` in total. */
static void ensure_heap(size_t bytes)
{
    page_alloc_stats st = pa_stats();
    size_t have = st.total_pages * PAGE_SIZE;
    if (have < bytes)
        REQUIRE(grow_heap(bytes - have) != 0);
}

static int cmp_uptr(const void *a, const void *b)
{
    uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
    return x < y ? -1 : x > y;
}

/* The arena bases in address order (malloc'd; caller frees). */
static uintptr_t *sorted_arenas(size_t *n)
{
    lock_acquire(&heap.lock);
    arena *const *list = arena_list(n);
    uintptr_t *b = malloc((*n ? *n : 1) * sizeof *b);
    REQUIRE(b != NULL);
    for (size_t i = 0; i < *n; i++)
        b[i] = list[i]->base;
    lock_release(&heap.lock);
    qsort(b, *n, sizeof *b, cmp_uptr);
    return b;
}

/* Oracle: the lowest run of npages free pages according to the per-page
 * bitmaps (page_alloc_is_free), never crossing a gap between arenas; 0 if
 * there is none.  Independent of the summary tree that alloc searches. */
static uintptr_t oracle_first_fit(size_t npages)
{
    size_t nar;
    uintptr_t *b = sorted_arenas(&nar);
    uintptr_t found = 0, start = 0;
    size_t run = 0;
    lock_acquire(&heap.lock);
    for (size_t k = 0; k < nar && !found; k++) {
        if (k == 0 || b[k] != b[k - 1] + ARENA_SIZE)
            run = 0;
        for (size_t p = 0; p < PAGES_PER_ARENA; p++) {
            uintptr_t a = b[k] + p * PG;
            if (!page_alloc_is_free(a)) {
                run = 0;
                continue;
            }
            if (run == 0)
                start = a;
            if (++run == npages) {
                found = start;
                break;
            }
        }
    }
    lock_release(&heap.lock);
    free(b);
    return found;
}

/* Whether every page of [base, base + n pages) is in use (want_free = 0)
 * or free (1). */
static bool run_is(uintptr_t base, size_t n, bool want_free)
{
    for (size_t i = 0; i < n; i++)
        if (pa_is_free(base + i * PG) != want_free)
            return false;
    return true;
}

/* Allocates through the page allocator and checks the result against the
 * oracle and the bitmaps. */
static uintptr_t alloc_checked(size_t n, size_t *scav)
{
    uintptr_t want = oracle_first_fit(n);
    uintptr_t got = pa_alloc(n, scav);
    EXPECT_EQ(got, want);
    if (got != 0)
        EXPECT(run_is(got, n, false));
    return got;
}

/* The same through the page heap: a span whose start the oracle predicts
 * (when some free run fits; otherwise the heap grows and only success is
 * required). */
static span *span_checked(size_t n)
{
    uintptr_t want = oracle_first_fit(n);
    span *s = heap_alloc_span(n, LARGE_NOSCAN);
    EXPECT(s != NULL);
    if (s != NULL && want != 0)
        EXPECT_EQ(s->start, want);
    return s;
}

static void require_all_free(void)
{
    page_alloc_stats st = pa_stats();
    REQUIRE(st.inuse_pages == 0);
}

/* ---- first fit ----------------------------------------------------------- */

static void first_fit_by_address(void)
{
    ensure_heap(ARENA_SIZE);
    require_all_free();
    uintptr_t lowest = oracle_first_fit(1);
    REQUIRE(lowest != 0);

    span *a = heap_alloc_span(10, LARGE_NOSCAN);
    span *b = heap_alloc_span(20, LARGE_NOSCAN);
    span *c = heap_alloc_span(30, LARGE_NOSCAN);
    REQUIRE(a && b && c);
    EXPECT_EQ(a->start, lowest);
    EXPECT_EQ(b->start, a->start + 10 * PG);
    EXPECT_EQ(c->start, b->start + 20 * PG);
    uintptr_t bstart = b->start;

    heap_free_span(b);
    EXPECT(run_is(bstart, 20, true));
    EXPECT_EQ(oracle_first_fit(20), bstart);

    /* Larger than B's hole: goes after C. */
    span *d = heap_alloc_span(25, LARGE_NOSCAN);
    REQUIRE(d != NULL);
    EXPECT_EQ(d->start, c->start + 30 * PG);
    /* Smaller: B's hole, from its start. */
    span *e = heap_alloc_span(15, LARGE_NOSCAN);
    REQUIRE(e != NULL);
    EXPECT_EQ(e->start, bstart);
    /* The rest of the hole. */
    span *f = heap_alloc_span(5, LARGE_NOSCAN);
    REQUIRE(f != NULL);
    EXPECT_EQ(f->start, bstart + 15 * PG);
    /* The hole is full: the next single page comes after D. */
    span *g = heap_alloc_span(1, LARGE_NOSCAN);
    REQUIRE(g != NULL);
    EXPECT_EQ(g->start, d->start + 25 * PG);
    /* Exactly B's size fits exactly B's hole again. */
    heap_free_span(e);
    heap_free_span(f);
    span *h = heap_alloc_span(20, LARGE_NOSCAN);
    REQUIRE(h != NULL);
    EXPECT_EQ(h->start, bstart);

    EXPECT_EQ(pa_verify(), 0);
    EXPECT_EQ(heap_verify(NULL), 0);
    heap_free_span(a);
    heap_free_span(c);
    heap_free_span(d);
    heap_free_span(g);
    heap_free_span(h);
    EXPECT_EQ(pa_stats().inuse_pages, 0);
    EXPECT_EQ(heap_verify(NULL), 0);
}

/* First fit over a pattern of holes of every size 1..40, via the direct
 * interface: each request must take the lowest hole that fits. */
static void first_fit_holes(void)
{
    ensure_heap(ARENA_SIZE);
    require_all_free();
    enum { N = 40 };
    uintptr_t hole[N + 1], sep[N + 1];
    for (size_t n = N; n >= 1; n--) {
        hole[n] = alloc_checked(n, NULL);
        sep[n] = alloc_checked(1, NULL);
        REQUIRE(hole[n] != 0 && sep[n] != 0);
    }
    for (size_t n = 1; n <= N; n++)
        pa_free(hole[n], n);
    EXPECT_EQ(pa_verify(), 0);
    /* Holes lie in decreasing size by address: a request of k pages must
     * take the hole of size N (the lowest) first, then N - 1, ... as long
     * as they fit. */
    uintptr_t got[N + 1];
    for (size_t n = N; n >= 1; n--) {
        got[n] = alloc_checked(n, NULL);
        EXPECT_EQ(got[n], hole[n]);
    }
    for (size_t n = 1; n <= N; n++) {
        pa_free(got[n], n);
        pa_free(sep[n], 1);
    }
    EXPECT_EQ(pa_verify(), 0);
    /* Small requests into holes sized 40, 39, ...: 7 pages fit in the
     * first hole five times (35 pages), the sixth goes to the next hole. */
    for (size_t n = N; n >= 1; n--) {
        hole[n] = alloc_checked(n, NULL);
        sep[n] = alloc_checked(1, NULL);
    }
    for (size_t n = 1; n <= N; n++)
        pa_free(hole[n], n);
    uintptr_t seven[6];
    for (int i = 0; i < 6; i++)
        seven[i] = alloc_checked(7, NULL);
    for (int i = 0; i < 5; i++)
        EXPECT_EQ(seven[i], hole[N] + (uintptr_t)i * 7 * PG);
    EXPECT_EQ(seven[5], hole[N - 1]);
    for (int i = 0; i < 6; i++)
        pa_free(seven[i], 7);
    for (size_t n = 1; n <= N; n++)
        pa_free(sep[n], 1);
    EXPECT_EQ(pa_stats().inuse_pages, 0);
    EXPECT_EQ(pa_verify(), 0);
    EXPECT_EQ(heap_verify(NULL), 0);
}

