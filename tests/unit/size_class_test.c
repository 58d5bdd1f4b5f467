/*
 * size_class_test.c -- the size-class table (src/heap/size_class.c):
 * Go's classes, 16-byte alignment for every class of 16 bytes or more,
 * smallest-fitting lookup for every size, bounded waste, and the
 * multiply-shift object index agreeing with division for every offset of
 * every class.
 */
#include "heap/size_class.h"
#include "test.h"

static void test_table_shape(void)
{
    size_class_init();
    EXPECT_EQ(size_classes[1].size, 8);
    EXPECT_EQ(size_classes[NUM_SIZE_CLASSES - 1].size, MAX_SMALL_SIZE);
    for (unsigned c = 1; c < NUM_SIZE_CLASSES; c++) {
        const size_class_info *ci = &size_classes[c];
        if (c > 1)
            EXPECT(ci->size > size_classes[c - 1].size);
        if (ci->size >= 16 && ci->size % 16 != 0)
            T_FAIL("class %u (%u bytes) breaks 16-byte alignment", c, ci->size);
        EXPECT(ci->npages >= 1 && ci->npages <= 10);
        EXPECT(ci->nelems >= 1 && ci->nelems <= MAX_OBJS_PER_SPAN);
        /* Go's table keeps tail waste per span under 12.5% of the span. */
        size_t span_bytes = ci->npages * PAGE_SIZE;
        EXPECT(span_bytes - (size_t)ci->nelems * ci->size <= span_bytes / 8);
    }
}

static void test_lookup_is_smallest_fit(void)
{
    for (size_t size = 1; size <= MAX_SMALL_SIZE; size++) {
        unsigned c = size_to_class(size);
        if (c == 0 || c >= NUM_SIZE_CLASSES || size_classes[c].size < size ||
            (c > 1 && size_classes[c - 1].size >= size)) {
            T_FAIL("size %zu -> class %u", size, c);
            return;
        }
    }
}

static void test_divmul_index_is_exact(void)
{
    for (unsigned c = 1; c < NUM_SIZE_CLASSES; c++) {
        const size_class_info *ci = &size_classes[c];
        for (uint64_t off = 0; off < (uint64_t)ci->nelems * ci->size; off++) {
            uint64_t idx = (off * ci->divmul) >> 32;
            if (idx != off / ci->size) {
                T_FAIL("class %u offset %llu: %llu != %llu", c, (unsigned long long)off,
                       (unsigned long long)idx, (unsigned long long)(off / ci->size));
                return;
            }
        }
    }
}

static void test_spanclass(void)
{
    EXPECT_EQ(make_spanclass(5, 1), 11);
    EXPECT_EQ(spanclass_sizeclass(11), 5);
    EXPECT_EQ(spanclass_noscan(11), 1);
    EXPECT_EQ(spanclass_noscan(make_spanclass(5, 0)), 0);
    EXPECT_EQ(NUM_SPAN_CLASSES, 2 * NUM_SIZE_CLASSES);
}

int main(void)
{
    RUN(test_table_shape);
    RUN(test_lookup_is_smallest_fit);
    RUN(test_divmul_index_is_exact);
    RUN(test_spanclass);
    TEST_MAIN_END();
}
