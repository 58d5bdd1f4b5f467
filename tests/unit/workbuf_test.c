/*
 * workbuf_test.c -- mark work buffers (src/gc/workbuf.c): a gcwork is a
 * LIFO stack across its two buffers; full buffers go to the global list
 * and other workers take them; dispose publishes what is left; balance
 * shares work when the global list is empty; and under several threads
 * pushing and popping at once through the lock-free lists, every object
 * put is got exactly once.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "gc/workbuf.h"
#include "test.h"
#include "tricolor.h"

static void test_local_stack(void)
{
    gcwork gw = {0};
    EXPECT(gcwork_empty(&gw));
    for (uintptr_t i = 1; i <= 3 * WORKBUF_OBJS; i++)
        gcwork_put(&gw, i * 16);
    EXPECT(!workbuf_full_empty()); /* more than two buffers' worth: one shipped */
    size_t got = 0;
    uintptr_t obj;
    while ((obj = gcwork_get(&gw)) != 0)
        got++;
    EXPECT_EQ(got, 3 * WORKBUF_OBJS);
    EXPECT(gcwork_empty(&gw));
    EXPECT(workbuf_full_empty());
}

static void test_dispose_and_balance(void)
{
    gcwork a = {0}, b = {0};
    for (uintptr_t i = 1; i <= 10; i++)
        gcwork_put(&a, i * 16);
    EXPECT_EQ(gcwork_get(&b), 0); /* nothing published yet */
    gcwork_balance(&a);           /* global list empty: share half */
    EXPECT(!workbuf_full_empty());
    size_t from_b = 0;
    while (gcwork_get(&b) != 0)
        from_b++;
    EXPECT_EQ(from_b, 5);
    gcwork_dispose(&a);
    while (gcwork_get(&b) != 0)
        from_b++;
    EXPECT_EQ(from_b, 10);
    gcwork_dispose(&b);
    EXPECT(workbuf_full_empty());
}

#define PER_THREAD 200000
static _Atomic unsigned char *seen;

static void *worker(void *arg)
{
    uintptr_t id = (uintptr_t)arg;
    gcwork gw = {0};
    for (uintptr_t i = 0; i < PER_THREAD; i++) {
        gcwork_put(&gw, (id * PER_THREAD + i + 1) * 16);
        if (i % 3 == 0) {
            uintptr_t o = gcwork_get(&gw);
            if (o)
                atomic_fetch_add(&seen[o / 16 - 1], 1);
        }
        if (i % 1000 == 0)
            gcwork_dispose(&gw);
    }
    uintptr_t o;
    while ((o = gcwork_get(&gw)) != 0)
        atomic_fetch_add(&seen[o / 16 - 1], 1);
    gcwork_dispose(&gw);
    return NULL;
}

static void test_concurrent_lists(void)
{
    enum { T = 4 };
    seen = calloc((size_t)T * PER_THREAD, 1);
    pthread_t th[T];
    for (uintptr_t i = 0; i < T; i++)
        pthread_create(&th[i], NULL, worker, (void *)i);
    for (int i = 0; i < T; i++)
        pthread_join(th[i], NULL);
    /* Whatever is still published is drained here. */
    gcwork gw = {0};
    uintptr_t o;
    while ((o = gcwork_get(&gw)) != 0)
        atomic_fetch_add(&seen[o / 16 - 1], 1);
    size_t missing = 0, twice = 0;
    for (size_t i = 0; i < (size_t)T * PER_THREAD; i++) {
        missing += seen[i] == 0;
        twice += seen[i] > 1;
    }
    EXPECT_EQ(missing, 0);
    EXPECT_EQ(twice, 0);
    free((void *)seen);
}

int main(void)
{
    REQUIRE(tc_init(&(tc_options){.gc_percent = -1}) == 0); /* the lists alone */
    RUN(test_local_stack);
    RUN(test_dispose_and_balance);
    RUN(test_concurrent_lists);
    tc_shutdown();
    TEST_MAIN_END();
}
