/*
 * finalizer_test.c -- finalizers (src/gc/finalizer.c, special.c).
 *
 *  - test_bad_arguments: an interior pointer, a foreign pointer and NULL
 *    are TC_EINVAL; an unattached thread gets TC_ESTATE.
 *  - test_runs_once_with_object_intact: 200 dropped objects, each with a
 *    finalizer: each runs exactly once, on the finalizer thread, with the
 *    object and the child it references intact; more cycles run none again.
 *  - test_freed_after_finalizer: once their finalizers ran, the objects
 *    are freed by later cycles.
 *  - test_clear: fn NULL removes a finalizer; it never runs.
 *  - test_order: A references B, both finalizable: A's finalizer runs in
 *    one cycle, B's only in a later one.
 *  - test_resurrection: a finalizer that stores its object in a root
 *    revives it: intact after more cycles, finalized once; a finalizer set
 *    again on the revived object runs when it is dropped again.
 *  - test_cycle_never_collected: an object on a reference cycle through
 *    itself is never finalized (documented).
 *  - test_finalizer_reentrancy: a finalizer that allocates, sets new
 *    finalizers and calls tc_collect does not deadlock (run in a child
 *    with a timeout).
 *  - test_stats: finalizers_queued and finalizers_run count.
 *
 * Objects are made in separate frames and the stack is scrubbed before
 * collecting (reach.h), so conservative scanning does not keep them.
 */
#include <pthread.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "reach.h"
#include "test.h"
#include "child.h"
#include "util.h"
#include "tricolor.h"

#define NOINLINE __attribute__((noinline))
#define MAGIC 0x5eed5eed5eed5eedull
#define N 200

struct node {
    struct node *child;
    uint64_t magic, id;
};

static const tc_type *node_type;

static struct node *new_node(uint64_t id, struct node *child)
{
    struct node *n = tc_new(node_type);
    REQUIRE(n != NULL);
    n->magic = MAGIC;
    n->id = id;
    TC_STORE(n->child, child);
    return n;
}

static int node_ok(const struct node *n, uint64_t id)
{
    return n != NULL && n->magic == MAGIC && n->id == id;
}

/* Collects `cycles` times with a scrubbed stack. */
static NOINLINE void collect_n(int cycles)
{
    for (int i = 0; i < cycles; i++) {
        scrub_stack();
        tc_collect();
    }
}

/* Waits up to 10 s until *counter reaches want; returns it. */
static uint64_t wait_count(_Atomic uint64_t *counter, uint64_t want)
{
    uint64_t deadline = now_ns() + 10000000000ull;
    while (atomic_load(counter) < want && now_ns() < deadline) {
        tc_blocking_begin();
        usleep(1000);
        tc_blocking_end();
    }
    return atomic_load(counter);
}

/* ---- Arguments -------------------------------------------------------------- */

static void noop_fin(void *obj, void *arg) { (void)obj, (void)arg; }

static void *unattached_set(void *arg)
{
    return (void *)(intptr_t)tc_set_finalizer(arg, noop_fin, NULL);
}

static void test_bad_arguments(void)
{
    struct node *n = new_node(1, NULL);
    EXPECT_EQ(tc_set_finalizer((char *)n + 8, noop_fin, NULL), TC_EINVAL);
    static uint64_t foreign[4];
    EXPECT_EQ(tc_set_finalizer(foreign, noop_fin, NULL), TC_EINVAL);
    EXPECT_EQ(tc_set_finalizer(NULL, noop_fin, NULL), TC_EINVAL);
    pthread_t th;
    void *rc;
    REQUIRE(pthread_create(&th, NULL, unattached_set, n) == 0);
    tc_blocking_begin();
    pthread_join(th, &rc);
    tc_blocking_end();
    EXPECT_EQ((intptr_t)rc, TC_ESTATE);
    EXPECT_EQ(tc_set_finalizer(n, noop_fin, NULL), 0);
    EXPECT_EQ(tc_set_finalizer(n, NULL, NULL), 0);
}

/* ---- Runs once ------------------------------------------------------------ */

static _Atomic int runs[N];
static _Atomic int intact[N];
static _Atomic uint64_t ran;
static uintptr_t addr[N]; /* hidden */
static pthread_t main_thread;
static _Atomic int on_main_thread;

static void count_fin(void *obj, void *arg)
{
    uint64_t id = (uint64_t)(uintptr_t)arg;
    struct node *n = obj;
    if (node_ok(n, id) && node_ok(n->child, id + 1000000))
        atomic_fetch_add(&intact[id], 1);
    if (pthread_equal(pthread_self(), main_thread))
        atomic_store(&on_main_thread, 1);
    atomic_fetch_add(&runs[id], 1);
    atomic_fetch_add(&ran, 1);
}

static NOINLINE void make_finalizable(int count)
{
    for (int i = 0; i < count; i++) {
        struct node *n = new_node((uint64_t)i, new_node((uint64_t)i + 1000000, NULL));
        REQUIRE(tc_set_finalizer(n, count_fin, (void *)(uintptr_t)i) == 0);
        addr[i] = hide(n);
    }
}

static void test_runs_once_with_object_intact(void)
{
    main_thread = pthread_self();
    make_finalizable(N);
    collect_n(2);
    EXPECT_EQ(wait_count(&ran, N), N);
    collect_n(3);
    usleep(20000);
    int once = 0, ok = 0;
    for (int i = 0; i < N; i++) {
        once += atomic_load(&runs[i]) == 1;
        ok += atomic_load(&intact[i]) == 1;
    }
    EXPECT_EQ(once, N);
    EXPECT_EQ(ok, N);
    EXPECT_EQ(atomic_load(&ran), N);
    EXPECT(!atomic_load(&on_main_thread));
}

static void test_freed_after_finalizer(void)
{
    collect_n(3);
    int freed = 0;
    for (int i = 0; i < N; i++)
        freed += tc_base(unhide(addr[i])) == NULL;
    /* Conservative scanning may hold a few through stale words. */
    EXPECT(freed >= N * 9 / 10);
}

/* ---- Clear ---------------------------------------------------------------- */

static _Atomic uint64_t cleared_runs;
static void cleared_fin(void *obj, void *arg) { (void)obj, (void)arg, atomic_fetch_add(&cleared_runs, 1); }

static NOINLINE void make_cleared(int count)
{
    for (int i = 0; i < count; i++) {
        struct node *n = new_node(7, NULL);
        REQUIRE(tc_set_finalizer(n, cleared_fin, NULL) == 0);
        REQUIRE(tc_set_finalizer(n, NULL, NULL) == 0);
    }
}

static void test_clear(void)
{
    tc_stats before, after;
    tc_read_stats(&before);
    make_cleared(50);
    collect_n(3);
    usleep(50000);
    EXPECT_EQ(atomic_load(&cleared_runs), 0);
    tc_read_stats(&after);
    EXPECT_EQ(after.finalizers_queued, before.finalizers_queued);
}

/* ---- Order ---------------------------------------------------------------- */

static _Atomic uint64_t order_seq;
static _Atomic uint64_t a_at, b_at, a_cycle, b_cycle;

static uint32_t gc_count(void)
{
    tc_stats st;
    tc_read_stats(&st);
    return st.num_gc;
}

static void a_fin(void *obj, void *arg)
{
    (void)obj, (void)arg;
    atomic_store(&a_cycle, gc_count());
    atomic_store(&a_at, atomic_fetch_add(&order_seq, 1) + 1);
}

static void b_fin(void *obj, void *arg)
{
    (void)obj, (void)arg;
    atomic_store(&b_cycle, gc_count());
    atomic_store(&b_at, atomic_fetch_add(&order_seq, 1) + 1);
}

static NOINLINE void make_pair(void)
{
    struct node *b = new_node(2, NULL);
    struct node *a = new_node(1, b);
    REQUIRE(tc_set_finalizer(a, a_fin, NULL) == 0);
    REQUIRE(tc_set_finalizer(b, b_fin, NULL) == 0);
}

static void test_order(void)
{
    make_pair();
    collect_n(1);
    EXPECT_EQ(wait_count(&a_at, 1), 1);
    usleep(20000);
    EXPECT_EQ(atomic_load(&b_at), 0); /* B was kept by A this cycle */
    for (int i = 0; i < 5 && atomic_load(&b_at) == 0; i++) {
        collect_n(1);
        usleep(20000);
    }
    EXPECT_EQ(atomic_load(&b_at), 2);
    EXPECT(atomic_load(&b_cycle) > atomic_load(&a_cycle));
}

/* ---- Resurrection ----------------------------------------------------------- */

static struct node *saved[4]; /* a registered root */
static _Atomic uint64_t revive_runs, second_runs;

static void second_fin(void *obj, void *arg)
{
    (void)arg;
    if (node_ok(obj, 42))
        atomic_fetch_add(&second_runs, 1);
}

static void revive_fin(void *obj, void *arg)
{
    (void)arg;
    tc_store(&saved[0], obj);
    atomic_fetch_add(&revive_runs, 1);
}

static NOINLINE void make_revivable(void)
{
    struct node *n = new_node(42, new_node(43, NULL));
    REQUIRE(tc_set_finalizer(n, revive_fin, NULL) == 0);
}

static NOINLINE void drop_saved(void)
{
    REQUIRE(tc_set_finalizer(saved[0], second_fin, NULL) == 0);
    tc_store(&saved[0], NULL);
}

static void test_resurrection(void)
{
    REQUIRE(tc_root_add(saved, sizeof saved) == 0);
    make_revivable();
    collect_n(1);
    EXPECT_EQ(wait_count(&revive_runs, 1), 1);
    collect_n(3);
    EXPECT(node_ok(saved[0], 42));
    EXPECT(saved[0] != NULL && node_ok(saved[0]->child, 43));
    EXPECT_EQ(atomic_load(&revive_runs), 1);
    drop_saved();
    collect_n(2);
    EXPECT_EQ(wait_count(&second_runs, 1), 1);
    tc_root_remove(saved);
}

/* ---- Cycles ----------------------------------------------------------------- */

static _Atomic uint64_t cycle_runs;
static void cycle_fin(void *obj, void *arg) { (void)obj, (void)arg, atomic_fetch_add(&cycle_runs, 1); }

static NOINLINE uintptr_t make_cycle(void)
{
    struct node *a = new_node(1, NULL);
    struct node *b = new_node(2, a);
    TC_STORE(a->child, b);
    REQUIRE(tc_set_finalizer(a, cycle_fin, NULL) == 0);
    return hide(a);
}

static void test_cycle_never_collected(void)
{
    uintptr_t a = make_cycle();
    collect_n(4);
    usleep(50000);
    EXPECT_EQ(atomic_load(&cycle_runs), 0);
    EXPECT(node_ok(unhide(a), 1));
    EXPECT(tc_set_finalizer(unhide(a), NULL, NULL) == 0); /* now it can go */
}

/* ---- Re-entrancy ------------------------------------------------------------- */

static _Atomic uint64_t nested_runs;

static void nested_fin(void *obj, void *arg)
{
    (void)obj;
    atomic_fetch_add(&nested_runs, 1);
    int depth = (int)(uintptr_t)arg;
    if (depth < 3) {
        struct node *n = new_node(9, new_node(10, NULL)); /* allocates */
        if (tc_set_finalizer(n, nested_fin, (void *)(uintptr_t)(depth + 1)) != 0)
            abort();
        tc_collect(); /* a whole cycle, from the finalizer thread */
    }
}

static NOINLINE void make_nested(void)
{
    for (int i = 0; i < 4; i++)
        REQUIRE(tc_set_finalizer(new_node(8, NULL), nested_fin, (void *)(uintptr_t)0) == 0);
}

static int reentrancy_child(int unused)
{
    (void)unused;
    tc_options o = {.gc_percent = -1};
    if (tc_init(&o) != 0)
        return 1;
    node_type = TC_TYPE(struct node, child);
    make_nested();
    /* 4 roots, each finalizer makes one more, three deep: 16 in all. */
    for (int i = 0; i < 40 && atomic_load(&nested_runs) < 16; i++) {
        collect_n(1);
        tc_blocking_begin();
        usleep(5000);
        tc_blocking_end();
    }
    int ok = atomic_load(&nested_runs) >= 16;
    tc_shutdown();
    return ok ? 0 : 2;
}

static void test_finalizer_reentrancy(void)
{
    child_result r;
    run_child(reentrancy_child, 0, 60, &r);
    EXPECT(!r.timed_out);
    EXPECT_EQ(r.status, 0);
    if (r.status != 0)
        fprintf(stderr, "%s", r.out);
}

static void test_stats(void)
{
    tc_stats st;
    tc_read_stats(&st);
    /* N + order 2 + revive 2; counted by what the tests above saw run. */
    uint64_t seen = atomic_load(&ran) + (atomic_load(&a_at) != 0) + (atomic_load(&b_at) != 0) +
                    atomic_load(&revive_runs) + atomic_load(&second_runs);
    EXPECT_EQ(st.finalizers_run, seen);
    EXPECT(st.finalizers_queued >= st.finalizers_run);
    EXPECT_EQ(st.finalizers_queued, seen); /* nothing left queued */
}

int main(void)
{
    /* Freed objects get poisoned: a finalizer seeing its object freed shows. */
    setenv("TRICOLOR", "clobberfree=1", 1);
    tc_options o = {.gc_percent = -1};
    REQUIRE(tc_init(&o) == 0);
    node_type = TC_TYPE(struct node, child);
    RUN(test_bad_arguments);
    RUN(test_runs_once_with_object_intact);
    RUN(test_freed_after_finalizer);
    RUN(test_clear);
    RUN(test_order);
    RUN(test_resurrection);
    RUN(test_cycle_never_collected);
    RUN(test_stats);
    tc_shutdown();
    RUN(test_finalizer_reentrancy);
    TEST_MAIN_END();
}
