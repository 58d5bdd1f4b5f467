/*
 * weak_test.c -- weak references (src/gc/weak.c, special.c).
 *
 *  - test_one_handle_per_object: tc_weak_new gives the same handle for the
 *    same object (also from an interior pointer), different handles for
 *    different objects, NULL for NULL and foreign pointers; the handle is a
 *    heap object.
 *  - test_get_while_alive_then_null: tc_weak_get returns the object while a
 *    root holds it, NULL once it was dropped and a cycle ran; the handle
 *    does not keep it alive; weak_handles counts live records.
 *  - test_cleared_before_finalizer: an object with a finalizer and a weak
 *    handle: inside the finalizer the handle already reads NULL, and a new
 *    handle made for the revived object is a different one.
 *  - test_concurrent_readers: two threads read 100000 handles at random while
 *    the main thread drops or replaces their objects and cycles run back
 *    to back (clobberfree on): every object a read returns is intact --
 *    never a freed (poisoned) one -- and reads of dropped objects turn NULL.
 *  - test_not_a_handle: tc_weak_get of a pointer that is not a handle
 *    aborts naming the problem (in a child).
 */
#include <pthread.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "reach.h"
#include "test.h"
#include "child.h"
#include "util.h"
#include "tricolor.h"

#define NOINLINE __attribute__((noinline))
#define MAGIC 0x7eab7eab7eab7eabull

struct obj {
    struct obj *next;
    uint64_t magic, id;
};

static const tc_type *obj_type;

static struct obj *new_obj(uint64_t id)
{
    struct obj *o = tc_new(obj_type);
    REQUIRE(o != NULL);
    o->magic = MAGIC;
    o->id = id;
    return o;
}

static int obj_ok(const struct obj *o, uint64_t id) { return o->magic == MAGIC && o->id == id; }

static NOINLINE void collect_n(int cycles)
{
    for (int i = 0; i < cycles; i++) {
        scrub_stack();
        tc_collect();
    }
}

static void test_one_handle_per_object(void)
{
    struct obj *a = new_obj(1), *b = new_obj(2);
    void *ha = tc_weak_new(a), *hb = tc_weak_new(b);
    EXPECT(ha != NULL && hb != NULL && ha != hb);
    EXPECT(tc_weak_new(a) == ha);
    EXPECT(tc_weak_new(&a->id) == ha); /* interior: the same object */
    EXPECT(tc_weak_get(ha) == a);
    EXPECT(tc_base(ha) == ha);
    EXPECT(tc_weak_new(NULL) == NULL);
    static uint64_t foreign[2];
    EXPECT(tc_weak_new(foreign) == NULL);
    __asm__ volatile("" ::"r"(a), "r"(b) : "memory");
}

static struct obj *held[8]; /* a registered root */

static NOINLINE uintptr_t make_weak(uint64_t id, int slot)
{
    struct obj *o = new_obj(id);
    tc_store(&held[slot], o);
    return hide(tc_weak_new(o));
}

static NOINLINE int get_is(uintptr_t h, uint64_t id)
{
    struct obj *o = tc_weak_get(unhide(h));
    return o != NULL && obj_ok(o, id);
}

static NOINLINE int get_is_null(uintptr_t h) { return tc_weak_get(unhide(h)) == NULL; }

static void test_get_while_alive_then_null(void)
{
    REQUIRE(tc_root_add(held, sizeof held) == 0);
    collect_n(3); /* the previous test's objects go first */
    tc_stats st0, st1, st2;
    tc_read_stats(&st0);
    uintptr_t h = make_weak(5, 0);
    void *handle = unhide(h); /* the handle itself stays reachable */
    tc_read_stats(&st1);
    EXPECT_EQ(st1.weak_handles, st0.weak_handles + 1);
    collect_n(2);
    EXPECT(get_is(h, 5));
    tc_store(&held[0], NULL);
    int gone = 0;
    for (int i = 0; i < 5 && !gone; i++) {
        collect_n(1);
        gone = get_is_null(h);
    }
    EXPECT(gone);
    tc_read_stats(&st2);
    EXPECT(st2.weak_handles < st1.weak_handles);
    EXPECT(tc_base(handle) == handle); /* the handle lives on, empty */
    EXPECT(tc_weak_get(handle) == NULL);
    tc_root_remove(held);
}

/* ---- Finalizer and weak handle together ---------------------------------------- */

static _Atomic uintptr_t fin_handle; /* hidden */
static _Atomic int fin_saw_null, fin_ran;
static struct obj *revived[2];

static void fin(void *o, void *arg)
{
    (void)arg;
    atomic_store(&fin_saw_null, tc_weak_get(unhide(atomic_load(&fin_handle))) == NULL);
    tc_store(&revived[0], o);
    atomic_store(&fin_ran, 1);
}

static NOINLINE void make_fin_weak(void)
{
    struct obj *o = new_obj(77);
    atomic_store(&fin_handle, hide(tc_weak_new(o)));
    REQUIRE(tc_set_finalizer(o, fin, NULL) == 0);
}

static void test_cleared_before_finalizer(void)
{
    REQUIRE(tc_root_add(revived, sizeof revived) == 0);
    void *keep = NULL;
    make_fin_weak();
    keep = unhide(atomic_load(&fin_handle));
    for (int i = 0; i < 5 && !atomic_load(&fin_ran); i++) {
        collect_n(1);
        tc_blocking_begin();
        usleep(20000);
        tc_blocking_end();
    }
    EXPECT(atomic_load(&fin_ran));
    EXPECT(atomic_load(&fin_saw_null));
    EXPECT(tc_weak_get(keep) == NULL); /* stays NULL after the revival */
    EXPECT(revived[0] != NULL && obj_ok(revived[0], 77));
    void *again = tc_weak_new(revived[0]);
    EXPECT(again != NULL && again != keep);
    EXPECT(tc_weak_get(again) == revived[0]);
    tc_store(&revived[0], NULL);
    tc_root_remove(revived);
}

/* ---- Concurrent readers --------------------------------------------------------- */

#define NH 100000 /* many: readers shade what they read while marking, so most must go unread */

static struct obj *targets[NH]; /* a registered root: the strong references */
static void *handles[NH];       /* a registered root: the handles */
static void *snap[NH];          /* a registered root: the first handles, all the readers read */
static _Atomic int stop_readers;
static _Atomic uint64_t bad_reads, good_reads, null_reads;

static void *reader(void *arg)
{
    uint64_t seed = (uint64_t)(uintptr_t)arg * 0x9e3779b97f4a7c15u + 1;
    /* The last objects read, held on this stack: an object tc_weak_get
     * returned must stay alive while held, so it is checked again when its
     * place is reused.  One returned after it was found dead would have
     * been freed (and poisoned) by then. */
    struct obj *volatile recent[64] = {0};
    unsigned r = 0;
    if (tc_thread_attach() != 0) /* REQUIRE's counters are the main thread's */
        abort();
    while (!atomic_load(&stop_readers)) {
        size_t i = (size_t)(rnd(&seed) % NH);
        struct obj *o = tc_weak_get(snap[i]);
        if (o == NULL) {
            atomic_fetch_add(&null_reads, 1);
            continue;
        }
        struct obj *old = recent[r % 64];
        if (old != NULL && (old->magic != MAGIC || tc_base(old) != old))
            atomic_fetch_add(&bad_reads, 1);
        if (o->magic != MAGIC || tc_base(o) != o)
            atomic_fetch_add(&bad_reads, 1);
        else
            atomic_fetch_add(&good_reads, 1);
        recent[r++ % 64] = o;
    }
    tc_thread_detach();
    return NULL;
}

static NOINLINE void replace(size_t i, uint64_t id)
{
    struct obj *o = new_obj(id);
    void *h = tc_weak_new(o);
    REQUIRE(h != NULL);
    tc_store(&targets[i], o);
    tc_store(&handles[i], h);
}

static void test_concurrent_readers(void)
{
    REQUIRE(tc_root_add(targets, sizeof targets) == 0);
    REQUIRE(tc_root_add(handles, sizeof handles) == 0);
    REQUIRE(tc_root_add(snap, sizeof snap) == 0);
    for (size_t i = 0; i < NH; i++) {
        replace(i, i);
        tc_store(&snap[i], handles[i]); /* before the readers start: never written again */
    }
    pthread_t th[2];
    for (int k = 0; k < 2; k++)
        REQUIRE(pthread_create(&th[k], NULL, reader, (void *)(uintptr_t)(k + 1)) == 0);
    uint64_t seed = 12345, id = NH;
    uint64_t end = now_ns() + 1500000000ull;
    int cycles = 0;
    while (now_ns() < end) {
        /* Drop the strong reference of some objects (their handles stay),
         * replace others, collect. */
        for (int k = 0; k < 5000; k++) {
            size_t i = (size_t)(rnd(&seed) % NH);
            if (rnd(&seed) % 2)
                tc_store(&targets[i], NULL);
            else
                replace(i, id++);
        }
        scrub_stack();
        tc_collect();
        cycles++;
    }
    atomic_store(&stop_readers, 1);
    tc_blocking_begin();
    for (int k = 0; k < 2; k++)
        pthread_join(th[k], NULL);
    tc_blocking_end();
    EXPECT_EQ(atomic_load(&bad_reads), 0);
    EXPECT(atomic_load(&good_reads) > 1000);
    EXPECT(atomic_load(&null_reads) > 0);
    /* After the end: a handle reads NULL exactly when its object was
     * dropped (or is still held through a stale word: never the reverse). */
    int mismatch = 0;
    for (size_t i = 0; i < NH; i++)
        if (targets[i] != NULL && tc_weak_get(handles[i]) != targets[i])
            mismatch++;
    EXPECT_EQ(mismatch, 0);
    fprintf(stderr, "    %d cycles, %llu reads of live objects, %llu of collected ones\n", cycles,
            (unsigned long long)atomic_load(&good_reads), (unsigned long long)atomic_load(&null_reads));
    for (size_t i = 0; i < NH; i++) {
        tc_store(&targets[i], NULL);
        tc_store(&handles[i], NULL);
        tc_store(&snap[i], NULL);
    }
    tc_root_remove(targets);
    tc_root_remove(handles);
    tc_root_remove(snap);
}

/* ---- Misuse ------------------------------------------------------------------- */

static int not_a_handle_child(int unused)
{
    (void)unused;
    tc_options o = {.gc_percent = -1};
    if (tc_init(&o) != 0)
        return 1;
    obj_type = TC_TYPE(struct obj, next);
    struct obj *x = new_obj(1);
    tc_weak_get(x); /* aborts */
    return 0;
}

static void test_not_a_handle(void)
{
    child_result r;
    run_child(not_a_handle_child, 0, 30, &r);
    EXPECT(!r.timed_out);
    EXPECT(r.status != 0);
    EXPECT(strstr(r.out, "not a weak handle") != NULL);
}

int main(void)
{
    setenv("TRICOLOR", "clobberfree=1", 1); /* a freed object read shows */
    tc_options o = {.gc_percent = -1};
    REQUIRE(tc_init(&o) == 0);
    obj_type = TC_TYPE(struct obj, next);
    RUN(test_one_handle_per_object);
    RUN(test_get_while_alive_then_null);
    RUN(test_cleared_before_finalizer);
    RUN(test_concurrent_readers);
    tc_shutdown();
    RUN(test_not_a_handle);
    TEST_MAIN_END();
}
