/*
 * object_test.c -- lookup and walking (src/heap/object.c): tc_base for
 * every interior byte of small and large objects; NULL for free slots,
 * span tails and every address outside the heap (stack, globals, malloc
 * memory, code, NULL, huge addresses); tc_size and tc_type_of agree;
 * tc_heap_walk visits each allocated object exactly once with its size and
 * type, and tolerates allocation inside the callback.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "heap/heap_verify.h"
#include "heap/page_heap.h"
#include "test.h"
#include "tricolor.h"

static long a_global = 1;
static char a_bss[64];

static void test_interior_pointers(void)
{
    for (size_t size = 16; size <= 65536; size = size * 3 / 2) {
        unsigned char *p = tc_alloc(size);
        REQUIRE(p != NULL);
        size_t usable = tc_size(p);
        for (size_t off = 0; off < usable; off += (usable < 512 ? 1 : 97))
            if (tc_base(p + off) != p) {
                T_FAIL("size %zu: tc_base(p + %zu) != p", size, off);
                break;
            }
        EXPECT(tc_base(p + usable - 1) == p);
        EXPECT_EQ(tc_size(p + usable / 2), usable);
    }
}

static void test_outside_the_heap(void)
{
    long local = 0;
    void *m = malloc(64);
    EXPECT(tc_base(&local) == NULL);
    EXPECT(tc_base(&a_global) == NULL);
    EXPECT(tc_base(a_bss + 5) == NULL);
    EXPECT(tc_base(m) == NULL);
    EXPECT(tc_base((void *)test_outside_the_heap) == NULL);
    EXPECT(tc_base(NULL) == NULL);
    EXPECT(tc_base((void *)(uintptr_t)1) == NULL);
    EXPECT(tc_base((void *)((uintptr_t)1 << 48)) == NULL);
    EXPECT(tc_base((void *)~(uintptr_t)0) == NULL);
    EXPECT_EQ(tc_size(&local), 0);
    EXPECT(tc_type_of(m) == NULL);
    free(m);
}

static void test_free_slots_and_tails(void)
{
    /* A fresh span of 48-byte objects: only the handed-out slot counts. */
    unsigned char *p = tc_alloc(48);
    REQUIRE(p != NULL);
    span *s = span_of_heap((uintptr_t)p);
    REQUIRE(s != NULL);
    size_t idx = span_object_index(s, (uintptr_t)p);
    EXPECT(tc_base(p) == p);
    if (idx + 1 < s->nelems && s->freeindex == idx + 1)
        EXPECT(tc_base(p + 48) == NULL); /* next slot: free */
    /* The tail of a span past its last object (48 B class wastes 32 B). */
    uintptr_t tail = s->start + (uintptr_t)s->nelems * s->elemsize;
    if (tail < s->start + (s->npages << PAGE_SHIFT))
        EXPECT(tc_base((void *)tail) == NULL);
    /* Pages of the heap that hold no span at all. */
    unsigned char *big = tc_alloc(40000);
    REQUIRE(big != NULL);
    EXPECT(tc_base(big + tc_size(big)) != big);
}

typedef struct walk_state {
    void **objs;
    size_t n;
    size_t seen[64];
    size_t extra;
    int bad_size, bad_type;
    const tc_type *t;
    int allocate_inside;
} walk_state;

static void walker(void *obj, size_t size, const tc_type *t, void *arg)
{
    walk_state *w = arg;
    if (w->allocate_inside)
        (void)tc_alloc(32);
    for (size_t i = 0; i < w->n; i++) {
        if (w->objs[i] == obj) {
            w->seen[i]++;
            if (size != tc_size(obj))
                w->bad_size++;
            if ((i % 2 == 0) != (t == w->t))
                w->bad_type++;
            return;
        }
    }
    w->extra++;
}

static void test_heap_walk(void)
{
    const tc_type *t = tc_type_new("walked", 40, (size_t[]){8}, 1);
    REQUIRE(t != NULL);
    walk_state w = {0};
    void *objs[64];
    w.objs = objs;
    w.n = 64;
    w.t = t;
    for (size_t i = 0; i < 64; i++)
        objs[i] = i % 2 == 0 ? tc_new_array(t, i * 37 + 1) : tc_alloc_noscan(i * 1000 + 1);
    tc_heap_walk(walker, &w);
    for (size_t i = 0; i < 64; i++)
        if (w.seen[i] != 1)
            T_FAIL("object %zu seen %zu times", i, w.seen[i]);
    EXPECT_EQ(w.bad_size, 0);
    EXPECT_EQ(w.bad_type, 0);
    /* Every object the walk reports is allocated as far as tc_base knows,
     * and the walk's count is the heap's object count. */
    size_t before = w.extra;
    tc_stats st;
    tc_read_stats(&st);
    EXPECT_EQ(before + 64, st.heap_objects);
    memset(w.seen, 0, sizeof w.seen);
    w.allocate_inside = 1;
    tc_heap_walk(walker, &w);
    for (size_t i = 0; i < 64; i++)
        EXPECT_EQ(w.seen[i], 1);
    EXPECT_EQ(heap_verify(NULL), 0);
}

/* One thread keeps allocating typed and untyped 32-byte objects into the
 * same spans while another asks tc_type_of about the first one: the
 * type-id array appears under the reader's feet (run under TSan). */
static _Atomic(void *) first_obj;
static _Atomic int stop_reader;
static const tc_type *pair_type;

static void *type_reader(void *arg)
{
    (void)arg;
    if (tc_thread_attach() != 0)
        return (void *)1; /* no harness macros off the main thread */
    unsigned long bad = 0;
    while (!atomic_load(&stop_reader)) {
        void *p = atomic_load(&first_obj);
        if (p != NULL && tc_type_of(p) != NULL)
            bad++; /* the first object is untyped */
    }
    tc_thread_detach();
    return (void *)bad;
}

static void test_type_of_while_typing(void)
{
    pair_type = tc_type_new("pair32", 32, (size_t[]){0, 8}, 2);
    REQUIRE(pair_type != NULL);
    pthread_t th;
    pthread_create(&th, NULL, type_reader, NULL);
    for (int round = 0; round < 200; round++) {
        void *u = tc_alloc(32);
        atomic_store(&first_obj, u);
        for (int i = 0; i < 100; i++)
            REQUIRE(tc_new(pair_type) != NULL);
    }
    atomic_store(&stop_reader, 1);
    void *bad;
    pthread_join(th, &bad);
    EXPECT(bad == NULL);
}

int main(void)
{
    REQUIRE(tc_init(&(tc_options){.gc_percent = -1}) == 0); /* the allocator alone */
    RUN(test_interior_pointers);
    RUN(test_outside_the_heap);
    RUN(test_free_slots_and_tails);
    RUN(test_heap_walk);
    RUN(test_type_of_while_typing);
    EXPECT_EQ(heap_verify(NULL), 0);
    tc_shutdown();
    TEST_MAIN_END();
}
