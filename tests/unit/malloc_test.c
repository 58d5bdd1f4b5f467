/*
 * malloc_test.c -- allocation (src/heap/malloc.c): every size class and
 * large sizes give zeroed, aligned, distinct memory of at least the size
 * asked; pointer-free objects land in noscan spans; memory reused from
 * dirty pages is zeroed while pages the OS zeroed are not rewritten;
 * size 0 and overflowing arrays behave as the API says.
 */
#include <string.h>

#include "heap/heap_verify.h"
#include "heap/malloc.h"
#include "heap/mcentral.h"
#include "heap/page_heap.h"
#include "test.h"
#include "tricolor.h"

static void test_every_size_class(void)
{
    size_class_init();
    for (unsigned c = 1; c < NUM_SIZE_CLASSES; c++) {
        size_t size = size_classes[c].size;
        for (int noscan = 0; noscan < 2; noscan++) {
            unsigned char *prev = NULL;
            for (int k = 0; k < 3 * (int)size_classes[c].nelems + 1; k++) {
                unsigned char *p = noscan ? tc_alloc_noscan(size) : tc_alloc(size);
                REQUIRE(p != NULL);
                if (!all_zero(p, size))
                    T_FAIL("class %u: object not zeroed", c);
                if (size >= 16 && (uintptr_t)p % 16 != 0)
                    T_FAIL("class %u: %p not 16-aligned", c, (void *)p);
                EXPECT_EQ(tc_size(p), size);
                span *s = span_of_heap((uintptr_t)p);
                REQUIRE(s != NULL);
                EXPECT_EQ(span_is_noscan(s), noscan);
                EXPECT_EQ(spanclass_sizeclass(s->spanclass), c);
                memset(p, 0xab, size); /* later objects must not see this */
                EXPECT(p != prev);
                prev = p;
            }
        }
    }
    EXPECT_EQ(heap_verify(NULL), 0);
}

static void test_request_sizes_round_up(void)
{
    size_t sizes[] = {1, 7, 9, 17, 33, 1000, 1025, 4097, 32767, 32768};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        void *p = tc_alloc(sizes[i]);
        REQUIRE(p != NULL);
        EXPECT(tc_size(p) >= sizes[i]);
        EXPECT_EQ(tc_size(p), size_classes[size_to_class(sizes[i])].size);
    }
}

static void test_large_objects(void)
{
    size_t sizes[] = {32769, 100 * 1024, 1 << 20, (64u << 20) + 1, 200u << 20};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        unsigned char *p = tc_alloc(sizes[i]);
        REQUIRE(p != NULL);
        EXPECT((uintptr_t)p % PAGE_SIZE == 0);
        EXPECT_EQ(tc_size(p), (sizes[i] + PAGE_SIZE - 1) / PAGE_SIZE * PAGE_SIZE);
        EXPECT(tc_base(p + sizes[i] - 1) == p);
        EXPECT(p[0] == 0 && p[sizes[i] - 1] == 0 && p[sizes[i] / 2] == 0);
        p[sizes[i] - 1] = 1;
        span *s = span_of_heap((uintptr_t)p);
        REQUIRE(s != NULL);
        EXPECT(span_is_large(s));
        EXPECT_EQ(s->needzero, 0); /* fresh pages: nothing had to be cleared */
    }
    EXPECT_EQ(heap_verify(NULL), 0);
}

/* Takes a large object's span out of the heap as a sweep would. */
static void free_large(void *p)
{
    span *s = span_of_heap((uintptr_t)p);
    mcentral *c = &central[s->spanclass];
    lock_acquire(&c->lock);
    span_list_remove(s->list, s);
    lock_release(&c->lock);
    heap_free_span(s);
}

static void test_dirty_pages_are_zeroed(void)
{
    /* A large object on pages that held data. */
    unsigned char *p = tc_alloc_noscan(256 * 1024);
    REQUIRE(p != NULL);
    memset(p, 0x5a, 256 * 1024);
    free_large(p);
    EXPECT(tc_base(p) == NULL);
    unsigned char *q = tc_alloc_noscan(256 * 1024);
    EXPECT(q == p); /* first fit reuses the same pages */
    EXPECT(span_of_heap((uintptr_t)q)->needzero == 1);
    EXPECT(all_zero(q, 256 * 1024));

    /* Small objects carved from the same dirty pages. */
    memset(q, 0x77, 256 * 1024);
    free_large(q);
    int reused = 0;
    for (int k = 0; k < 20000; k++) {
        unsigned char *o = tc_alloc(48);
        REQUIRE(o != NULL);
        if (o >= p && o < p + 256 * 1024) {
            reused++;
            if (!all_zero(o, 48)) {
                T_FAIL("object %p on reused pages not zeroed", (void *)o);
                break;
            }
        }
    }
    EXPECT(reused > 0);
    EXPECT_EQ(heap_verify(NULL), 0);
}

static void test_zero_size_and_overflow(void)
{
    void *z = tc_alloc(0);
    EXPECT(z != NULL);
    EXPECT(z == tc_alloc_noscan(0));
    EXPECT(tc_base(z) == NULL);
    EXPECT_EQ(tc_size(z), 0);
    const tc_type *t = tc_type_new("pair", 16, (size_t[]){0, 8}, 2);
    REQUIRE(t != NULL);
    EXPECT(tc_new_array(t, SIZE_MAX / 8) == NULL);
    EXPECT(tc_new_array(t, (SIZE_MAX / 16) + 1) == NULL);
    EXPECT(tc_new_array(t, 0) != NULL);
    EXPECT(tc_alloc(SIZE_MAX) == NULL);
    EXPECT(tc_alloc((size_t)1 << 50) == NULL);
    /* More than the machine's memory: refused, not mapped page by page. */
    EXPECT(tc_alloc((size_t)1 << 42) == NULL);
    void **arr = tc_new_array(t, 1000);
    REQUIRE(arr != NULL);
    EXPECT(tc_size(arr) >= 16000);
    EXPECT(tc_type_of(arr) == t);
    EXPECT(all_zero(arr, 16000));
}

int main(void)
{
    REQUIRE(tc_init(&(tc_options){.gc_percent = -1}) == 0); /* the allocator alone */
    RUN(test_every_size_class);
    RUN(test_request_sizes_round_up);
    RUN(test_large_objects);
    RUN(test_dirty_pages_are_zeroed);
    RUN(test_zero_size_and_overflow);
    EXPECT_EQ(heap_verify(NULL), 0);
    tc_shutdown();
    TEST_MAIN_END();
}
