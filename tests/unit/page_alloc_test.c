/*
 * page_alloc_test.c -- the page allocator (src/heap/page_alloc.c) and the
 * page heap's use of it (heap_alloc_span / heap_free_span).
 *
 * Properties checked:
 *  - first fit by address, backed pages first: every run handed out is
 *    the lowest run of free backed pages within a chunk that is long
 *    enough, else the lowest free run (an oracle computed from the
 *    per-page bitmaps via page_alloc_is_free and page_alloc_is_scavenged,
 *    and in the randomized test an independent byte-per-page model);
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
#include "heap_oracle.h"

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
 * oracle (first fit, backed pages first) and the bitmaps. */
static uintptr_t alloc_checked(size_t n, size_t *scav)
{
    uintptr_t want = oracle_backed_first_fit(n);
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
    uintptr_t want = oracle_backed_first_fit(n);
    span *s = heap_alloc_span(n, LARGE_NOSCAN);
    EXPECT(s != NULL);
    if (s != NULL && want != 0)
        EXPECT_EQ(s->start, want);
    return s;
}

/* No page in use, and every free page released, so that first fit is
 * pure first fit until the test frees backed pages itself. */
static void require_all_free(void)
{
    page_alloc_stats st = pa_stats();
    REQUIRE(st.inuse_pages == 0);
    pa_scavenge(SIZE_MAX);
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

/* ---- coalescing ---------------------------------------------------------- */

static void coalescing(void)
{
    ensure_heap(ARENA_SIZE);
    require_all_free();
    span *a = span_checked(100);
    span *b = span_checked(200);
    span *c = span_checked(300);
    span *d = span_checked(50);
    REQUIRE(a && b && c && d);
    uintptr_t as = a->start, bs = b->start;
    EXPECT_EQ(bs, as + 100 * PG);
    EXPECT_EQ(c->start, bs + 200 * PG);
    EXPECT_EQ(d->start, bs + 500 * PG);

    /* Free C before B: the two coalesce whichever goes first.  The run
     * crosses the first 4 MiB chunk boundary (page 512 of the arena). */
    heap_free_span(c);
    heap_free_span(b);
    EXPECT(run_is(bs, 500, true));
    EXPECT_EQ(pa_verify(), 0);
    span *e = span_checked(450);
    REQUIRE(e != NULL);
    EXPECT_EQ(e->start, bs);
    heap_free_span(e);
    span *e2 = span_checked(500);
    REQUIRE(e2 != NULL);
    EXPECT_EQ(e2->start, bs);
    heap_free_span(e2);

    /* With A gone too: 600 pages at A's base; 601 do not fit below D. */
    heap_free_span(a);
    span *f = span_checked(600);
    REQUIRE(f != NULL);
    EXPECT_EQ(f->start, as);
    heap_free_span(f);
    span *g = span_checked(601);
    REQUIRE(g != NULL);
    EXPECT(g->start != as);
    heap_free_span(g);

    /* Everything freed: the whole first arena is one run again. */
    heap_free_span(d);
    uintptr_t lowest = oracle_first_fit(1);
    EXPECT(is_aligned(lowest, ARENA_SIZE));
    span *w = span_checked(PAGES_PER_ARENA);
    REQUIRE(w != NULL);
    EXPECT_EQ(w->start, lowest);
    heap_free_span(w);

    /* Single pages freed in a scrambled order coalesce back into one run. */
    enum { K = 700 };
    static uintptr_t pg[K];
    for (size_t i = 0; i < K; i++) {
        pg[i] = pa_alloc(1, NULL);
        REQUIRE(pg[i] == lowest + i * PG);
    }
    for (size_t i = 0; i < K; i++) {
        size_t j = (i * 389) % K; /* 389 is prime to 700: a permutation */
        pa_free(pg[j], 1);
        if (i % 100 == 0)
            EXPECT_EQ(pa_verify(), 0);
    }
    EXPECT_EQ(pa_verify(), 0);
    EXPECT_EQ(alloc_checked(K, NULL), lowest);
    pa_free(lowest, K);

    EXPECT_EQ(pa_stats().inuse_pages, 0);
    EXPECT_EQ(heap_verify(NULL), 0);
}

/* ---- runs crossing chunk and arena boundaries ---------------------------- */

static void cross_boundaries(void)
{
    ensure_heap(4 * ARENA_SIZE);
    require_all_free();
    /* The runs below need three adjacent arenas.  Separate growths are
     * not always adjacent (under AddressSanitizer they never are), but
     * one growth is. */
    if (oracle_first_fit(20000 + 9000 + 900) == 0)
        REQUIRE(grow_heap(4 * ARENA_SIZE) != 0);
    size_t scav;
    uintptr_t p = alloc_checked(300, &scav);
    uintptr_t q = alloc_checked(600, &scav);   /* crosses a 4 MiB chunk boundary */
    uintptr_t r = alloc_checked(9000, &scav);  /* crosses a 64 MiB arena boundary */
    uintptr_t s = alloc_checked(20000, &scav); /* covers more than two arenas */
    REQUIRE(p && q && r && s);
    EXPECT_EQ(pa_verify(), 0);
    uintptr_t lo[4] = {p, q, r, s};
    size_t len[4] = {300, 600, 9000, 20000};
    for (int i = 0; i < 4; i++) {
        EXPECT(run_is(lo[i], len[i], false));
        for (int j = i + 1; j < 4; j++)
            EXPECT(lo[i] + len[i] * PG <= lo[j] || lo[j] + len[j] * PG <= lo[i]);
    }
    EXPECT((q >> CHUNK_SHIFT) != ((q + 600 * PG - 1) >> CHUNK_SHIFT));
    EXPECT((r >> ARENA_SHIFT) != ((r + 9000 * PG - 1) >> ARENA_SHIFT));
    EXPECT(((s + 20000 * PG - 1) >> ARENA_SHIFT) - (s >> ARENA_SHIFT) >= 2);

    /* The chunk-crossing hole: 601 pages do not fit it, 600 do. */
    pa_free(q, 600);
    EXPECT(run_is(q, 600, true));
    EXPECT_EQ(pa_verify(), 0);
    uintptr_t big = alloc_checked(601, NULL);
    EXPECT(big != q);
    uintptr_t q2 = alloc_checked(600, NULL);
    EXPECT_EQ(q2, q);
    pa_free(big, 601);

    /* The arena-crossing hole, refilled by chunk-sized runs (released
     * first, so that plain first fit applies: backed runs would be taken
     * chunk by chunk). */
    pa_free(r, 9000);
    pa_scavenge(SIZE_MAX);
    EXPECT_EQ(pa_verify(), 0);
    bool r_lowest = oracle_first_fit(1) == r;
    uintptr_t pieces[18];
    for (int i = 0; i < 17; i++) {
        pieces[i] = alloc_checked(512, NULL);
        if (r_lowest)
            EXPECT_EQ(pieces[i], r + (uintptr_t)i * 512 * PG);
    }
    pieces[17] = alloc_checked(9000 - 17 * 512, NULL);
    if (r_lowest)
        EXPECT_EQ(pieces[17], r + 17 * 512 * PG);
    EXPECT_EQ(pa_verify(), 0);
    for (int i = 0; i < 17; i++)
        pa_free(pieces[i], 512);
    pa_free(pieces[17], 9000 - 17 * 512);
    EXPECT(run_is(r, 9000, true));

    /* Everything free: whole-arena runs come out arena-aligned, in order. */
    pa_free(p, 300);
    pa_free(q2, 600);
    pa_free(s, 20000);
    EXPECT_EQ(pa_stats().inuse_pages, 0);
    EXPECT_EQ(pa_verify(), 0);
    uintptr_t a1 = alloc_checked(PAGES_PER_ARENA, NULL);
    uintptr_t a2 = alloc_checked(PAGES_PER_ARENA, NULL);
    uintptr_t one = alloc_checked(1, NULL);
    EXPECT(is_aligned(a1, ARENA_SIZE));
    EXPECT(is_aligned(a2, ARENA_SIZE));
    if (arena_of(a1 + ARENA_SIZE) != NULL) {
        EXPECT_EQ(a2, a1 + ARENA_SIZE);
        if (arena_of(a2 + ARENA_SIZE) != NULL)
            EXPECT_EQ(one, a2 + ARENA_SIZE);
    }
    pa_free(a1, PAGES_PER_ARENA);
    pa_free(one, 1);
    /* A run of exactly two arenas starting mid-arena. */
    uintptr_t head = alloc_checked(100, NULL);
    uintptr_t two = alloc_checked(2 * PAGES_PER_ARENA, NULL);
    EXPECT_EQ(pa_verify(), 0);
    pa_free(head, 100);
    pa_free(two, 2 * PAGES_PER_ARENA);
    pa_free(a2, PAGES_PER_ARENA);
    EXPECT_EQ(pa_stats().inuse_pages, 0);
    EXPECT_EQ(pa_verify(), 0);
    EXPECT_EQ(heap_verify(NULL), 0);
}

/* ---- released-page bookkeeping ------------------------------------------ */

static bool bytes_are(uintptr_t p, size_t n, unsigned char v)
{
    const unsigned char *c = (const unsigned char *)p;
    for (size_t i = 0; i < n; i++)
        if (c[i] != v)
            return false;
    return true;
}

static void scavenged_bookkeeping(void)
{
    ensure_heap(2 * ARENA_SIZE);
    require_all_free();
    page_alloc_stats st0 = pa_stats();
    /* Release every free backed page: then every free page is released. */
    size_t rel = pa_scavenge(SIZE_MAX);
    page_alloc_stats st = pa_stats();
    EXPECT_EQ(st.scav_pages, st0.scav_pages + rel);
    EXPECT_EQ(st.scav_pages, st.total_pages);
    EXPECT_EQ(pa_scavenge(SIZE_MAX), 0);
    EXPECT_EQ(pa_verify(), 0);
    const uint64_t all = st.total_pages;

    /* Released pages report as released when allocated. */
    size_t scav = 999;
    uintptr_t base = alloc_checked(40, &scav);
    REQUIRE(base != 0);
    EXPECT_EQ(scav, 40);
    st = pa_stats();
    EXPECT_EQ(st.inuse_pages, 40);
    EXPECT_EQ(st.scav_pages, all - 40);
    for (size_t i = 0; i < 40; i++)
        EXPECT(!pa_is_scav(base + i * PG));
    EXPECT(bytes_are(base, 40 * PG, 0));
    memset((void *)base, 0xab, 40 * PG);

    /* Freed pages stay backed: not released, contents kept. */
    pa_free(base, 40);
    for (size_t i = 0; i < 40; i++)
        EXPECT(pa_is_free(base + i * PG) && !pa_is_scav(base + i * PG));
    st = pa_stats();
    EXPECT_EQ(st.inuse_pages, 0);
    EXPECT_EQ(st.scav_pages, all - 40);
    uintptr_t again = alloc_checked(40, &scav);
    EXPECT_EQ(again, base);
    EXPECT_EQ(scav, 0);
    EXPECT(bytes_are(base, 40 * PG, 0xab));
    pa_free(base, 40);

    /* Releasing 10 pages takes the highest free backed ones: the top of
     * the run.  They read as zero; the rest keep their contents. */
    EXPECT_EQ(pa_scavenge(10), 10);
    for (size_t i = 0; i < 40; i++)
        EXPECT_EQ(pa_is_scav(base + i * PG), i >= 30);
    EXPECT(bytes_are(base, 30 * PG, 0xab));
    EXPECT(bytes_are(base + 30 * PG, 10 * PG, 0));
    st = pa_stats();
    EXPECT_EQ(st.scav_pages, all - 30);
    EXPECT_EQ(pa_verify(), 0);
    again = alloc_checked(40, &scav);
    EXPECT_EQ(again, base);
    EXPECT_EQ(scav, 10);
    EXPECT_EQ(pa_stats().scav_pages, all - 40);
    pa_free(base, 40);
    EXPECT_EQ(pa_scavenge(SIZE_MAX), 40);
    EXPECT_EQ(pa_stats().scav_pages, all);

    /* Two backed runs around an in-use one: the higher goes first, and a
     * limit that ends inside a run releases its top part. */
    uintptr_t x = alloc_checked(8, NULL), y = alloc_checked(8, NULL), z = alloc_checked(8, NULL);
    EXPECT_EQ(y, x + 8 * PG);
    EXPECT_EQ(z, y + 8 * PG);
    pa_free(x, 8);
    pa_free(z, 8);
    EXPECT_EQ(pa_scavenge(12), 12);
    for (size_t i = 0; i < 8; i++) {
        EXPECT_EQ(pa_is_scav(x + i * PG), i >= 4);
        EXPECT(!pa_is_scav(y + i * PG));
        EXPECT(pa_is_scav(z + i * PG));
    }
    EXPECT_EQ(pa_stats().scav_pages, all - 8 - 4);
    EXPECT_EQ(pa_verify(), 0);
    pa_free(y, 8);
    EXPECT_EQ(pa_scavenge(SIZE_MAX), 12);
    EXPECT_EQ(pa_stats().scav_pages, all);
    EXPECT_EQ(pa_scavenge(0), 0);

    /* Through the page heap: needzero follows the released state. */
    span *s = heap_alloc_span(16, LARGE_NOSCAN);
    REQUIRE(s != NULL);
    EXPECT_EQ(s->start, base);
    EXPECT_EQ(s->needzero, 0);
    memset((void *)s->start, 0x5a, 16 * PG);
    heap_free_span(s);
    s = heap_alloc_span(16, LARGE_NOSCAN);
    REQUIRE(s != NULL);
    EXPECT_EQ(s->start, base);
    EXPECT_EQ(s->needzero, 1);
    heap_free_span(s);
    EXPECT_EQ(pa_scavenge(8), 8);            /* the top half only */
    s = heap_alloc_span(16, LARGE_NOSCAN);
    REQUIRE(s != NULL);
    EXPECT_EQ(s->needzero, 1);               /* partly released: must zero */
    EXPECT(bytes_are(s->start, 8 * PG, 0x5a));
    EXPECT(bytes_are(s->start + 8 * PG, 8 * PG, 0));
    heap_free_span(s);
    EXPECT_EQ(pa_scavenge(SIZE_MAX), 16);
    s = heap_alloc_span(16, LARGE_NOSCAN);
    REQUIRE(s != NULL);
    EXPECT_EQ(s->needzero, 0);
    EXPECT(bytes_are(s->start, 16 * PG, 0));

    /* The public statistics agree with the allocator's counters. */
    tc_stats ts;
    tc_read_stats(&ts);
    st = pa_stats();
    EXPECT_EQ(ts.heap_released, st.scav_pages * PAGE_SIZE);
    EXPECT_EQ(ts.heap_inuse, st.inuse_pages * PAGE_SIZE);
    EXPECT_EQ(ts.heap_sys, memstat_get(MEMSTAT_HEAP));
    EXPECT_EQ(st.total_pages * PAGE_SIZE, memstat_get(MEMSTAT_HEAP));
    heap_free_span(s);

    /* Bookkeeping never reports a non-heap address as free or released. */
    int local = 0;
    EXPECT(!pa_is_free((uintptr_t)&local));
    EXPECT(!pa_is_scav((uintptr_t)&local));
    EXPECT(!pa_is_free(0));

    EXPECT_EQ(pa_stats().inuse_pages, 0);
    EXPECT_EQ(pa_verify(), 0);
    EXPECT_EQ(heap_verify(NULL), 0);
}

/* ---- requests that cannot be met ---------------------------------------- */

static bool stats_equal(page_alloc_stats a, page_alloc_stats b)
{
    return a.total_pages == b.total_pages && a.inuse_pages == b.inuse_pages &&
           a.scav_pages == b.scav_pages;
}

static void impossible_requests(void)
{
    ensure_heap(ARENA_SIZE);
    require_all_free();
    page_alloc_stats st = pa_stats();
    size_t scav = 12345;
    EXPECT_EQ(pa_alloc(st.total_pages + 1, &scav), 0);
    EXPECT(stats_equal(pa_stats(), st));
    EXPECT_EQ(pa_alloc((size_t)1 << 40, &scav), 0);
    EXPECT(stats_equal(pa_stats(), st));

    /* Longer than the longest free run once one page is taken. */
    uintptr_t one = alloc_checked(1, NULL);
    EXPECT_EQ(pa_alloc(st.total_pages, &scav), 0);
    pa_free(one, 1);
    EXPECT_EQ(pa_scavenge(SIZE_MAX), 1); /* backed once used: released again, as at the start */
    EXPECT_EQ(pa_verify(), 0);

    EXPECT(heap_alloc_span(0, LARGE_NOSCAN) == NULL);
    EXPECT(heap_alloc_span(((size_t)1 << (HEAP_ADDR_BITS - PAGE_SHIFT - 1)) + 1, LARGE_NOSCAN) == NULL);
    EXPECT(heap_alloc_span(SIZE_MAX, LARGE_NOSCAN) == NULL);
    EXPECT(stats_equal(pa_stats(), st));

    /* The OS refusing memory: growth fails and nothing changes. */
    size_t nar0, nar1;
    lock_acquire(&heap.lock);
    arena_list(&nar0);
    lock_release(&heap.lock);
    uint64_t heap_sys = memstat_get(MEMSTAT_HEAP);
    sys_fail_after(1, 1);
    span *s = heap_alloc_span(st.total_pages + 1, LARGE_NOSCAN);
    sys_fail_after(0, 0);
    EXPECT(s == NULL);
    lock_acquire(&heap.lock);
    arena_list(&nar1);
    lock_release(&heap.lock);
    EXPECT_EQ(nar1, nar0);
    EXPECT_EQ(memstat_get(MEMSTAT_HEAP), heap_sys);
    EXPECT(stats_equal(pa_stats(), st));
    EXPECT_EQ(heap_verify(NULL), 0);

    /* Once the OS gives memory again, the same request grows the heap.
     * With every old free page released, the span needs no zeroing. */
    pa_scavenge(SIZE_MAX);
    s = heap_alloc_span(st.total_pages + 1, LARGE_NOSCAN);
    EXPECT(s != NULL);
    if (s != NULL) {
        EXPECT_EQ(s->needzero, 0);
        EXPECT(pa_stats().total_pages > st.total_pages);
        EXPECT_EQ(heap_verify(NULL), 0);
        heap_free_span(s);
    }
    EXPECT_EQ(pa_stats().inuse_pages, 0);
    EXPECT_EQ(heap_verify(NULL), 0);
}

/* ---- growth through the page heap --------------------------------------- */

/* A request larger than the free space grows the heap by whole arenas; the
 * span is the lowest fit in the grown heap (which, when the new arenas
 * follow the old ones, straddles the old end). */
static void growth_through_heap(void)
{
    require_all_free();
    page_alloc_stats st = pa_stats();
    size_t nar0, nar1;
    lock_acquire(&heap.lock);
    arena_list(&nar0);
    lock_release(&heap.lock);
    /* Keep the lowest page in use, so that the request cannot fit. */
    span *pin_span = span_checked(1);
    REQUIRE(pin_span != NULL);
    uintptr_t pin = pin_span->start;
    size_t n = st.total_pages;
    span *s = heap_alloc_span(n, LARGE_NOSCAN);
    REQUIRE(s != NULL);
    lock_acquire(&heap.lock);
    arena_list(&nar1);
    lock_release(&heap.lock);
    page_alloc_stats st1 = pa_stats();
    EXPECT(nar1 > nar0);
    EXPECT_EQ(st1.total_pages, (uint64_t)nar1 * PAGES_PER_ARENA);
    EXPECT_EQ(st1.inuse_pages, n + 1);
    EXPECT(run_is(s->start, n, false));
    EXPECT_EQ(heap_verify(NULL), 0);
    uintptr_t start = s->start;
    heap_free_span(s);
    /* Nothing changed but the span's pages: it was the lowest fit. */
    EXPECT_EQ(oracle_first_fit(n), start);
    bool contiguous = true;
    for (uintptr_t a = align_down(pin, ARENA_SIZE); a < pin + (uintptr_t)(n + 1) * PG; a += ARENA_SIZE)
        contiguous = contiguous && arena_of(a) != NULL;
    if (contiguous)
        EXPECT_EQ(start, pin + PG); /* contiguous heap: straddles the old end */
    heap_free_span(pin_span);
    EXPECT_EQ(pa_stats().inuse_pages, 0);
    EXPECT_EQ(heap_verify(NULL), 0);
}

/* ---- randomized, against a byte-per-page model --------------------------- */

enum { M_NONE = 0, M_FREE_SCAV, M_FREE, M_USED };

typedef struct model {
    size_t nar, npages;
    uintptr_t *base;   /* arena bases, sorted */
    bool *adj;         /* arena k starts where arena k - 1 ends */
    size_t *rank;      /* arena_list position -> sorted position */
    uint8_t *st;       /* per page: M_* */
    size_t hint;       /* every page below is M_USED */
} model;

static uint64_t rng = 0x2545f4914f6cdd1dull;
static uint64_t rnd(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545f4914f6cdd1dull;
}

static uintptr_t m_addr(const model *m, size_t i)
{
    return m->base[i / PAGES_PER_ARENA] + (i % PAGES_PER_ARENA) * PG;
}

static void model_init(model *m)
{
    m->base = oracle_sorted_arenas(&m->nar);
    m->npages = m->nar * PAGES_PER_ARENA;
    m->adj = calloc(m->nar, sizeof *m->adj);
    m->rank = calloc(m->nar, sizeof *m->rank);
    m->st = malloc(m->npages);
    REQUIRE(m->adj && m->rank && m->st);
    for (size_t k = 1; k < m->nar; k++)
        m->adj[k] = m->base[k] == m->base[k - 1] + ARENA_SIZE;
    lock_acquire(&heap.lock);
    size_t n;
    arena *const *list = arena_list(&n);
    for (size_t i = 0; i < n; i++) {
        uintptr_t b = list[i]->base;
        uintptr_t *f = bsearch(&b, m->base, m->nar, sizeof b, oracle_cmp_uptr);
        m->rank[i] = (size_t)(f - m->base);
    }
    for (size_t i = 0; i < m->npages; i++) {
        uintptr_t a = m_addr(m, i);
        m->st[i] = !page_alloc_is_free(a) ? M_USED : page_alloc_is_scavenged(a) ? M_FREE_SCAV : M_FREE;
    }
    lock_release(&heap.lock);
    m->hint = 0;
}

static void model_free(model *m)
{
    free(m->base);
    free(m->adj);
    free(m->rank);
    free(m->st);
}

/* The lowest run of n backed free pages within one chunk (n <=
 * CHUNK_PAGES), else the lowest run of n non-used pages; SIZE_MAX if none. */
static size_t model_first_fit(model *m, size_t n)
{
    while (m->hint < m->npages && m->st[m->hint] == M_USED)
        m->hint++;
    if (n <= CHUNK_PAGES) {
        size_t run = 0;
        for (size_t i = m->hint; i < m->npages; i++) {
            if (i % CHUNK_PAGES == 0)
                run = 0;
            run = m->st[i] == M_FREE ? run + 1 : 0;
            if (run == n)
                return i + 1 - n;
        }
    }
    size_t run = 0, start = 0;
    for (size_t i = m->hint; i < m->npages; i++) {
        if (i % PAGES_PER_ARENA == 0 && !m->adj[i / PAGES_PER_ARENA])
            run = 0;
        if (m->st[i] == M_USED) {
            run = 0;
            continue;
        }
        if (run == 0)
            start = i;
        if (++run == n)
            return start;
    }
    return SIZE_MAX;
}

/* page_alloc_scavenge's documented order: the highest free backed pages
 * first, by address (the model's arenas are sorted by address; under
 * AddressSanitizer the heap grows downwards, so this is not the order of
 * the arena list). */
static size_t model_scavenge(model *m, size_t max)
{
    size_t n = 0;
    for (size_t k = m->nar; k-- > 0 && n < max;) {
        size_t first = k * PAGES_PER_ARENA;
        for (size_t p = PAGES_PER_ARENA; p-- > 0 && n < max;) {
            if (m->st[first + p] == M_FREE) {
                m->st[first + p] = M_FREE_SCAV;
                n++;
            }
        }
    }
    return n;
}

/* Compares the model with the allocator page by page and counter by
 * counter; returns whether they agree. */
static bool model_check(const model *m)
{
    size_t used = 0, scav = 0, mism = 0;
    lock_acquire(&heap.lock);
    size_t bad = page_alloc_verify();
    page_alloc_stats st = page_alloc_read_stats();
    for (size_t i = 0; i < m->npages; i++) {
        uintptr_t a = m_addr(m, i);
        used += m->st[i] == M_USED;
        scav += m->st[i] == M_FREE_SCAV;
        bool want_free = m->st[i] != M_USED, want_scav = m->st[i] == M_FREE_SCAV;
        if (page_alloc_is_free(a) != want_free || page_alloc_is_scavenged(a) != want_scav)
            mism++;
    }
    lock_release(&heap.lock);
    EXPECT_EQ(bad, 0);
    EXPECT_EQ(mism, 0);
    EXPECT_EQ(st.total_pages, m->npages);
    EXPECT_EQ(st.inuse_pages, used);
    EXPECT_EQ(st.scav_pages, scav);
    return bad == 0 && mism == 0 && st.total_pages == m->npages && st.inuse_pages == used &&
           st.scav_pages == scav;
}

static size_t random_npages(void)
{
    uint64_t r = rnd() % 100;
    if (r < 55)
        return 1 + rnd() % 8;
    if (r < 80)
        return 9 + rnd() % 120;
    if (r < 96)
        return 129 + rnd() % (2000 - 128);
    return 2001 + rnd() % 14000; /* crosses arenas */
}

typedef struct live_run {
    uintptr_t base;
    size_t idx, n;
} live_run;

static void randomized_against_model(void)
{
    ensure_heap(8 * ARENA_SIZE);
    require_all_free();
    model m;
    model_init(&m);
    REQUIRE(model_check(&m));
    enum { OPS = 6000, BATCH = 100 };
    live_run *live = malloc(OPS * sizeof *live);
    REQUIRE(live != NULL);
    size_t nlive = 0, used = 0, fails = 0, scavenges = 0, allocs = 0;
    bool diverged = false;
    for (size_t op = 0; op < OPS && !diverged; op++) {
        uint64_t r = rnd() % 1000;
        if (r < 8) {
            size_t max = 1 + rnd() % 3000;
            size_t want = model_scavenge(&m, max);
            size_t got = pa_scavenge(max);
            EXPECT_EQ(got, want);
            scavenges++;
        } else if (nlive == 0 || (used < m.npages * 7 / 10 ? r < 600 : r < 400)) {
            size_t n = random_npages();
            size_t idx = model_first_fit(&m, n);
            size_t scav = 0;
            uintptr_t got = pa_alloc(n, &scav);
            if (idx == SIZE_MAX) {
                EXPECT_EQ(got, 0);
                fails++;
                if (got != 0) {
                    diverged = true;
                    break;
                }
                continue;
            }
            if (got != m_addr(&m, idx)) {
                T_FAIL("op %zu: alloc(%zu) = 0x%llx, the lowest fitting free run is at 0x%llx", op,
                       n, (unsigned long long)got, (unsigned long long)m_addr(&m, idx));
                diverged = true;
                break;
            }
            size_t want_scav = 0;
            for (size_t i = idx; i < idx + n; i++) {
                want_scav += m.st[i] == M_FREE_SCAV;
                m.st[i] = M_USED;
            }
            EXPECT_EQ(scav, want_scav);
            live[nlive++] = (live_run){got, idx, n};
            used += n;
            allocs++;
        } else {
            size_t k = rnd() % nlive;
            live_run lr = live[k];
            live[k] = live[--nlive];
            pa_free(lr.base, lr.n);
            for (size_t i = lr.idx; i < lr.idx + lr.n; i++)
                m.st[i] = M_FREE;
            if (lr.idx < m.hint)
                m.hint = lr.idx;
            used -= lr.n;
        }
        if ((op + 1) % BATCH == 0 && !model_check(&m)) {
            T_FAIL("model and allocator disagree after op %zu", op);
            diverged = true;
        }
    }
    fprintf(stderr, "    %zu allocations, %zu failed as predicted, %zu scavenges, %zu live\n",
            allocs, fails, scavenges, nlive);
    EXPECT(!diverged);
    if (!diverged) {
        EXPECT(fails > 0);
        while (nlive > 0) {
            live_run lr = live[--nlive];
            pa_free(lr.base, lr.n);
            for (size_t i = lr.idx; i < lr.idx + lr.n; i++)
                m.st[i] = M_FREE;
        }
        m.hint = 0;
        EXPECT(model_check(&m));
        EXPECT_EQ(pa_stats().inuse_pages, 0);
        EXPECT_EQ(heap_verify(NULL), 0);
    }
    free(live);
    model_free(&m);
}

int main(void)
{
    REQUIRE(tc_init(NULL) == 0);
    RUN(first_fit_by_address);
    RUN(first_fit_holes);
    RUN(coalescing);
    RUN(cross_boundaries);
    RUN(scavenged_bookkeeping);
    RUN(impossible_requests);
    RUN(growth_through_heap);
    RUN(randomized_against_model);
    EXPECT_EQ(heap_verify(NULL), 0);
    tc_shutdown();
    TEST_MAIN_END();
}
