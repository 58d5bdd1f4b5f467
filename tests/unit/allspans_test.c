/*
 * allspans_test.c -- the all-spans list (src/heap/page_heap.c, seeds 000
 * and 001): every span record appears exactly once however often records
 * are recycled; the array starts at ALLSPANS_MIN_BYTES and grows by 3/2;
 * an outgrown array stays readable while a reader registered with
 * allspans_begin_read iterates it and is freed when the last reader
 * leaves.
 */
#include <stdlib.h>
#include <string.h>

#include "heap/heap_verify.h"
#include "heap/page_heap.h"
#include "sys/sys.h"
#include "test.h"
#include "tricolor.h"

#define LARGE make_spanclass(0, 1)

static int cmp_ptr(const void *a, const void *b)
{
    uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
    return (x > y) - (x < y);
}

static size_t snapshot(span ***out)
{
    lock_acquire(&heap.lock);
    size_t n = heap.nspans;
    *out = malloc(n * sizeof(span *));
    memcpy(*out, heap.allspans, n * sizeof(span *));
    lock_release(&heap.lock);
    return n;
}

static void expect_unique(void)
{
    span **all;
    size_t n = snapshot(&all);
    qsort(all, n, sizeof *all, cmp_ptr);
    for (size_t i = 1; i < n; i++)
        if (all[i] == all[i - 1]) {
            T_FAIL("span record %p listed twice", (void *)all[i]);
            break;
        }
    free(all);
}

static void test_recycled_records_listed_once(void)
{
    span *s[100];
    size_t before = heap.nspans;
    for (int round = 0; round < 20; round++) {
        for (int i = 0; i < 100; i++)
            REQUIRE((s[i] = heap_alloc_span(1 + (size_t)(i % 3), LARGE)) != NULL);
        for (int i = 0; i < 100; i++)
            heap_free_span(s[i]);
    }
    /* 2000 spans made, but only 100 records ever existed at once. */
    EXPECT(heap.nspans - before <= 100);
    expect_unique();
    EXPECT_EQ(heap_verify(NULL), 0);
}

static void test_growth_and_readers(void)
{
    size_t first_cap = ALLSPANS_MIN_BYTES / sizeof(span *);
    EXPECT(heap.allspans_cap >= first_cap);
    size_t cap0 = heap.allspans_cap;

    /* A reader holds the current array across a growth. */
    size_t n0;
    span *const *old = allspans_begin_read(&n0);
    span **copy = malloc(n0 * sizeof(span *));
    memcpy(copy, old, n0 * sizeof(span *));

    /* Allocate until the list outgrows its array (freed records are
     * reused first, so count records, not spans). */
    size_t need = 0, max = 4 * cap0;
    span **made = malloc(max * sizeof(span *));
    while (heap.allspans_cap == cap0 && need < max)
        REQUIRE((made[need++] = heap_alloc_span(1, LARGE)) != NULL);
    size_t cap1 = heap.allspans_cap;
    EXPECT(cap1 >= cap0 * 3 / 2 && cap1 <= cap0 * 3 / 2 + SYS_PAGE_SIZE / sizeof(span *));
    EXPECT(heap.allspans != old);
    EXPECT_EQ(heap.nretired, 1);
    /* The outgrown array still holds what it held (ASan would catch a read
     * of freed memory here). */
    EXPECT(memcmp(old, copy, n0 * sizeof(span *)) == 0);
    uint64_t other = memstat_get(MEMSTAT_OTHER);
    allspans_end_read();
    EXPECT_EQ(heap.nretired, 0);
    EXPECT_EQ(other - memstat_get(MEMSTAT_OTHER), cap0 * sizeof(span *));

    /* Without readers an outgrown array goes at once. */
    size_t more = 0, max2 = 4 * cap1;
    span **made2 = malloc(max2 * sizeof(span *));
    while (heap.allspans_cap == cap1 && more < max2)
        REQUIRE((made2[more++] = heap_alloc_span(1, LARGE)) != NULL);
    EXPECT(heap.allspans_cap > cap1);
    EXPECT_EQ(heap.nretired, 0);
    expect_unique();
    EXPECT_EQ(heap_verify(NULL), 0);
    for (size_t i = 0; i < need; i++)
        heap_free_span(made[i]);
    for (size_t i = 0; i < more; i++)
        heap_free_span(made2[i]);
    EXPECT_EQ(heap_verify(NULL), 0);
    free(made);
    free(made2);
    free(copy);
}

int main(void)
{
    REQUIRE(tc_init(&(tc_options){.gc_percent = -1}) == 0); /* the allocator alone */
    RUN(test_recycled_records_listed_once);
    RUN(test_growth_and_readers);
    tc_shutdown();
    TEST_MAIN_END();
}
