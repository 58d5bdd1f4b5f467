/*
 * limiter_test.c -- the GC CPU limiter (src/gc/limiter.c), a leaky bucket
 * filled by GC time and drained by mutator time.
 *
 *  - test_bucket: GC time fills, mutator time drains, never below empty
 *    (idle time earns no credit), limiting exactly while full, the time
 *    spent limiting is counted;
 *  - test_background_and_pauses: while a cycle marks, the background
 *    workers' share counts as GC time; a stop-the-world counts on every
 *    CPU; the process's CPU time less GC time is the mutator's;
 *  - test_busy_updater: an update that finds another updater gives up,
 *    a stop-the-world one waits for it;
 *  - test_share_simulation: a program whose GC takes 40% of the CPU is
 *    never limited; at 75% it is limited within the bucket's capacity and
 *    for a good part of the run afterwards, and while it limits the GC's
 *    share falls to its background workers';
 *  - test_live_heap_over_limit: in a child with a short bucket, a live heap
 *    half again the memory limit under a churning program: the limiter
 *    turns on (tc_stats.limiter_ns), the program keeps allocating instead
 *    of stalling and the heap overshoots the soft limit.
 */
#include <pthread.h>
#include <string.h>

#include "gc/limiter.h"
#include "heap/heap_verify.h"
#include "test.h"
#include "child.h"
#include "tricolor.h"

#define MS 1000000ull
#define S 1000000000ull

static void test_bucket(void)
{
    limiter l;
    /* 2 CPUs, 1 s per CPU: capacity 2 s; no background share. */
    limiter_reset(&l, 2, 0.0, S, 0, 0, 0);
    EXPECT_EQ(l.capacity, 2 * S);
    EXPECT(!limiter_limiting(&l));
    /* 1 s: 300 ms of GC (assists), 1 s of process CPU: the mutator's
     * 700 ms drain more than the GC adds. */
    EXPECT(limiter_update(&l, 1 * S, 300 * MS, 1000 * MS));
    EXPECT_EQ(l.fill, 0);
    /* GC 800 ms of 1 s CPU: +600 ms. */
    EXPECT(limiter_update(&l, 2 * S, 1100 * MS, 2000 * MS));
    EXPECT_EQ(l.fill, 600 * MS);
    EXPECT(!limiter_limiting(&l));
    /* Idle (no CPU, no GC): nothing changes, no credit. */
    EXPECT(limiter_update(&l, 10 * S, 1100 * MS, 2000 * MS));
    EXPECT_EQ(l.fill, 600 * MS);
    /* GC-only windows fill it up: limiting from the moment it is full. */
    EXPECT(limiter_update(&l, 11 * S, 2100 * MS, 3000 * MS));
    EXPECT_EQ(l.fill, 1600 * MS);
    EXPECT(limiter_update(&l, 12 * S, 3100 * MS, 4000 * MS));
    EXPECT_EQ(l.fill, 2 * S);
    EXPECT(limiter_limiting(&l));
    EXPECT_EQ(l.overflow, 600 * MS);
    EXPECT_EQ(limiter_limited_ns(&l, 12 * S), 0);
    EXPECT_EQ(limiter_limited_ns(&l, 12 * S + 250 * MS), 250 * MS);
    /* Still GC-heavy: stays full. */
    EXPECT(limiter_update(&l, 13 * S, 3700 * MS, 4700 * MS));
    EXPECT(limiter_limiting(&l));
    /* Mutator time drains it: off, and the limited time is kept. */
    EXPECT(limiter_update(&l, 14 * S, 3700 * MS, 5700 * MS));
    EXPECT(!limiter_limiting(&l));
    EXPECT_EQ(l.fill, 1 * S);
    EXPECT_EQ(limiter_limited_ns(&l, 20 * S), 2 * S);
    /* Never below empty. */
    EXPECT(limiter_update(&l, 30 * S, 3700 * MS, 30 * S));
    EXPECT_EQ(l.fill, 0);
    /* Inputs that went backwards (a stale reader) count as nothing. */
    EXPECT(limiter_update(&l, 31 * S, 100 * MS, 100 * MS));
    EXPECT_EQ(l.fill, 0);
}

static void test_background_and_pauses(void)
{
    limiter l;
    limiter_reset(&l, 2, 0.5, S, 0, 0, 0);
    /* A pause from 100 to 110 ms: 20 ms of GC on 2 CPUs; marking then. */
    limiter_stw(&l, 100 * MS, 110 * MS, 0, 100 * MS, true);
    EXPECT_EQ(l.fill, 0); /* 100 ms of mutator before it */
    limiter_stw(&l, 110 * MS, 130 * MS, 0, 100 * MS, true);
    EXPECT_EQ(l.fill, 40 * MS);
    EXPECT(l.gc_active);
    /* 100 ms of marking: the background's 0.5 CPU = 50 ms of GC; the
     * process used 150 ms of CPU, so the mutator had 100 ms: -50 ms. */
    EXPECT(limiter_update(&l, 230 * MS, 0, 250 * MS));
    EXPECT_EQ(l.fill, 0);
    /* Marking with assists: 80 ms assist + 50 ms background in a 100 ms
     * window in which the process used 150 ms: GC 130, mutator 20. */
    EXPECT(limiter_update(&l, 330 * MS, 80 * MS, 400 * MS));
    EXPECT_EQ(l.fill, 110 * MS);
    /* Marking ends: background time stops counting. */
    limiter_stw(&l, 330 * MS, 330 * MS, 80 * MS, 400 * MS, false);
    EXPECT(!l.gc_active);
    EXPECT(limiter_update(&l, 430 * MS, 80 * MS, 500 * MS));
    EXPECT_EQ(l.fill, 10 * MS);
}

static limiter shared;
static _Atomic int stw_done;

static void *stw_thread(void *arg)
{
    (void)arg;
    limiter_stw(&shared, 0, 1 * MS, 0, 0, true);
    atomic_store(&stw_done, 1);
    return NULL;
}

static void test_busy_updater(void)
{
    limiter_reset(&shared, 1, 0.25, S, 0, 0, 0);
    atomic_store(&shared.busy, 1);
    EXPECT(!limiter_update(&shared, 5 * MS, 0, 0));
    EXPECT_EQ(atomic_load(&shared.last_update), 0);
    pthread_t th;
    REQUIRE(pthread_create(&th, NULL, stw_thread, NULL) == 0);
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
    EXPECT_EQ(atomic_load(&stw_done), 0); /* waits for the updater */
    atomic_store(&shared.busy, 0);
    pthread_join(th, NULL);
    EXPECT_EQ(atomic_load(&stw_done), 1);
    EXPECT(shared.gc_active);
    EXPECT(limiter_update(&shared, 20 * MS, 0, 0));
}

/* 10 ms steps on 2 CPUs with one mutator thread: the GC wants `want` of
 * the program's CPU time (background + assists); while limited, assists
 * stop and the GC gets only the background's 25%. */
static void share_run(double want, uint64_t *first_on, double *limited_share, double *gc_share_limited)
{
    limiter l;
    limiter_reset(&l, 2, 0.5, S, 0, 0, 0);
    uint64_t now = 0, gc = 0, cpu = 0, gc_lim = 0, cpu_lim = 0;
    *first_on = 0;
    limiter_stw(&l, 0, 0, gc, cpu, true);
    for (int step = 0; step < 6000; step++) { /* 60 s */
        bool on = limiter_limiting(&l);
        if (on && *first_on == 0)
            *first_on = now;
        /* The process runs 1.5 CPUs: the mutator thread and the background
         * worker's 0.5. */
        double gc_frac = on ? 0.5 / 1.5 : want;
        uint64_t dcpu = 15 * MS;
        uint64_t dbg = 5 * MS;
        uint64_t dgc = (uint64_t)(gc_frac * (double)dcpu);
        uint64_t dassist = dgc > dbg ? dgc - dbg : 0;
        now += 10 * MS;
        gc += dassist;
        cpu += dcpu;
        if (on) {
            gc_lim += dbg + dassist;
            cpu_lim += dcpu;
        }
        limiter_update(&l, now, gc, cpu);
    }
    *limited_share = (double)limiter_limited_ns(&l, now) / (double)now;
    *gc_share_limited = cpu_lim ? (double)gc_lim / (double)cpu_lim : 0;
}

static void test_share_simulation(void)
{
    uint64_t first;
    double limited, gc_share;
    share_run(0.40, &first, &limited, &gc_share);
    EXPECT_EQ(first, 0);
    EXPECT(limited == 0);
    share_run(0.75, &first, &limited, &gc_share);
    /* Fills at (0.75 - 0.25) x 15 ms per 10 ms: 2 s in about 2.7 s. */
    EXPECT(first > 2 * S && first < 3 * S);
    EXPECT(limited > 0.3);
    EXPECT(gc_share < 0.5);
}

/* ---- The collector's limiter ------------------------------------------ */

#define NSLOTS 3072
void *limiter_test_slots[NSLOTS]; /* a global (external, so its stores stay): scanned */

static int over_limit_child(int arg)
{
    (void)arg;
    limiter_capacity_per_cpu_ns = 50 * MS; /* 100 ms on 2 CPUs: engages fast */
    tc_options o = {.gc_percent = -1, .memory_limit = 32 << 20};
    if (tc_init(&o) != 0)
        return 10;
    /* 48 MiB live in 16 KiB noscan objects, then churn for a while. */
    uint64_t x = 88172645463325252ull;
    uint64_t t0 = now_ns(), worst = 0, last = t0;
    size_t done = 0;
    for (size_t k = 0; now_ns() - t0 < 1500 * MS || k < NSLOTS * 4; k++) {
        size_t i = k < NSLOTS ? k : (size_t)(rnd(&x) % NSLOTS);
        void *p = tc_alloc_noscan(16 << 10);
        if (p == NULL)
            return 1;
        memset(p, 0x33, 64);
        limiter_test_slots[i] = p;
        done++;
        uint64_t t = now_ns();
        if (t - last > worst)
            worst = t - last;
        last = t;
    }
    tc_stats st;
    tc_read_stats(&st);
    fprintf(stderr,
            "  48 MiB live, 32 MiB limit: %zu allocations, %u cycles (%u over the limit), limited %.1f ms, "
            "longest allocation %.1f ms, GC CPU %.0f%%\n",
            done, st.num_gc, st.limit_exceeded_cycles, (double)st.limiter_ns / 1e6, (double)worst / 1e6,
            st.gc_cpu_fraction * 100);
    int rc = st.limiter_ns == 0 ? 2 : st.limit_exceeded_cycles == 0 ? 3 : st.memory_total <= (32u << 20) ? 4
           : (tc_set_memory_limit(0), tc_collect(), heap_verify(NULL) != 0) ? 5 : 0;
    tc_shutdown();
    return rc;
}

static void test_live_heap_over_limit(void)
{
    child_result r;
    run_child(over_limit_child, 0, 120, &r);
    fputs(r.out, stderr);
    if (r.timed_out || !WIFEXITED(r.status) || WEXITSTATUS(r.status) != 0)
        T_FAIL("over the limit: status %d (1 allocation failed, 2 limiter never on, 3 no cycle counted "
               "over, 4 under the limit?, 5 heap_verify; timed out %d)",
               WIFEXITED(r.status) ? WEXITSTATUS(r.status) : -1, r.timed_out);
}

int main(void)
{
    RUN(test_bucket);
    RUN(test_background_and_pauses);
    RUN(test_busy_updater);
    RUN(test_share_simulation);
    RUN(test_live_heap_over_limit);
    TEST_MAIN_END();
}
