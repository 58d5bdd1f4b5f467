/*
 * threads_test.c -- several threads allocating every size class and large
 * objects at once (the allocator's stress test): each thread fills the
 * objects it allocates with a pattern of its own and checks them all at the
 * end, so two threads ever handed the same memory, or a lost or
 * overlapping object, shows as a corrupted pattern; the heap verifier and
 * the statistics must agree afterwards.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "heap/heap_verify.h"
#include "heap/size_class.h"
#include "test.h"
#include "tricolor.h"

#define THREADS 4
#define ROUNDS 3

typedef struct worker {
    int id;
    size_t objects, bytes;
    int corrupt;
} worker;

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void *work(void *arg)
{
    worker *w = arg;
    if (tc_thread_attach() != 0)
        return NULL;
    enum { MAX = 20000 };
    static __thread unsigned char *objs[MAX];
    static __thread size_t sizes[MAX];
    size_t n = 0;
    uint64_t seed = 0x9e3779b97f4a7c15ull * (uint64_t)(w->id + 1);
    for (int round = 0; round < ROUNDS; round++) {
        for (unsigned c = 1; c < NUM_SIZE_CLASSES && n < MAX; c++) {
            size_t size = size_classes[c].size - (xorshift(&seed) % 8);
            int count = size < 1024 ? 64 : size < 8192 ? 8 : 2;
            for (int k = 0; k < count && n < MAX; k++) {
                unsigned char *p = (k & 1) ? tc_alloc_noscan(size) : tc_alloc(size);
                if (p == NULL)
                    return NULL;
                memset(p, (w->id * 31 + (int)n) & 0xff, size);
                objs[n] = p;
                sizes[n++] = size;
            }
        }
        for (int k = 0; k < 3 && n < MAX; k++) {
            size_t size = 40000 + xorshift(&seed) % (3 << 20);
            unsigned char *p = tc_alloc(size);
            if (p == NULL)
                return NULL;
            memset(p, (w->id * 31 + (int)n) & 0xff, size);
            objs[n] = p;
            sizes[n++] = size;
        }
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char want = (unsigned char)((w->id * 31 + (int)i) & 0xff);
        for (size_t b = 0; b < sizes[i]; b += 61)
            if (objs[i][b] != want) {
                w->corrupt++;
                break;
            }
        if (tc_base(objs[i] + sizes[i] - 1) != objs[i])
            w->corrupt++;
        w->objects++;
        w->bytes += tc_size(objs[i]);
    }
    tc_thread_detach();
    return NULL;
}

static _Atomic int workers_done;

typedef struct observer {
    unsigned long reads, walks, went_back, bad_objects;
} observer;

static void check_walked(void *obj, size_t size, const tc_type *t, void *arg)
{
    (void)t;
    observer *o = arg;
    if (tc_base(obj) != obj || tc_size(obj) != size)
        o->bad_objects++;
}

static void *observe(void *arg)
{
    observer *o = arg;
    if (tc_thread_attach() != 0)
        return NULL;
    uint64_t last_mallocs = 0, last_bytes = 0;
    while (!atomic_load(&workers_done)) {
        tc_stats st;
        tc_read_stats(&st);
        if (st.mallocs < last_mallocs || st.total_alloc < last_bytes)
            o->went_back++;
        last_mallocs = st.mallocs;
        last_bytes = st.total_alloc;
        o->reads++;
        if (o->reads % 64 == 0) {
            tc_heap_walk(check_walked, o);
            o->walks++;
        }
    }
    tc_thread_detach();
    return NULL;
}

static void test_concurrent_allocation(void)
{
    tc_stats before, after;
    tc_read_stats(&before);
    pthread_t th[THREADS];
    worker w[THREADS];
    memset(w, 0, sizeof w);
    for (int i = 0; i < THREADS; i++) {
        w[i].id = i;
        pthread_create(&th[i], NULL, work, &w[i]);
    }
    observer obs = {0};
    pthread_t obs_th;
    pthread_create(&obs_th, NULL, observe, &obs);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    atomic_store(&workers_done, 1);
    pthread_join(obs_th, NULL);
    EXPECT(obs.reads > 0);
    EXPECT_EQ(obs.went_back, 0);
    EXPECT_EQ(obs.bad_objects, 0);
    size_t objects = 0, bytes = 0;
    for (int i = 0; i < THREADS; i++) {
        EXPECT(w[i].objects > 0);
        EXPECT_EQ(w[i].corrupt, 0);
        objects += w[i].objects;
        bytes += w[i].bytes;
    }
    tc_read_stats(&after);
    EXPECT_EQ(after.mallocs - before.mallocs, objects);
    EXPECT_EQ(after.total_alloc - before.total_alloc, bytes);
    heap_census cs;
    EXPECT_EQ(heap_verify(&cs), 0);
    EXPECT_EQ(cs.objects, after.heap_objects);
    EXPECT_EQ(cs.object_bytes, after.heap_alloc);
}

int main(void)
{
    REQUIRE(tc_init(&(tc_options){.gc_percent = -1}) == 0); /* the allocator alone */
    size_class_init();
    RUN(test_concurrent_allocation);
    tc_shutdown();
    TEST_MAIN_END();
}
