/*
 * heap_verify_test.c -- the heap verifier (src/heap/heap_verify.c) passes
 * on a healthy heap and catches each kind of damage it promises to:
 * a span whose counts disagree with its bits, a page mapped to the wrong
 * span, a span on the wrong mcentral list, and page counts that disagree
 * with the all-spans list.  Each damage is undone afterwards.
 */
#include "heap/heap_verify.h"
#include "heap/mcentral.h"
#include "heap/page_heap.h"
#include "test.h"
#include "tricolor.h"

static void test_healthy(void)
{
    for (int i = 0; i < 3000; i++)
        REQUIRE(tc_alloc((size_t)(i * 7 % 5000) + 1) != NULL);
    heap_census cs;
    EXPECT_EQ(heap_verify(&cs), 0);
    EXPECT(cs.spans_in_use > 10);
}

static void test_detects_damage(void)
{
    void *p = tc_alloc(2000);
    void *q = tc_alloc(100000);
    REQUIRE(p && q);
    span *s = span_of_heap((uintptr_t)p), *big = span_of_heap((uintptr_t)q);
    fprintf(stderr, "(the following violations are deliberate)\n");

    uint16_t n = atomic_load(&s->alloc_count);
    atomic_store(&s->alloc_count, (uint16_t)(n + 1));
    EXPECT(heap_verify(NULL) > 0);
    atomic_store(&s->alloc_count, n);
    EXPECT_EQ(heap_verify(NULL), 0);

    arena *a = arena_of(big->start);
    size_t pi = arena_page_index(big->start + PAGE_SIZE);
    atomic_store(&a->spans[pi], s);
    EXPECT(heap_verify(NULL) > 0);
    atomic_store(&a->spans[pi], big);
    EXPECT_EQ(heap_verify(NULL), 0);

    /* A full large span listed as partial. */
    mcentral *c = &central[big->spanclass];
    span_list *was = big->list;
    lock_acquire(&c->lock);
    span_list_remove(was, big);
    span_list_push(&c->partial[0], big);
    lock_release(&c->lock);
    big->nelems = 2; /* and its count no longer says full */
    EXPECT(heap_verify(NULL) > 0);
    big->nelems = 1;
    lock_acquire(&c->lock);
    span_list_remove(&c->partial[0], big);
    span_list_push(was, big);
    lock_release(&c->lock);
    EXPECT_EQ(heap_verify(NULL), 0);

    /* A span that claims more pages than the page allocator gave it. */
    big->npages++;
    EXPECT(heap_verify(NULL) > 0);
    big->npages--;
    EXPECT_EQ(heap_verify(NULL), 0);
}

int main(void)
{
    REQUIRE(tc_init(&(tc_options){.gc_percent = -1}) == 0); /* the allocator alone */
    RUN(test_healthy);
    RUN(test_detects_damage);
    tc_shutdown();
    TEST_MAIN_END();
}
