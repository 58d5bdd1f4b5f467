/*
 * stats_test.c -- tc_read_stats (src/api.c): allocation counters move by
 * exactly what was allocated; heap figures agree with a slow recount over
 * all spans (heap_verify's census); memory obtained from the OS is
 * accounted per statistic and sums to sys; older, smaller tc_stats structs
 * get a prefix.
 */
#include <string.h>

#include "heap/heap_verify.h"
#include "heap/page_heap.h"
#include "sys/sys.h"
#include "test.h"
#include "tricolor.h"

static void test_counters_move_exactly(void)
{
    tc_stats a, b;
    tc_read_stats(&a);
    for (int i = 0; i < 1000; i++)
        REQUIRE(tc_alloc(100) != NULL);  /* 112-byte class */
    REQUIRE(tc_alloc(1 << 20) != NULL);
    tc_read_stats(&b);
    EXPECT_EQ(b.mallocs - a.mallocs, 1001);
    EXPECT_EQ(b.total_alloc - a.total_alloc, 1000 * 112 + (1 << 20));
    EXPECT_EQ(b.heap_objects - a.heap_objects, 1001);
    EXPECT_EQ(b.heap_alloc - a.heap_alloc, 1000 * 112 + (1 << 20));
    EXPECT_EQ(b.frees, 0);
}

static void test_slow_recount(void)
{
    for (int i = 0; i < 5000; i++)
        REQUIRE(tc_alloc_noscan((size_t)(i % 3000) + 1) != NULL);
    tc_stats st;
    tc_read_stats(&st);
    heap_census cs;
    EXPECT_EQ(heap_verify(&cs), 0);
    EXPECT_EQ(cs.objects, st.heap_objects);
    EXPECT_EQ(cs.object_bytes, st.heap_alloc);
    EXPECT_EQ(cs.pages_in_use * PAGE_SIZE, st.heap_inuse);
    EXPECT(st.heap_alloc <= st.heap_inuse);
    EXPECT(st.heap_inuse <= st.heap_sys);
    EXPECT_EQ(st.heap_idle, st.heap_sys - st.heap_inuse);
    EXPECT(st.heap_released <= st.heap_idle);
    EXPECT(st.heap_released > 0); /* untouched arena pages count as released */
    EXPECT_EQ(st.sys, st.heap_sys + st.gc_sys + st.other_sys);
    EXPECT_EQ(st.heap_sys, memstat_get(MEMSTAT_HEAP));
    EXPECT(st.gc_sys > 0 && st.other_sys > 0);
    EXPECT_EQ(st.heap_sys % (64u << 20), 0);
}

static void test_released_pages(void)
{
    tc_stats a, b;
    tc_read_stats(&a);
    /* A fresh large object takes released pages ... */
    void *p = tc_alloc(8 << 20);
    REQUIRE(p != NULL);
    tc_read_stats(&b);
    EXPECT(b.heap_released <= a.heap_released - (8u << 20) || b.heap_sys > a.heap_sys);
    /* ... and the page allocator can give free pages back. */
    lock_acquire(&heap.lock);
    size_t freed_before = page_alloc_read_stats().scav_pages;
    lock_release(&heap.lock);
    EXPECT(freed_before > 0);
}

static void test_released_after_small_alloc(void)
{
    tc_stats a, b;
    tc_read_stats(&a);
    REQUIRE(tc_alloc_noscan(3000) != NULL); /* a class whose span is new */
    tc_read_stats(&b);
    /* Only the pages the new span uses stop being released. */
    EXPECT(a.heap_released - b.heap_released <= b.heap_inuse - a.heap_inuse);
}

static void test_sized_prefix(void)
{
    tc_stats full;
    tc_read_stats(&full);
    unsigned char small[offsetof(tc_stats, total_alloc) + 8];
    memset(small, 0xee, sizeof small);
    tc_read_stats_sized((tc_stats *)(void *)small, sizeof small);
    uint64_t heap_alloc;
    memcpy(&heap_alloc, small + offsetof(tc_stats, heap_alloc), 8);
    EXPECT(heap_alloc == full.heap_alloc);
}

int main(void)
{
    REQUIRE(tc_init(&(tc_options){.gc_percent = -1}) == 0); /* the allocator alone */
    RUN(test_counters_move_exactly);
    RUN(test_slow_recount);
    RUN(test_released_pages);
    RUN(test_released_after_small_alloc);
    RUN(test_sized_prefix);
    tc_shutdown();
    TEST_MAIN_END();
}
