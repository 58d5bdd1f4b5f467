/*
 * mcache_test.c -- thread caches and central lists (src/heap/mcache.c,
 * src/heap/mcentral.c): the first allocation of a class goes through the
 * empty sentinel to a refill; a full span goes back to its mcentral's full
 * list and a fresh one is cached; detaching returns every cached span
 * (partial ones to the partial list) and another thread continues
 * allocating in a returned partial span; sweep generations follow Go's
 * cached/uncached states.  After fork, a span a vanished thread had taken
 * from its mcentral but not yet cached is put back on a swept list, and
 * the surviving thread's cached spans are left alone
 * (test_fork_adopts_orphans).
 */
#include <pthread.h>

#include "heap/heap_verify.h"
#include "heap/mcache.h"
#include "heap/mcentral.h"
#include "heap/page_heap.h"
#include "mutator/thread.h"
#include "test.h"
#include "tricolor.h"

static void test_refill_cycle(void)
{
    spanclass_t sc = make_spanclass(size_to_class(64), 1);
    mcache *c = tls_mcache;
    EXPECT(mcache_span(c, sc) == &empty_span);
    void *first = tc_alloc_noscan(64);
    REQUIRE(first != NULL);
    span *s = mcache_span(c, sc);
    EXPECT(s != &empty_span);
    EXPECT(s->list == NULL);
    EXPECT_EQ(atomic_load(&s->sweepgen), atomic_load(&heap.sweepgen) + 3);
    /* Fill the span; the next allocation must move to another span. */
    for (size_t i = 1; i < s->nelems; i++)
        REQUIRE(tc_alloc_noscan(64) != NULL);
    EXPECT(mcache_span(c, sc) == s);
    EXPECT_EQ(atomic_load(&s->alloc_count), s->nelems);
    void *next = tc_alloc_noscan(64);
    REQUIRE(next != NULL);
    EXPECT(mcache_span(c, sc) != s);
    EXPECT(span_of_heap((uintptr_t)next) == mcache_span(c, sc));
    mcentral *mc = &central[sc];
    unsigned half = sweep_swept_index(atomic_load(&heap.sweepgen));
    EXPECT(s->list == &mc->full[half]);
    EXPECT_EQ(atomic_load(&s->sweepgen), atomic_load(&heap.sweepgen));
    EXPECT_EQ(heap_verify(NULL), 0);
}

static span *partial_span;

static void *allocate_then_detach(void *arg)
{
    (void)arg;
    REQUIRE(tc_thread_attach() == 0);
    EXPECT_EQ(tc_thread_attach(), TC_EBUSY);
    spanclass_t sc = make_spanclass(size_to_class(256), 0);
    for (int i = 0; i < 5; i++)
        REQUIRE(tc_alloc(256) != NULL);
    partial_span = mcache_span(tls_mcache, sc);
    tc_thread_detach();
    EXPECT(tls_mcache == &mcache_unattached);
    return NULL;
}

static void test_detach_returns_spans(void)
{
    pthread_t th;
    pthread_create(&th, NULL, allocate_then_detach, NULL);
    pthread_join(th, NULL);
    REQUIRE(partial_span != NULL);
    spanclass_t sc = make_spanclass(size_to_class(256), 0);
    unsigned half = sweep_swept_index(atomic_load(&heap.sweepgen));
    EXPECT(partial_span->list == &central[sc].partial[half]);
    EXPECT_EQ(atomic_load(&partial_span->alloc_count), 5);
    /* This thread's next 256-byte object comes from that partial span. */
    void *p = tc_alloc(256);
    EXPECT(span_of_heap((uintptr_t)p) == partial_span);
    EXPECT_EQ(span_object_index(partial_span, (uintptr_t)p), 5);
    EXPECT_EQ(heap_verify(NULL), 0);
}

static void *exit_without_detach(void *arg)
{
    (void)arg;
    REQUIRE(tc_thread_attach() == 0);
    REQUIRE(tc_alloc(4096) != NULL);
    return NULL; /* the thread-exit destructor detaches */
}

static void test_exit_without_detach(void)
{
    size_t before = registry.count;
    pthread_t th;
    pthread_create(&th, NULL, exit_without_detach, NULL);
    pthread_join(th, NULL);
    EXPECT_EQ(registry.count, before);
    EXPECT_EQ(heap_verify(NULL), 0);
}

static void test_fork_adopts_orphans(void)
{
    spanclass_t sc = make_spanclass(size_to_class(48), 1);
    mcache *c = tls_mcache;
    REQUIRE(tc_alloc_noscan(48) != NULL); /* this thread caches a span of sc */
    span *mine = mcache_span(c, sc);
    /* What a thread in mcache_refill holds between taking a span and
     * caching it: off every list, sweepgen h + 3, one slot handed out. */
    span *orphan = mcentral_cache_span(&central[sc]);
    REQUIRE(orphan != NULL && orphan != mine && orphan->list == NULL);
    size_t idx = span_next_free_index(orphan);
    REQUIRE(idx < orphan->nelems);
    uint32_t sg = atomic_load(&heap.sweepgen);
    EXPECT_EQ(atomic_load(&orphan->sweepgen), sg + 3);
    mcentral_fork_adopt_orphans(c);
    EXPECT(orphan->list == &central[sc].partial[sweep_swept_index(sg)]);
    EXPECT_EQ(atomic_load(&orphan->sweepgen), sg);
    EXPECT_EQ(atomic_load(&orphan->alloc_count), span_count_allocated(orphan));
    EXPECT_EQ(atomic_load(&orphan->freeindex_for_scan), orphan->freeindex);
    EXPECT(mine->list == NULL); /* the survivor's cache is untouched */
    EXPECT_EQ(atomic_load(&mine->sweepgen), sg + 3);
    EXPECT_EQ(heap_verify(NULL), 0);
}

int main(void)
{
    REQUIRE(tc_init(&(tc_options){.gc_percent = -1}) == 0); /* the allocator alone */
    RUN(test_refill_cycle);
    RUN(test_detach_returns_spans);
    RUN(test_exit_without_detach);
    RUN(test_fork_adopts_orphans);
    tc_shutdown();
    TEST_MAIN_END();
}
