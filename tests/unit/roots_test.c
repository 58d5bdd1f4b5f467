/*
 * roots_test.c -- the unbarriered roots (src/gc/roots.c) beyond the stack:
 * global data and thread-local storage.
 *
 *  - test_global_roots: objects referenced only from a static variable
 *    (.bss) and an initialised one (.data) survive cycles.
 *  - test_main_thread_tls: an object referenced only from a __thread
 *    variable of the main thread, whose TLS block lies apart from its
 *    stack, survives cycles.
 *  - test_other_thread_tls: the same for a second attached thread while
 *    the main thread collects.
 *  - test_runtime_data_not_root: the runtime's own variables (its .data,
 *    .bss and NOGC_DATA, which the build moves to sections of their own)
 *    are not among the global roots, while the program's are.
 *
 * Each object carries a pattern, and clobberfree=1 poisons what is freed,
 * so a lost object shows as a broken pattern.  The objects are made in
 * functions that do not return them and the stack is scrubbed before each
 * cycle, so no stale stack word keeps them alive.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gc/pacer.h"
#include "gc/roots.h"
#include "mutator/thread.h"
#include "reach.h"
#include "test.h"
#include "tricolor.h"

#define OBJ_BYTES 96

static void *bss_ref;
static void *data_ref = (void *)1; /* initialised: lives in .data */
static __thread void *tls_ref;

static void fill(unsigned char *p, unsigned seed)
{
    for (size_t i = 0; i < OBJ_BYTES; i++)
        p[i] = (unsigned char)(seed * 13 + i);
}

static int intact(const void *obj, unsigned seed)
{
    const unsigned char *p = obj;
    for (size_t i = 0; i < OBJ_BYTES; i++)
        if (p[i] != (unsigned char)(seed * 13 + i))
            return 0;
    return 1;
}

__attribute__((noinline)) static void make_into(void **where, unsigned seed)
{
    unsigned char *p = tc_alloc_noscan(OBJ_BYTES);
    REQUIRE(p != NULL);
    fill(p, seed);
    *where = p;
}

/* Cycles with garbage in between, so freed slots would be reused. */
__attribute__((noinline)) static void churn(void)
{
    for (int c = 0; c < 3; c++) {
        for (int i = 0; i < 20000; i++)
            (void)tc_alloc_noscan(OBJ_BYTES);
        scrub_stack();
        tc_collect();
    }
}

static void test_global_roots(void)
{
    make_into(&bss_ref, 1);
    make_into(&data_ref, 2);
    churn();
    EXPECT(intact(bss_ref, 1));
    EXPECT(intact(data_ref, 2));
    bss_ref = NULL;
    data_ref = NULL;
}

static void test_main_thread_tls(void)
{
    /* The premise: the main thread's TLS is not inside its stack. */
    thread_ctx *self = tls_thread;
    REQUIRE(self != NULL);
    uintptr_t a = (uintptr_t)&tls_ref;
    EXPECT(a < self->stack_lo || a >= self->stack_hi);
    make_into(&tls_ref, 3);
    churn();
    EXPECT(intact(tls_ref, 3));
    tls_ref = NULL;
}

static atomic_int other_phase, other_ok;

static void *other_thread(void *arg)
{
    (void)arg;
    if (tc_thread_attach() != 0)
        return NULL;
    make_into(&tls_ref, 4);
    scrub_stack();
    atomic_store(&other_phase, 1);
    tc_blocking_begin(); /* the main thread collects meanwhile */
    while (atomic_load(&other_phase) == 1)
        ;
    tc_blocking_end();
    atomic_store(&other_ok, intact(tls_ref, 4));
    tls_ref = NULL;
    tc_thread_detach();
    return NULL;
}

static void test_other_thread_tls(void)
{
    pthread_t th;
    REQUIRE(pthread_create(&th, NULL, other_thread, NULL) == 0);
    while (atomic_load(&other_phase) == 0)
        ;
    churn();
    atomic_store(&other_phase, 2);
    pthread_join(th, NULL);
    EXPECT(atomic_load(&other_ok));
}

static void test_runtime_data_not_root(void)
{
    roots_find_globals();
    EXPECT(roots_contains((uintptr_t)&bss_ref));
    EXPECT(roots_contains((uintptr_t)&data_ref));
    EXPECT(!roots_contains((uintptr_t)&pacer_state));    /* the runtime's .bss */
    EXPECT(!roots_contains((uintptr_t)&heap_live));
    EXPECT(!roots_contains((uintptr_t)&wbbuf_capacity)); /* the runtime's .data */
}

int main(void)
{
    setenv("TRICOLOR", "clobberfree=1", 1);
    REQUIRE(tc_init(&(tc_options){.gc_percent = -1}) == 0);
    RUN(test_global_roots);
    RUN(test_main_thread_tls);
    RUN(test_other_thread_tls);
    RUN(test_runtime_data_not_root);
    tc_shutdown();
    TEST_MAIN_END();
}
