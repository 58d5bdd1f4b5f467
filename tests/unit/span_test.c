/*
 * span_test.c -- span records (src/heap/span.c): the free-slot walk over
 * alloc bits with freeindex and alloc_cache, across 64-slot windows and
 * with slots already allocated by a previous cycle; type id arrays; the
 * span invariants and span_of / span_of_heap lookups; span_zero_free,
 * which clears exactly the free slots from freeindex on.
 */
#include <string.h>

#include "heap/heap_verify.h"
#include "heap/page_heap.h"
#include "test.h"
#include "tricolor.h"

/* Walks a span with span_next_free_index and checks it yields exactly the
 * clear alloc bits, in order. */
static void walk_expect(span *s, const uint64_t *bits)
{
    size_t expect = 0;
    for (;;) {
        while (expect < s->nelems && (bits[expect / 64] >> (expect % 64) & 1))
            expect++;
        size_t got = span_next_free_index(s);
        if (got != (expect < s->nelems ? expect : s->nelems)) {
            T_FAIL("next free %zu, expected %zu", got, expect);
            return;
        }
        if (got == s->nelems)
            break;
        expect++;
    }
    EXPECT_EQ(s->freeindex, s->nelems);
}

static void test_walk_fresh_and_patterned(void)
{
    /* Class 2 (16 bytes): 512 slots, 8 windows of 64. */
    span *s = heap_alloc_span(1, make_spanclass(2, 1));
    REQUIRE(s != NULL);
    EXPECT_EQ(s->nelems, 512);
    EXPECT_EQ(s->elemsize, 16);
    uint64_t none[8] = {0};
    walk_expect(s, none);

    /* As if a sweep had left a pattern of survivors. */
    uint64_t pattern[8];
    for (int w = 0; w < 8; w++)
        pattern[w] = 0x9249249249249249ull ^ ((uint64_t)w * 0x0101010101010101ull);
    pattern[3] = ~0ull;          /* a whole window allocated */
    pattern[7] = ~0ull >> 1;     /* only the last slot free */
    memcpy(s->alloc_bits, pattern, sizeof pattern);
    s->freeindex = 0;
    span_refill_alloc_cache(s, 0);
    walk_expect(s, pattern);
    heap_free_span(s);
}

static void test_walk_stops_at_nelems(void)
{
    /* 48-byte class: 170 slots, the last window holds 42. */
    span *s = heap_alloc_span(1, make_spanclass(4, 1));
    REQUIRE(s != NULL);
    EXPECT_EQ(s->nelems, 170);
    size_t n = 0;
    while (span_next_free_index(s) < s->nelems)
        n++;
    EXPECT_EQ(n, 170);
    EXPECT(bit_get(s->alloc_bits, 170) && bit_get(s->alloc_bits, 191));
    s->freeindex = 0;
    heap_free_span(s);
}

/* span_zero_free against a slot-by-slot oracle: random survivor patterns
 * (sparse, dense, runs across words) and freeindex values, in classes
 * whose slot count is a multiple of 64 (16 B: 512, 32 B: 256, no padding
 * bits) and not (48 B: 170, 1024 B: 8). */
static void test_zero_free_runs(void)
{
    static const unsigned classes[] = {2, 3, 4, 32};
    uint64_t seed = 0x243f6a8885a308d3ull;
    for (size_t c = 0; c < sizeof classes / sizeof classes[0]; c++) {
        span *s = heap_alloc_span(size_classes[classes[c]].npages, make_spanclass(classes[c], 1));
        REQUIRE(s != NULL);
        size_t n = s->nelems, words = (n + 63) / 64;
        unsigned char *base = (unsigned char *)s->start;
        for (int round = 0; round < 200; round++) {
            memset(base, 0xa5, n * s->elemsize);
            unsigned density = (unsigned)(round % 5); /* 0: all free .. 4: mostly allocated */
            for (size_t w = 0; w < words; w++) {
                uint64_t r = 0;
                for (unsigned k = 0; k < density; k++) {
                    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
                    r |= seed >> 7 ^ seed << 11;
                }
                if (round % 7 == 0)
                    r = w % 2 ? ~0ull : 0; /* long runs that cross words */
                s->alloc_bits[w] = r;
            }
            for (size_t i = n; i < words * 64; i++) /* the invariant: bits past nelems set */
                s->alloc_bits[i / 64] |= 1ull << (i % 64);
            size_t from = (size_t)(seed >> 33) % (n + 1);
            s->freeindex = (uint16_t)from;
            s->needzero = 1;
            span_zero_free(s);
            EXPECT_EQ(s->needzero, 0);
            for (size_t i = 0; i < n; i++) {
                bool cleared = i >= from && !((s->alloc_bits[i / 64] >> (i % 64)) & 1);
                const unsigned char *o = base + i * s->elemsize;
                for (size_t b = 0; b < s->elemsize; b++)
                    if (o[b] != (cleared ? 0 : 0xa5)) {
                        T_FAIL("class %u round %d slot %zu byte %zu: %#x", classes[c], round, i, b, o[b]);
                        goto next_class;
                    }
            }
        }
    next_class:
        memset(s->alloc_bits, 0, words * sizeof(uint64_t));
        s->freeindex = 0;
        span_refill_alloc_cache(s, 0);
        heap_free_span(s);
    }
}

static void test_small_span_counts(void)
{
    /* Class 66 (32 KiB objects, 4 pages): one word of bits, 1 object. */
    span *s = heap_alloc_span(4, make_spanclass(66, 0));
    REQUIRE(s != NULL);
    EXPECT_EQ(s->nelems, 1);
    EXPECT_EQ(span_next_free_index(s), 0);
    EXPECT_EQ(span_next_free_index(s), 1);
    EXPECT_EQ(span_next_free_index(s), 1);
    heap_free_span(s);
}

static void test_lookup_and_type_ids(void)
{
    span *s = heap_alloc_span(1, make_spanclass(3, 0)); /* 32-byte objects */
    REQUIRE(s != NULL);
    EXPECT(span_of(s->start) == s);
    EXPECT(span_of(s->start + PAGE_SIZE - 1) == s);
    EXPECT(span_of_heap(s->start + 40) == s);
    EXPECT_EQ(span_object_index(s, s->start + 40), 1);
    EXPECT_EQ(span_object_base(s, 1), s->start + 32);
    EXPECT(span_type_id(s, 3) == 0);
    /* The first object's type becomes the span's sole type: no array. */
    atomic_store(&s->alloc_count, 1);
    EXPECT_EQ(span_set_type_id(s, 3, 77), 0);
    EXPECT(s->type_ids == NULL);
    EXPECT_EQ(span_type_id(s, 3), 77);
    atomic_store(&s->alloc_count, 2);
    EXPECT_EQ(span_set_type_id(s, 4, 77), 0);
    EXPECT(s->type_ids == NULL && !atomic_load(&s->types_mixed));
    /* Another type next to live objects: mixed, with a per-slot array
     * that keeps the earlier objects' type. */
    atomic_store(&s->alloc_count, 3);
    EXPECT_EQ(span_set_type_id(s, 6, 5), 0);
    EXPECT(s->type_ids != NULL && atomic_load(&s->types_mixed));
    EXPECT_EQ(span_type_id(s, 3), 77);
    EXPECT_EQ(span_type_id(s, 4), 77);
    EXPECT_EQ(span_type_id(s, 6), 5);
    atomic_store(&s->alloc_count, 4);
    EXPECT_EQ(span_set_type_id(s, 7, 0), 0); /* untyped, in a mixed span */
    EXPECT_EQ(span_type_id(s, 7), 0);
    EXPECT_EQ(span_type_id(s, 6), 5);
    heap_free_span(s);
    EXPECT(span_of_heap(s->start) == NULL); /* record is dead now */
}

static void test_verify_catches_bad_counts(void)
{
    span *s = heap_alloc_span(1, make_spanclass(4, 1));
    REQUIRE(s != NULL);
    EXPECT_EQ(span_verify(s), 0);
    s->freeindex = 5;  /* five slots handed out ... */
    atomic_store(&s->alloc_count, 4);  /* ... but only four counted */
    EXPECT(span_verify(s) != 0);
    atomic_store(&s->alloc_count, 5);
    EXPECT_EQ(span_verify(s), 0);
    bit_clear(s->alloc_bits, s->nelems); /* a bit past the end offered as free */
    EXPECT(span_verify(s) != 0);
    bit_set(s->alloc_bits, s->nelems);
    bit_set(s->mark_bits, s->nelems + 1); /* a mark past the end */
    EXPECT(span_verify(s) != 0);
    bit_clear(s->mark_bits, s->nelems + 1);
    s->freeindex = 0;
    atomic_store(&s->alloc_count, 0);
    heap_free_span(s);
}

int main(void)
{
    REQUIRE(tc_init(&(tc_options){.gc_percent = -1}) == 0); /* the allocator alone */
    RUN(test_walk_fresh_and_patterned);
    RUN(test_walk_stops_at_nelems);
    RUN(test_zero_free_runs);
    RUN(test_small_span_counts);
    RUN(test_lookup_and_type_ids);
    RUN(test_verify_catches_bad_counts);
    EXPECT_EQ(heap_verify(NULL), 0);
    tc_shutdown();
    TEST_MAIN_END();
}
