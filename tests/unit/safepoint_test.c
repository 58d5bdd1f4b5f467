/*
 * safepoint_test.c -- stopping the world (src/mutator/safepoint.c) and the
 * roots it collects: thread stacks and registers.
 *
 * Each scenario runs in a forked child with a deadline, so a stalled
 * collection fails the test instead of hanging it.
 *
 *  - test_tight_loop_is_suspended: a thread spinning on a counter (relaxed
 *    loads and stores, as plain as a volatile but race-free),
 *    with no safepoint and no allocation, does not stall tc_collect (each
 *    call returns within 2 s), the suspension signal was used, the thread
 *    keeps counting afterwards, and the object it holds only in a register
 *    or its stack survives (the signal handler's saved registers are roots).
 *  - test_blocking_thread_does_not_delay: cycles complete while a thread
 *    sleeps 300 ms between tc_blocking_begin and tc_blocking_end, without
 *    signalling it; objects only its stack references (allocated before
 *    tc_blocking_begin) survive those cycles.
 *  - test_blocking_end_waits_for_world: with stw=1 (the world stays stopped
 *    for the whole mark), a thread calling tc_blocking_end while the world
 *    is stopped returns only after the cycle ended.
 *  - test_world_stays_stopped: while cycles run back to back, threads that
 *    allocate and poll never run user code during mark termination (they
 *    never observe the phase GC_MARKTERM, which only exists with the world
 *    stopped): a thread woken from one stop must not slip into the next.
 *  - test_stack_only_objects_survive: a thread keeps objects (typed,
 *    conservative, noscan, large, and an interior pointer) only in locals,
 *    moves them between its stack and a heap holder (TC_STORE deletes),
 *    allocates and verifies them while the main thread runs cycles back to
 *    back: nothing it holds is freed.
 *  - test_exit_without_detach: threads that exit without tc_thread_detach
 *    while cycles run back to back do not hang later cycles.
 *  - test_attach_detach_churn: threads attaching, allocating and detaching
 *    in a loop during cycles.
 *  - test_running_count: thread_count_running, the collector's estimate of
 *    busy CPUs, counts attached threads that run and not those between
 *    tc_blocking_begin and tc_blocking_end, as threads move in and out.
 *  - test_fork_idle, test_fork_busy: fork() with only the forking thread
 *    attached, and with other threads allocating and cycles running: the
 *    child allocates, collects and verifies its objects and exits 0; the
 *    parent's heap keeps working.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gc/mark.h"
#include "mutator/safepoint.h"
#include "mutator/thread.h"
#include "test.h"
#include "util.h"
#include "child.h"
#include "tricolor.h"

#define NOINLINE __attribute__((noinline))
#define OBJ_MAGIC 0x0b1ec7ed5afe0b1eull
#define CHILD_TIMEOUT (SANITIZED ? 120 : 40)

/* ---- Checks inside a child (the harness counters live in the parent) ---- */

static atomic_int child_failures;

static void cfail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char buf[512];
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fprintf(stderr, "child check failed: %s\n", buf);
    atomic_fetch_add(&child_failures, 1);
}

#define CCHECK(cond)                                                   \
    do {                                                               \
        if (!(cond))                                                   \
            cfail("%s:%d: %s", __FILE__, __LINE__, #cond);             \
    } while (0)

/* ---- Objects ---------------------------------------------------------------- */

struct obj {
    uint64_t magic;
    struct obj *ref;
    void *buf;        /* a noscan buffer */
    uint64_t id;
};
static const tc_type *obj_type;

static void init_with(const char *settings)
{
    if (settings)
        setenv("TRICOLOR", settings, 1);
    else
        unsetenv("TRICOLOR");
    if (tc_init(NULL) != 0) {
        fprintf(stderr, "tc_init failed\n");
        _exit(30);
    }
    obj_type = TC_TYPE(struct obj, ref, buf);
}

static void fill(unsigned char *p, size_t n, uint64_t id)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(id * 31 + i * 7);
}

static int filled(const unsigned char *p, size_t n, uint64_t id)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != (unsigned char)(id * 31 + i * 7))
            return 0;
    return 1;
}

#define BUF_LEN 200

/* A typed object with a noscan buffer and, optionally, a typed child. */
static struct obj *make_obj(uint64_t id, int with_child)
{
    struct obj *o = tc_new(obj_type);
    if (o == NULL)
        abort();
    o->magic = OBJ_MAGIC;
    o->id = id;
    unsigned char *b = tc_alloc_noscan(BUF_LEN);
    if (b == NULL)
        abort();
    fill(b, BUF_LEN, id);
    TC_STORE(o->buf, b);
    if (with_child)
        TC_STORE(o->ref, make_obj(id + 1000000, 0));
    return o;
}

static int obj_ok(const struct obj *o, uint64_t id, int with_child)
{
    if (o == NULL || tc_base(o) != o || o->magic != OBJ_MAGIC || o->id != id)
        return 0;
    if (tc_base(o->buf) != o->buf || !filled(o->buf, BUF_LEN, id))
        return 0;
    return !with_child || obj_ok(o->ref, id + 1000000, 0);
}

/* Garbage of the same sizes, so that a freed object is soon reused. */
static void garbage(int n)
{
    for (int i = 0; i < n; i++) {
        struct obj *o = tc_new(obj_type);
        if (o == NULL)
            abort();
        o->magic = 0x6a7ba6e;
        memset(tc_alloc_noscan(BUF_LEN), 0xee, BUF_LEN);
    }
}

/* ---- Running a scenario in a child -------------------------------------- */

/* The scenario's result, failed if any CCHECK in the child failed. */
static int (*scenario_fn)(void);

static int scenario_child(int unused)
{
    (void)unused;
    int rc = scenario_fn();
    if (rc == 0 && atomic_load(&child_failures) != 0)
        rc = 1;
    fflush(stderr);
    return rc;
}

static void expect_child_ok(int (*fn)(void), const char *what)
{
    child_result *r = malloc(sizeof *r);
    REQUIRE(r != NULL);
    scenario_fn = fn;
    run_child(scenario_child, 0, CHILD_TIMEOUT, r);
    if (r->timed_out)
        T_FAIL("%s: no result after %d s (a stalled collection?); output:\n%s", what, CHILD_TIMEOUT, r->out);
    else if (!WIFEXITED(r->status) || WEXITSTATUS(r->status) != 0)
        T_FAIL("%s: child status 0x%x; output:\n%s", what, r->status, r->out);
    else if (strstr(r->out, "note:") != NULL)
        fprintf(stderr, "%s", r->out);
    free(r);
}

/* ---- (a) A tight loop ------------------------------------------------------ */

/* Relaxed loads and stores only: a plain counter loop, but race-free. */
static _Atomic uint64_t spin_counter;
static atomic_int spin_stop, spin_ready, spin_result;

static NOINLINE void *spinner(void *arg)
{
    (void)arg;
    if (tc_thread_attach() != 0)
        return NULL;
    struct obj *mine = make_obj(4242, 1); /* only this thread's registers or stack hold it */
    atomic_store(&spin_ready, 1);
    uint64_t sum = 0;
    while (!atomic_load_explicit(&spin_stop, memory_order_relaxed)) {
        atomic_store_explicit(&spin_counter, atomic_load_explicit(&spin_counter, memory_order_relaxed) + 1,
                              memory_order_relaxed);
        sum += mine->id;
    }
    atomic_store(&spin_result, obj_ok(mine, 4242, 1) && sum % 4242 == 0 ? 1 : 2);
    tc_thread_detach();
    return NULL;
}

static int tight_loop_child(void)
{
    init_with(NULL);
    pthread_t th;
    if (pthread_create(&th, NULL, spinner, NULL) != 0)
        return 31;
    while (!atomic_load(&spin_ready))
        sched_yield();
    uint64_t signals0 = atomic_load(&stw_signals_sent), worst = 0;
    for (int i = 0; i < 20; i++) {
        garbage(2000);
        uint64_t t0 = now_ns();
        tc_collect();
        uint64_t dt = now_ns() - t0;
        if (dt > worst)
            worst = dt;
    }
    CCHECK(worst < 2000000000ull);
    CCHECK(atomic_load(&stw_signals_sent) > signals0);
    /* The spinner still runs after being suspended and resumed. */
    uint64_t c1 = atomic_load(&spin_counter);
    tc_blocking_begin();
    usleep(50000);
    tc_blocking_end();
    CCHECK(atomic_load(&spin_counter) > c1);
    atomic_store(&spin_stop, 1);
    tc_blocking_begin();
    pthread_join(th, NULL);
    tc_blocking_end();
    CCHECK(atomic_load(&spin_result) == 1);
    fprintf(stderr, "note: tight loop: worst tc_collect %.1f ms, %llu signals\n", (double)worst / 1e6,
            (unsigned long long)(atomic_load(&stw_signals_sent) - signals0));
    tc_shutdown();
    return 0;
}

static void test_tight_loop_is_suspended(void)
{
    expect_child_ok(tight_loop_child, "tight loop");
}

/* ---- (b) Blocking threads ------------------------------------------------ */

static atomic_int sleeping, sleeper_result;

static NOINLINE void *sleeper(void *arg)
{
    (void)arg;
    if (tc_thread_attach() != 0)
        return NULL;
    struct obj *a = make_obj(777, 1), *b = make_obj(778, 0);
    void *big = tc_alloc_noscan(100000);
    fill(big, 100000, 779);
    atomic_store(&sleeping, 1);
    tc_blocking_begin();
    usleep(300000);
    tc_blocking_end();
    atomic_store(&sleeping, 0);
    int ok_a = obj_ok(a, 777, 1), ok_b = obj_ok(b, 778, 0);
    int ok_big = tc_base(big) == big && filled(big, 100000, 779);
    if (!ok_a || !ok_b || !ok_big)
        fprintf(stderr, "objects held in the blocking thread's locals were freed:%s%s%s\n",
                ok_a ? "" : " a (typed, with a child)", ok_b ? "" : " b (typed)", ok_big ? "" : " big (large noscan)");
    atomic_store(&sleeper_result, ok_a && ok_b && ok_big ? 1 : 2);
    tc_thread_detach();
    return NULL;
}

static int blocking_child(void)
{
    init_with(NULL);
    pthread_t th;
    if (pthread_create(&th, NULL, sleeper, NULL) != 0)
        return 31;
    while (!atomic_load(&sleeping))
        sched_yield();
    int inside = 0;
    uint64_t signals_inside = 0, worst = 0;
    while (atomic_load(&sleeping)) {
        garbage(2000);
        uint64_t s0 = atomic_load(&stw_signals_sent), t0 = now_ns();
        tc_collect();
        uint64_t dt = now_ns() - t0;
        if (atomic_load(&sleeping)) { /* the whole cycle ran while it slept */
            inside++;
            signals_inside += atomic_load(&stw_signals_sent) - s0;
            if (dt > worst)
                worst = dt;
        }
    }
    tc_blocking_begin();
    pthread_join(th, NULL);
    tc_blocking_end();
    CCHECK(inside >= 3);
    CCHECK(worst < 250000000ull);
    CCHECK(signals_inside == 0);
    CCHECK(atomic_load(&sleeper_result) == 1);
    fprintf(stderr, "note: blocking: %d cycles while the thread slept, worst %.1f ms\n", inside,
            (double)worst / 1e6);
    tc_shutdown();
    return 0;
}

static void test_blocking_thread_does_not_delay(void)
{
    expect_child_ok(blocking_child, "blocking thread");
}

/* With stw=1 the world stays stopped for the whole mark phase, which a long
 * chain makes last. */
static struct obj *volatile g_chain; /* volatile: a write-only static would be optimised away */
/* Handshake: attempt k starts when the waiter is blocking (waiter_ready ==
 * k + 1); main then runs one cycle and sets cycle_over = k + 1.  The
 * waiter spins until it sees the stop or the cycle is over (it missed the
 * stop: another attempt). */
static atomic_int waiter_ready, cycle_over, waiter_done, waiter_saw_stop, waiter_phase_after,
    waiter_flag_after;

static void *world_waiter(void *arg)
{
    (void)arg;
    if (tc_thread_attach() != 0)
        return NULL;
    for (int attempt = 0; attempt < 20; attempt++) {
        tc_blocking_begin();
        atomic_store(&waiter_ready, attempt + 1);
        int saw = 0;
        while (!(saw = __atomic_load_n(&tc__stw_requested, __ATOMIC_SEQ_CST)) &&
               atomic_load(&cycle_over) < attempt + 1)
            ; /* touches no GC pointer: allowed while blocking */
        tc_blocking_end(); /* when saw: the world is stopped, this must wait */
        if (saw) {
            atomic_store(&waiter_phase_after, atomic_load(&gc_phase_now));
            atomic_store(&waiter_flag_after, __atomic_load_n(&tc__stw_requested, __ATOMIC_SEQ_CST));
            atomic_store(&waiter_saw_stop, 1);
            break;
        }
    }
    atomic_store(&waiter_done, 1);
    tc_thread_detach();
    return NULL;
}

static int blocking_end_child(void)
{
    init_with("stw=1,gcpercent=-1");
    struct obj *cur = NULL;
    for (int i = 0; i < (SANITIZED ? 300000 : 1000000); i++) {
        struct obj *o = tc_new(obj_type);
        TC_STORE(o->ref, cur);
        cur = o;
    }
    g_chain = cur;
    cur = NULL;
    pthread_t th;
    if (pthread_create(&th, NULL, world_waiter, NULL) != 0)
        return 31;
    for (int attempt = 0; !atomic_load(&waiter_done); attempt++) {
        while (atomic_load(&waiter_ready) < attempt + 1 && !atomic_load(&waiter_done))
            sched_yield();
        if (atomic_load(&waiter_done))
            break;
        tc_collect(); /* stw=1: the world stays stopped for the whole mark */
        atomic_store(&cycle_over, attempt + 1);
    }
    tc_blocking_begin();
    pthread_join(th, NULL);
    tc_blocking_end();
    CCHECK(atomic_load(&waiter_saw_stop) == 1);
    CCHECK(atomic_load(&waiter_phase_after) == GC_OFF);
    CCHECK(atomic_load(&waiter_flag_after) == 0);
    g_chain = NULL;
    tc_shutdown();
    return 0;
}

static void test_blocking_end_waits_for_world(void)
{
    expect_child_ok(blocking_end_child, "tc_blocking_end during a stop-the-world");
}

/* ---- The world stays stopped ---------------------------------------------- */

/* gc_phase_now is GC_MARKTERM only between stw_start and stw_end of mark
 * termination: a mutator running user code can never see it.  Cycles back
 * to back make one stop follow the previous one closely; a thread woken
 * from the first must not slip into the second. */
static atomic_int ws_stop;
static atomic_long ws_seen, ws_loops;

static void *world_checker(void *arg)
{
    (void)arg;
    if (tc_thread_attach() != 0)
        return NULL;
    long seen = 0, loops = 0;
    while (!atomic_load_explicit(&ws_stop, memory_order_relaxed)) {
        (void)tc_alloc(64);
        tc_safepoint();
        if (atomic_load(&gc_phase_now) == GC_MARKTERM)
            seen++;
        loops++;
    }
    atomic_fetch_add(&ws_seen, seen);
    atomic_fetch_add(&ws_loops, loops);
    tc_thread_detach();
    return NULL;
}

static int world_child(void)
{
    init_with(NULL);
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        if (pthread_create(&th[i], NULL, world_checker, NULL) != 0)
            return 31;
    uint64_t end = now_ns() + (SANITIZED ? 3000000000ull : 2000000000ull);
    int cycles = 0;
    while (now_ns() < end) {
        tc_collect();
        cycles++;
    }
    atomic_store(&ws_stop, 1);
    tc_blocking_begin();
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    tc_blocking_end();
    if (atomic_load(&ws_seen) != 0)
        cfail("threads ran user code during mark termination (world stopped) %ld times in %d cycles",
              atomic_load(&ws_seen), cycles);
    CCHECK(cycles >= 20);
    tc_shutdown();
    return 0;
}

static void test_world_stays_stopped(void)
{
    expect_child_ok(world_child, "the world stays stopped");
}

/* ---- (c) Objects only on a thread's stack ------------------------------- */

#define HELD 48
struct holder {
    struct obj *slot[8];
};

static atomic_int stack_stop, stack_bad;
static atomic_long stack_rounds;

static NOINLINE void *stack_keeper(void *arg)
{
    uint64_t seed = (uint64_t)(uintptr_t)arg * 0x9e3779b97f4a7c15ull + 1;
    if (tc_thread_attach() != 0)
        return NULL;
    const tc_type *ht = TC_TYPE(struct holder, slot[0], slot[1], slot[2], slot[3], slot[4], slot[5],
                                slot[6], slot[7]);
    struct holder *h = tc_new(ht);
    uint64_t hid[8] = {0};
    struct obj *held[HELD];
    uint64_t ids[HELD];
    uint64_t next = (uint64_t)(uintptr_t)arg << 40;
    for (int i = 0; i < HELD; i++) {
        ids[i] = ++next;
        held[i] = make_obj(ids[i], i % 2);
    }
    unsigned char *cons = tc_alloc(4096);      /* conservative */
    unsigned char *large = tc_alloc_noscan(300000); /* large */
    fill(cons, 4096, 11);
    fill(large, 300000, 12);
    unsigned char *mid = large + 150001;       /* keeps large alive too */
    while (!atomic_load(&stack_stop)) {
        for (int i = 0; i < HELD; i++)
            if (held[i] != NULL && !obj_ok(held[i], ids[i], i % 2)) {
                fprintf(stderr, "stack-held object %d (id %llu) at %p lost\n", i, (unsigned long long)ids[i],
                        (void *)held[i]);
                atomic_store(&stack_bad, 1);
                held[i] = NULL;
            }
        for (int k = 0; k < 8; k++)
            if (h->slot[k] != NULL && !obj_ok(h->slot[k], hid[k], 0)) {
                fprintf(stderr, "heap-held object lost\n");
                atomic_store(&stack_bad, 1);
                TC_STORE(h->slot[k], NULL);
            }
        if (tc_base(cons) != cons || !filled(cons, 4096, 11) || tc_base(mid) != large ||
            !filled(large, 300000, 12)) {
            fprintf(stderr, "conservative or large stack-held object lost\n");
            atomic_store(&stack_bad, 1);
            break;
        }
        for (int r = 0; r < 16; r++) {
            int i = (int)(rnd(&seed) % HELD), k = (int)(rnd(&seed) % 8);
            switch (rnd(&seed) % 3) {
            case 0: /* heap -> stack: the heap slot is deleted with the barrier */
                if (h->slot[k] != NULL && held[i] == NULL) {
                    held[i] = h->slot[k];
                    ids[i] = hid[k];
                    TC_STORE(h->slot[k], NULL);
                    if (i % 2) /* held[i] must have a child: give it one */
                        TC_STORE(held[i]->ref, make_obj(ids[i] + 1000000, 0));
                }
                break;
            case 1: /* stack -> heap */
                if (held[i] != NULL && h->slot[k] == NULL && i % 2 == 0) {
                    TC_STORE(h->slot[k], held[i]);
                    hid[k] = ids[i];
                    held[i] = NULL;
                }
                break;
            default: /* a fresh object, perhaps allocated black */
                ids[i] = ++next;
                held[i] = make_obj(ids[i], i % 2);
            }
        }
        garbage(200);
        atomic_fetch_add(&stack_rounds, 1);
    }
    tc_thread_detach();
    return NULL;
}

static int stack_child(void)
{
    init_with(NULL);
    pthread_t th[2];
    for (uintptr_t t = 0; t < 2; t++)
        if (pthread_create(&th[t], NULL, stack_keeper, (void *)(t + 1)) != 0)
            return 31;
    uint64_t end = now_ns() + (SANITIZED ? 2000000000ull : 1500000000ull);
    int cycles = 0;
    while (now_ns() < end && !atomic_load(&stack_bad)) {
        tc_collect();
        cycles++;
    }
    atomic_store(&stack_stop, 1);
    tc_blocking_begin();
    for (int t = 0; t < 2; t++)
        pthread_join(th[t], NULL);
    tc_blocking_end();
    CCHECK(!atomic_load(&stack_bad));
    CCHECK(cycles >= 30);
    CCHECK(atomic_load(&stack_rounds) >= 100);
    fprintf(stderr, "note: stack-held objects: %d cycles, %ld rounds\n", cycles, atomic_load(&stack_rounds));
    tc_shutdown();
    return 0;
}

static void test_stack_only_objects_survive(void)
{
    expect_child_ok(stack_child, "stack-only objects");
}

/* ---- (d) Threads coming and going ------------------------------------------ */

static atomic_int drv_stop, drv_cycles;

static void *driver(void *arg)
{
    (void)arg;
    if (tc_thread_attach() != 0)
        return NULL;
    while (!atomic_load(&drv_stop)) {
        tc_collect();
        atomic_fetch_add(&drv_cycles, 1);
    }
    tc_thread_detach();
    return NULL;
}

static void **g_shared; /* registered: threads leave objects here */
#define SHARED 64
static pthread_mutex_t shared_mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t shared_id[SHARED];

/* Waiting for the mutex counts as blocking: its holder may be parked. */
static void shared_lock(void)
{
    if (pthread_mutex_trylock(&shared_mu) == 0)
        return;
    tc_blocking_begin();
    pthread_mutex_lock(&shared_mu);
    tc_blocking_end();
}

static void share(struct obj *o, uint64_t id, uint64_t *seed)
{
    size_t i = rnd(seed) % SHARED;
    shared_lock();
    tc_store(&g_shared[i], o);
    shared_id[i] = id;
    pthread_mutex_unlock(&shared_mu);
}

static int shared_ok(void)
{
    int ok = 1;
    shared_lock();
    for (int i = 0; i < SHARED; i++)
        if (g_shared[i] != NULL && !obj_ok(g_shared[i], shared_id[i], 1)) {
            fprintf(stderr, "shared object %d (id %llu) lost\n", i, (unsigned long long)shared_id[i]);
            ok = 0;
        }
    pthread_mutex_unlock(&shared_mu);
    return ok;
}

static void *leaver(void *arg)
{
    uint64_t seed = (uint64_t)(uintptr_t)arg * 7919 + 3;
    if (tc_thread_attach() != 0)
        return NULL;
    for (int i = 0; i < 20; i++) {
        struct obj *o = make_obj((uint64_t)(uintptr_t)arg * 100 + (uint64_t)i, 1);
        if (i % 5 == 0)
            share(o, (uint64_t)(uintptr_t)arg * 100 + (uint64_t)i, &seed);
        garbage(50);
    }
    return NULL; /* no tc_thread_detach */
}

static int exit_child(void)
{
    init_with(NULL);
    g_shared = calloc(SHARED, sizeof(void *));
    if (g_shared == NULL || tc_root_add(g_shared, SHARED * sizeof(void *)) != 0)
        return 31;
    pthread_t drv;
    if (pthread_create(&drv, NULL, driver, NULL) != 0)
        return 31;
    int n = SANITIZED ? 100 : 300;
    for (int i = 0; i < n; i += 4) {
        pthread_t th[4];
        for (int k = 0; k < 4; k++)
            if (pthread_create(&th[k], NULL, leaver, (void *)(uintptr_t)(i + k + 1)) != 0)
                return 32;
        tc_blocking_begin();
        for (int k = 0; k < 4; k++)
            pthread_join(th[k], NULL);
        tc_blocking_end();
    }
    /* Later cycles still complete, promptly. */
    int before = atomic_load(&drv_cycles);
    uint64_t t0 = now_ns();
    tc_collect();
    tc_collect();
    uint64_t dt = now_ns() - t0;
    CCHECK(dt < 5000000000ull);
    tc_blocking_begin();
    usleep(100000);
    tc_blocking_end();
    CCHECK(atomic_load(&drv_cycles) > before);
    atomic_store(&drv_stop, 1);
    tc_blocking_begin();
    pthread_join(drv, NULL);
    tc_blocking_end();
    CCHECK(shared_ok());
    CCHECK(atomic_load(&drv_cycles) >= 10);
    fprintf(stderr, "note: %d threads exited attached during %d cycles\n", n, atomic_load(&drv_cycles));
    tc_shutdown(); /* aborts if an exited thread were still registered */
    return 0;
}

static void test_exit_without_detach(void)
{
    expect_child_ok(exit_child, "threads exiting without detach");
}

static void *reattacher(void *arg)
{
    uint64_t seed = (uint64_t)(uintptr_t)arg * 104729 + 5;
    uint64_t end = now_ns() + 20000000000ull;
    /* At least 200 rounds, and on until 50 cycles ran meanwhile. */
    for (int r = 0; r < 200 || (atomic_load(&drv_cycles) < 50 && now_ns() < end); r++) {
        if (tc_thread_attach() != 0) {
            fprintf(stderr, "attach failed\n");
            atomic_fetch_add(&child_failures, 1);
            return NULL;
        }
        uint64_t id = (uint64_t)(uintptr_t)arg << 32 | (uint64_t)r;
        struct obj *o = make_obj(id, 1);
        garbage(20);
        if (!obj_ok(o, id, 1)) {
            fprintf(stderr, "object of an attached thread lost\n");
            atomic_fetch_add(&child_failures, 1);
        }
        if (r % 10 == 0)
            share(o, id, &seed);
        tc_thread_detach();
    }
    return NULL;
}

static int reattach_child(void)
{
    init_with(NULL);
    g_shared = calloc(SHARED, sizeof(void *));
    if (g_shared == NULL || tc_root_add(g_shared, SHARED * sizeof(void *)) != 0)
        return 31;
    pthread_t drv, th[4];
    if (pthread_create(&drv, NULL, driver, NULL) != 0)
        return 31;
    for (uintptr_t k = 0; k < 4; k++)
        if (pthread_create(&th[k], NULL, reattacher, (void *)(k + 1)) != 0)
            return 32;
    tc_blocking_begin();
    for (int k = 0; k < 4; k++)
        pthread_join(th[k], NULL);
    tc_blocking_end();
    atomic_store(&drv_stop, 1);
    tc_blocking_begin();
    pthread_join(drv, NULL);
    tc_blocking_end();
    tc_collect();
    CCHECK(shared_ok());
    CCHECK(atomic_load(&drv_cycles) >= 50);
    fprintf(stderr, "note: attach/detach churn during %d cycles\n", atomic_load(&drv_cycles));
    tc_shutdown();
    return 0;
}

static void test_attach_detach_churn(void)
{
    expect_child_ok(reattach_child, "attach/detach churn");
}

/* ---- (e) fork ---------------------------------------------------------------- */

/* In the forked grandchild: allocate, collect, verify. */
static int after_fork(struct obj *inherited)
{
    struct obj *mine[32];
    for (int i = 0; i < 32; i++)
        mine[i] = make_obj(5000 + (uint64_t)i, 1);
    for (int c = 0; c < 3; c++) {
        garbage(5000);
        tc_collect();
    }
    int ok = 1;
    if (!obj_ok(inherited, 4000, 1)) {
        fprintf(stderr, "forked child: the object inherited from the parent was lost\n");
        ok = 0;
    }
    for (int i = 0; i < 32; i++)
        if (!obj_ok(mine[i], 5000 + (uint64_t)i, 1)) {
            fprintf(stderr, "forked child: its object %d was lost\n", i);
            ok = 0;
        }
    return ok ? 0 : 1;
}

static int fork_and_check(struct obj *inherited)
{
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        return 40;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        _exit(after_fork(inherited));
    }
    /* The grandchild must finish on its own, well before CHILD_TIMEOUT. */
    uint64_t deadline = now_ns() + (SANITIZED ? 30000000000ull : 8000000000ull);
    int status = 0;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            break;
        if (now_ns() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            fprintf(stderr, "the forked child hung (allocating or collecting)\n");
            return 41;
        }
        tc_blocking_begin();
        usleep(10000);
        tc_blocking_end();
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "the forked child failed: status 0x%x\n", status);
        return 42;
    }
    return 0;
}

/* Global data: the forking thread also waits as a blocking thread, and the
 * fork tests do not depend on what test_blocking_thread_does_not_delay
 * checks. */
static struct obj *g_fork_obj;

static int fork_idle_child(void)
{
    init_with(NULL);
    g_fork_obj = make_obj(4000, 1);
    garbage(1000);
    tc_collect();
    int rc = fork_and_check(g_fork_obj);
    CCHECK(rc == 0);
    /* The parent's heap still works. */
    garbage(5000);
    tc_collect();
    CCHECK(obj_ok(g_fork_obj, 4000, 1));
    tc_shutdown();
    return rc;
}

static atomic_int busy_stop;

static void *busy_allocator(void *arg)
{
    (void)arg;
    if (tc_thread_attach() != 0)
        return NULL;
    while (!atomic_load(&busy_stop))
        garbage(100);
    tc_thread_detach();
    return NULL;
}

static int fork_busy_child(void)
{
    init_with(NULL);
    g_fork_obj = make_obj(4000, 1);
    pthread_t drv, busy;
    if (pthread_create(&drv, NULL, driver, NULL) != 0 || pthread_create(&busy, NULL, busy_allocator, NULL) != 0)
        return 31;
    tc_blocking_begin();
    usleep(50000);
    tc_blocking_end();
    int rc = 0;
    for (int i = 0; i < 3 && rc == 0; i++)
        rc = fork_and_check(g_fork_obj);
    CCHECK(rc == 0);
    atomic_store(&busy_stop, 1);
    atomic_store(&drv_stop, 1);
    tc_blocking_begin();
    pthread_join(busy, NULL);
    pthread_join(drv, NULL);
    tc_blocking_end();
    garbage(5000);
    tc_collect();
    CCHECK(obj_ok(g_fork_obj, 4000, 1));
    tc_shutdown();
    return rc;
}

/* ---- thread_count_running ---------------------------------------------- */

static atomic_int rc_phase, rc_attached;

/* Attaches, then blocks while rc_phase is 0 and runs (polling) while it is
 * 1; leaves at 2. */
static void *rc_thread(void *arg)
{
    int blocker = arg != NULL;
    if (tc_thread_attach() != 0)
        return NULL;
    if (blocker)
        tc_blocking_begin();
    atomic_fetch_add(&rc_attached, 1);
    while (atomic_load(&rc_phase) == 0)
        usleep(1000);
    if (blocker)
        tc_blocking_end();
    while (atomic_load(&rc_phase) == 1)
        tc_safepoint();
    tc_thread_detach();
    return NULL;
}

struct rc_count {
    size_t n;
};

static void *rc_counter(void *arg)
{
    ((struct rc_count *)arg)->n = thread_count_running(); /* unattached caller */
    return NULL;
}

static size_t running_now(void)
{
    struct rc_count c = {0};
    pthread_t th;
    tc_blocking_begin(); /* the main thread does not count itself */
    pthread_create(&th, NULL, rc_counter, &c);
    pthread_join(th, NULL);
    tc_blocking_end();
    return c.n;
}

static int running_count_child(void)
{
    init_with("gcpercent=-1");
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, rc_thread, i < 3 ? (void *)1 : NULL);
    while (atomic_load(&rc_attached) < 4)
        usleep(1000);
    /* Three blockers and one runner, which polls in its loop. */
    CCHECK(running_now() == 1);
    atomic_store(&rc_phase, 1);
    usleep(20000);
    CCHECK(running_now() == 4);
    atomic_store(&rc_phase, 2);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    CCHECK(running_now() == 0);
    return atomic_load(&child_failures) ? 1 : 0;
}

static void test_running_count(void)
{
    expect_child_ok(running_count_child, "running count");
}

static void test_fork_idle(void)
{
    expect_child_ok(fork_idle_child, "fork with one attached thread");
}

static void test_fork_busy(void)
{
    expect_child_ok(fork_busy_child, "fork while threads allocate and cycles run");
}

int main(void)
{
    RUN(test_tight_loop_is_suspended);
    RUN(test_blocking_thread_does_not_delay);
    RUN(test_blocking_end_waits_for_world);
    RUN(test_world_stays_stopped);
    RUN(test_stack_only_objects_survive);
    RUN(test_exit_without_detach);
    RUN(test_attach_detach_churn);
    RUN(test_running_count);
    RUN(test_fork_idle);
    RUN(test_fork_busy);
    TEST_MAIN_END();
}
