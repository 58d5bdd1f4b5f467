/*
 * arena_test.c -- heap arenas (src/heap/arena.c): the two-level arena
 * index, the list of all arenas, and growth.
 *
 * Properties checked:
 *  - arena_of() returns the owning arena for every listed arena's base and
 *    for addresses inside it, and NULL for addresses outside the heap
 *    (stack, globals, malloc'd memory, 0, addresses at or above 2^48, ~0);
 *  - arena_grow() returns ARENA_SIZE-aligned ranges, registers every arena
 *    of a multi-arena growth, and successive growths are adjacent (also
 *    after the first hint was refused, as it is under AddressSanitizer or
 *    when something else is mapped at ARENA_HINT_START);
 *  - the arena list grows by doubling from SYS_PAGE_SIZE / sizeof(arena *)
 *    entries, and an array pointer copied from arena_list() stays readable
 *    (with the same contents) after later growth;
 *  - MEMSTAT_HEAP grows by exactly the bytes of the arenas added;
 *  - with a heap of more than 16 GiB, page runs that cross the page
 *    allocator's 16 GiB root entries are found first-fit;
 *  - heap_verify() stays clean.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <tricolor.h>

#include "heap/arena.h"
#include "heap/heap_verify.h"
#include "heap/page_alloc.h"
#include "heap/page_heap.h"
#include "sys/sys.h"
#include "test.h"
#include "heap_oracle.h"

#define PG ((uintptr_t)PAGE_SIZE)

static int a_global;

/* Grows the heap by `bytes` (rounded up to arenas) and hands the pages to
 * the page allocator, as the page heap does.  Returns the base, 0 on
 * failure; *grown receives the bytes added. */
static uintptr_t grow(size_t bytes, size_t *grown)
{
    lock_acquire(&heap.lock);
    uintptr_t base = arena_grow(bytes, grown);
    if (base != 0 && page_alloc_grow(base, *grown) != 0)
        base = 0;
    lock_release(&heap.lock);
    return base;
}

static arena *const *list_snapshot(size_t *n)
{
    lock_acquire(&heap.lock);
    arena *const *l = arena_list(n);
    lock_release(&heap.lock);
    return l;
}

/* Every listed arena is found by every address inside it. */
static size_t check_index(void)
{
    size_t n, bad = 0;
    arena *const *l = list_snapshot(&n);
    for (size_t i = 0; i < n; i++) {
        arena *a = l[i];
        uintptr_t b = a->base;
        bad += !is_aligned(b, ARENA_SIZE);
        bad += arena_of(b) != a;
        bad += arena_of(b + 1) != a;
        bad += arena_of(b + PG) != a;
        bad += arena_of(b + ARENA_SIZE / 2) != a;
        bad += arena_of(b + ARENA_SIZE - PG) != a;
        bad += arena_of(b + ARENA_SIZE - 1) != a;
        /* Neighbouring addresses belong to a neighbour or to nobody. */
        arena *before = arena_of(b - 1), *after = arena_of(b + ARENA_SIZE);
        bad += before == a || after == a;
        bad += before != NULL && before->base != b - ARENA_SIZE;
        bad += after != NULL && after->base != b + ARENA_SIZE;
    }
    return bad;
}

static void index_lookup(void)
{
    size_t grown = 0;
    uint64_t heap0 = memstat_get(MEMSTAT_HEAP);
    uintptr_t b = grow(ARENA_SIZE, &grown);
    REQUIRE(b != 0);
    EXPECT_EQ(grown, ARENA_SIZE);
    EXPECT(is_aligned(b, ARENA_SIZE));
    EXPECT_EQ(memstat_get(MEMSTAT_HEAP) - heap0, ARENA_SIZE);
    /* Sizes round up to whole arenas. */
    uintptr_t b2 = grow(1, &grown);
    REQUIRE(b2 != 0);
    EXPECT_EQ(grown, ARENA_SIZE);
    uintptr_t b3 = grow(ARENA_SIZE + 1, &grown);
    REQUIRE(b3 != 0);
    EXPECT_EQ(grown, 2 * ARENA_SIZE);
    EXPECT_EQ(memstat_get(MEMSTAT_HEAP) - heap0, 4 * ARENA_SIZE);
    EXPECT_EQ(check_index(), 0);
    for (uintptr_t a = b3; a < b3 + 2 * ARENA_SIZE; a += ARENA_SIZE) {
        REQUIRE(arena_of(a) != NULL);
        EXPECT_EQ(arena_of(a)->base, a);
    }

    /* Addresses that are not heap. */
    int local = 0;
    void *m = malloc(100);
    void *big = malloc(4 << 20);
    REQUIRE(m != NULL && big != NULL);
    EXPECT(arena_of((uintptr_t)&local) == NULL);
    EXPECT(arena_of((uintptr_t)&a_global) == NULL);
    EXPECT(arena_of((uintptr_t)&index_lookup) == NULL);
    EXPECT(arena_of((uintptr_t)m) == NULL);
    EXPECT(arena_of((uintptr_t)big) == NULL);
    EXPECT(arena_of((uintptr_t)big + (4 << 20) - 1) == NULL);
    free(m);
    free(big);
    EXPECT(arena_of(0) == NULL);
    EXPECT(arena_of(1) == NULL);
    EXPECT(arena_of(ARENA_SIZE) == NULL);
    EXPECT(arena_of((uintptr_t)1 << 47) == NULL);
    EXPECT(arena_of(((uintptr_t)1 << 48) - 1) == NULL);
    EXPECT(arena_of((uintptr_t)1 << 48) == NULL);
    EXPECT(arena_of((uintptr_t)1 << 63) == NULL);
    EXPECT(arena_of(~(uintptr_t)0) == NULL);
    /* Aliases above 2^48 of a heap address are not heap either. */
    EXPECT(arena_of(b | (uintptr_t)1 << 48) == NULL);
    EXPECT(arena_of(b | (uintptr_t)1 << 56) == NULL);
    EXPECT(arena_of(b | (uintptr_t)1 << 63) == NULL);

    /* Requests that cannot be arenas. */
    size_t g = 12345;
    lock_acquire(&heap.lock);
    EXPECT_EQ(arena_grow(0, &g), 0);
    EXPECT_EQ(arena_grow((size_t)1 << HEAP_ADDR_BITS, &g), 0);
    EXPECT_EQ(arena_grow(SIZE_MAX, &g), 0);
    lock_release(&heap.lock);
    EXPECT_EQ(g, 12345);
    EXPECT_EQ(memstat_get(MEMSTAT_HEAP) - heap0, 4 * ARENA_SIZE);
    EXPECT_EQ(heap_verify(NULL), 0);
}

/* Successive growths are adjacent.  Under AddressSanitizer the first
 * hint (0xc000000000) lies in the shadow memory and is refused; the heap
 * then starts at a later rung of the hint ladder and grows from there. */
static void contiguous_growth(void)
{
    size_t g1, g2, g3;
    uintptr_t b1 = grow(ARENA_SIZE, &g1);
    uintptr_t b2 = grow(ARENA_SIZE, &g2);
    uintptr_t b3 = grow(2 * ARENA_SIZE, &g3);
    REQUIRE(b1 && b2 && b3);
    if (b3 != b2 + g2 && b3 + g3 != b2)
        T_FAIL("3rd reservation 0x%llx is not adjacent to the 2nd 0x%llx", (unsigned long long)b3,
               (unsigned long long)b2);
    test_checks++;
    if (b2 != b1 + g1 && b2 + g2 != b1)
        T_FAIL("2nd reservation 0x%llx is not adjacent to the 1st 0x%llx", (unsigned long long)b2,
               (unsigned long long)b1);
    /* A run over the seam between two growths is one free run. */
    if (b3 == b2 + g2) {
        lock_acquire(&heap.lock);
        for (uintptr_t a = b2; a < b3 + g3; a += PG)
            if (!page_alloc_is_free(a))
                T_FAIL("page 0x%llx of a fresh arena is not free", (unsigned long long)a);
        lock_release(&heap.lock);
    }
    EXPECT_EQ(check_index(), 0);
    EXPECT_EQ(heap_verify(NULL), 0);
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* The list starts at SYS_PAGE_SIZE / sizeof(arena *) = 512 entries and
 * doubles; 1025 arenas (64 GiB of reserved, untouched address space) make
 * it reallocate twice.  Arenas are PROT_NONE reservations made read-write
 * with mprotect and never touched, so this costs only their metadata
 * (about 70 KiB of mostly untouched virtual memory each) and takes well
 * under a second, also under AddressSanitizer. */
static void list_doubling(void)
{
    size_t n0;
    arena *const *l0 = list_snapshot(&n0);
    REQUIRE(n0 > 0);
    const size_t first_cap = SYS_PAGE_SIZE / sizeof(arena *);
    REQUIRE(n0 < first_cap);
    arena **copy0 = malloc(n0 * sizeof *copy0);
    REQUIRE(copy0 != NULL);
    memcpy(copy0, l0, n0 * sizeof *copy0);

    uint64_t heap0 = memstat_get(MEMSTAT_HEAP);
    size_t target = 2 * first_cap + 1, n = n0, moves = 0;
    size_t moved_at[4] = {0};
    arena *const *prev = l0;
    double t0 = now_s();
    while (n < target) {
        size_t grown;
        uintptr_t b = grow(ARENA_SIZE, &grown);
        if (b == 0) {
            T_FAIL("arena_grow failed after %zu arenas", n);
            break;
        }
        arena *const *l = list_snapshot(&n);
        if (l != prev) {
            if (moves < 4)
                moved_at[moves] = n;
            moves++;
            prev = l;
        }
        EXPECT(l[n - 1]->base == b);
    }
    double dt = now_s() - t0;
    fprintf(stderr, "    grew to %zu arenas (%zu GiB reserved) in %.3f s\n", n,
            n * (size_t)ARENA_SIZE >> 30, dt);
    EXPECT(dt < 10.0);
    /* Reallocated exactly when the 513th and the 1025th entries came. */
    EXPECT_EQ(moves, 2);
    EXPECT_EQ(moved_at[0], first_cap + 1);
    EXPECT_EQ(moved_at[1], 2 * first_cap + 1);
    EXPECT_EQ(memstat_get(MEMSTAT_HEAP) - heap0, (uint64_t)(n - n0) * ARENA_SIZE);

    /* The first array is still readable and unchanged. */
    EXPECT(l0 != prev);
    for (size_t i = 0; i < n0; i++)
        EXPECT(l0[i] == copy0[i] && prev[i] == copy0[i]);
    free(copy0);

    EXPECT_EQ(check_index(), 0);
    page_alloc_stats st;
    lock_acquire(&heap.lock);
    st = page_alloc_read_stats();
    lock_release(&heap.lock);
    EXPECT_EQ(st.total_pages, (uint64_t)n * PAGES_PER_ARENA);
    EXPECT_EQ(st.total_pages * PAGE_SIZE, memstat_get(MEMSTAT_HEAP));
    EXPECT_EQ(heap_verify(NULL), 0);
}

/* Root entries of the page allocator's summary tree cover 16 GiB
 * (2^21 pages); a wholly free one has its own encoding.  With the 64 GiB
 * heap of list_doubling, runs longer than a root entry and runs that
 * straddle two root entries must still come out first-fit. */
static void runs_across_root_entries(void)
{
    const size_t root_pages = (size_t)1 << 21;
    /* The last request is larger than what is left (the heap holds a
     * little over four root entries) and must fail. */
    size_t sizes[] = {1, root_pages - 1, root_pages + 1, root_pages / 2 + 3, 7, 2 * root_pages};
    uintptr_t got[6];
    size_t nsz = sizeof sizes / sizeof sizes[0];
    for (size_t i = 0; i < nsz; i++) {
        uintptr_t want = oracle_first_fit(sizes[i]);
        size_t scav;
        lock_acquire(&heap.lock);
        got[i] = page_alloc_alloc(sizes[i], &scav);
        size_t bad = page_alloc_verify();
        lock_release(&heap.lock);
        EXPECT_EQ(want == 0, i == nsz - 1);
        EXPECT_EQ(got[i], want);
        EXPECT_EQ(bad, 0);
        if (got[i] == 0)
            sizes[i] = 0;
    }
    lock_acquire(&heap.lock);
    for (size_t i = 0; i < nsz; i++)
        if (sizes[i] != 0)
            page_alloc_free(got[i], sizes[i]);
    EXPECT_EQ(page_alloc_verify(), 0);
    EXPECT_EQ(page_alloc_read_stats().inuse_pages, 0);
    lock_release(&heap.lock);
    EXPECT_EQ(heap_verify(NULL), 0);
}

/* The same with the first hint refused on purpose (a mapping placed at
 * ARENA_HINT_START first, as any program may have there): the first
 * reservation moves to another hint, and the heap must still grow
 * contiguously from there on (adjacent above or below), or multi-arena
 * runs could never span two growths.  Runs in a
 * fresh tc heap (the hint restarts at tc_init). */
static void growth_after_refused_hint(void)
{
    void *block = mmap((void *)ARENA_HINT_START, ARENA_SIZE, PROT_NONE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
    bool blocked = block == (void *)ARENA_HINT_START;
    if (block != MAP_FAILED && !blocked) {
        munmap(block, ARENA_SIZE); /* the kernel took the flag as a mere hint */
        block = MAP_FAILED;
    }
    /* Under AddressSanitizer the hint lies in shadow memory: refused anyway. */
    REQUIRE(tc_init(NULL) == 0);
    size_t g[4];
    uintptr_t b[4];
    for (int i = 0; i < 4; i++) {
        b[i] = grow(ARENA_SIZE, &g[i]);
        REQUIRE(b[i] != 0);
    }
    if (blocked)
        EXPECT(b[0] != ARENA_HINT_START);
    for (int i = 1; i < 4; i++) {
        test_checks++;
        if (b[i] != b[i - 1] + g[i - 1] && b[i] + g[i] != b[i - 1])
            T_FAIL("reservation %d at 0x%llx is not adjacent to reservation %d at 0x%llx", i + 1,
                   (unsigned long long)b[i], i, (unsigned long long)b[i - 1]);
    }
    EXPECT_EQ(check_index(), 0);
    EXPECT_EQ(heap_verify(NULL), 0);
    tc_shutdown();
    if (block != MAP_FAILED)
        munmap(block, ARENA_SIZE);
}

int main(void)
{
    REQUIRE(tc_init(NULL) == 0);
    RUN(index_lookup);
    RUN(contiguous_growth);
    RUN(list_doubling);
    RUN(runs_across_root_entries);
    tc_shutdown();
    /* Shutdown forgets every arena and returns the heap's memory. */
    EXPECT_EQ(memstat_get(MEMSTAT_HEAP), 0);
    size_t n;
    arena_list(&n);
    EXPECT_EQ(n, 0);
    RUN(growth_after_refused_hint);
    EXPECT_EQ(memstat_get(MEMSTAT_HEAP), 0);
    TEST_MAIN_END();
}
