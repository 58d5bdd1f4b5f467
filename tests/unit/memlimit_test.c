/*
 * memlimit_test.c -- the soft memory limit (src/gc/memlimit.c, the limit
 * goal in src/gc/pacer.c).
 *
 *  - test_limit_goal: pacer_limit_goal is Go's formula -- limit less
 *    non-heap memory and overage, less max(3%, 1 MiB) of headroom, never
 *    below the marked heap, 0 only without a limit;
 *  - test_goal_is_the_smaller: goal = min(gc_percent goal, limit goal), the
 *    trigger stays under it, gc_percent < 0 with a limit collects only for
 *    the limit, a limit goal at the marked heap collects continuously;
 *  - test_limit_simulation: a pacer simulation (as pacer_test's) with
 *    gc_percent off: a program whose live heap steps from 60 to 180 MiB
 *    under a 256 MiB limit keeps memory_total under the limit, and one
 *    whose live heap exceeds the limit collects every time;
 *  - test_set_memory_limit: tc_set_memory_limit returns the previous
 *    value, a negative argument only reads, 0 turns the limit off, the
 *    statistics follow (memory_limit, next_gc, memory_total = sys -
 *    heap_released), and a limit below the heap makes cycles run;
 *  - test_env_memlimit: TRICOLOR=memlimit=... values: malformed ones make
 *    tc_init fail with TC_EINVAL and a message naming memlimit, valid ones
 *    set the limit and override tc_options;
 *  - test_live_heap_under_limit: a 200 MiB live heap churned under a
 *    256 MiB limit with gc_percent off: memory_total and RSS stay under the
 *    limit while cycles run, no cycle ends over it, the data is intact;
 *  - test_soft_limit: a live heap bigger than the limit: allocation goes
 *    on, cycles run, and the statistics count the cycles that ended over
 *    the limit.
 * The workloads run in forked children (tests/support/child.h) so that each
 * has a fresh heap and its own RSS.
 */
#include <stdlib.h>
#include <string.h>

#include "gc/pacer.h"
#include "heap/heap_verify.h"
#include "test.h"
#include "child.h"
#include "rss.h"
#include "tricolor.h"

#define MiB ((uint64_t)1 << 20)

/* ---- The goal formula -------------------------------------------------- */

static void test_limit_goal(void)
{
    pacer p = {.gc_percent = -1};
    EXPECT_EQ(pacer_limit_goal(&p, 0, 100 * MiB, 0, 50 * MiB), 0);
    /* non-heap 10 MiB: 246 MiB, less 3% (7.38 MiB). */
    uint64_t g = pacer_limit_goal(&p, 256 * MiB, 100 * MiB, 10 * MiB, 80 * MiB);
    uint64_t want = 246 * MiB - 246 * MiB / 100 * 3;
    EXPECT_EQ(g, want);
    /* The goal does not move when allocation takes free pages (free down,
     * alloc up) or fresh ones (total and alloc up). */
    EXPECT_EQ(pacer_limit_goal(&p, 256 * MiB, 100 * MiB, 5 * MiB, 85 * MiB), want);
    EXPECT_EQ(pacer_limit_goal(&p, 256 * MiB, 110 * MiB, 10 * MiB, 90 * MiB), want);
    /* Over the limit, the overage is subtracted too. */
    g = pacer_limit_goal(&p, 256 * MiB, 300 * MiB, 0, 290 * MiB);
    want = 256 * MiB - 10 * MiB - 44 * MiB;
    EXPECT_EQ(g, want - want / 100 * 3);
    /* Non-heap memory alone over the limit: the marked heap (continuous
     * collection). */
    p.heap_marked = 50 * MiB;
    EXPECT_EQ(pacer_limit_goal(&p, 64 * MiB, 200 * MiB, 0, 100 * MiB), 50 * MiB);
    /* Never below the marked heap (here 44 MiB of non-heap memory leave
     * a 19 MiB goal). */
    EXPECT_EQ(pacer_limit_goal(&p, 64 * MiB, 64 * MiB, 0, 20 * MiB), 50 * MiB);
    /* Small limits: the headroom is at least 1 MiB, and the goal at least
     * the headroom. */
    p.heap_marked = 0;
    EXPECT_EQ(pacer_limit_goal(&p, 4 * MiB, 0, 0, 0), 3 * MiB);
    EXPECT_EQ(pacer_limit_goal(&p, 3 * MiB / 2, 0, 0, 0), 1 * MiB);
    EXPECT_EQ(pacer_limit_goal(&p, 1, 0, 0, 0), 1 * MiB);
    /* Non-zero even when everything is over. */
    EXPECT(pacer_limit_goal(&p, 1 * MiB, 2 * MiB, 0, 0) >= 1);
    /* Racy inputs (more heap than total) are harmless. */
    EXPECT(pacer_limit_goal(&p, 256 * MiB, 10 * MiB, 20 * MiB, 20 * MiB) <= 256 * MiB);
}

static void test_goal_is_the_smaller(void)
{
    pacer p = {.gc_percent = 100};
    pacer_commit(&p, 100 * MiB, 0, 0, 100 * MiB);
    EXPECT_EQ(p.goal, 200 * MiB);
    pacer_set_limit_goal(&p, 150 * MiB);
    EXPECT_EQ(p.goal, 150 * MiB);
    EXPECT(p.trigger >= 100 * MiB + 35 * MiB - 1 && p.trigger <= 100 * MiB + 48 * MiB);
    pacer_set_limit_goal(&p, 300 * MiB);
    EXPECT_EQ(p.goal, 200 * MiB);
    pacer_set_limit_goal(&p, 0);
    EXPECT_EQ(p.goal, 200 * MiB);

    /* gc_percent < 0: only the limit starts cycles. */
    pacer_set_gc_percent(&p, -1);
    EXPECT_EQ(p.goal, UINT64_MAX);
    EXPECT(!pacer_should_start(&p, INT64_MAX / 2));
    pacer_set_limit_goal(&p, 150 * MiB);
    EXPECT_EQ(p.goal, 150 * MiB);
    EXPECT(p.trigger <= p.goal);
    EXPECT(!pacer_should_start(&p, (int64_t)(120 * MiB)));
    EXPECT(pacer_should_start(&p, (int64_t)(150 * MiB)));

    /* A commit keeps the limit goal, raised to the marked heap. */
    pacer_commit(&p, 180 * MiB, 0, 0, 180 * MiB);
    EXPECT_EQ(p.goal, 180 * MiB);
    EXPECT_EQ(p.trigger, p.goal);
    EXPECT(pacer_should_start(&p, (int64_t)(180 * MiB))); /* continuous */

    /* The assist ratio stays finite past a limit goal. */
    double r = pacer_assist_ratio(&p, 0, (int64_t)(400 * MiB));
    EXPECT(r > 0 && r < 1e9);
}

/* A program in steps of 1 MiB of allocation; a cycle marks for `mark`
 * steps.  Memory: meta + retained pages, where retained pages only grow
 * (freed pages stay backed and are reused first), as in the page heap
 * without a scavenger.  The pacer's limit goal is refreshed at every step
 * as memlimit.c does at each trigger test. */
static void simulate_limit(const char *name, uint64_t (*live)(int), uint64_t limit, int mark,
                           uint64_t *worst_total, int *cycles_out)
{
    const uint64_t meta = 3 * MiB, rate = 1 * MiB;
    pacer p = {.gc_percent = -1};
    pacer_commit(&p, 0, 0, 0, 0);
    uint64_t heap = 0, retained = 0, worst = 0;
    int cycles = 0;
    for (int step = 0; step < 3000;) {
        heap += rate;
        step++;
        if (heap > retained)
            retained = heap;
        uint64_t total = meta + retained;
        pacer_set_limit_goal(&p, pacer_limit_goal(&p, limit, total, retained - heap, heap));
        if (cycles >= 2 && total > worst)
            worst = total;
        if (!pacer_should_start(&p, (int64_t)heap))
            continue;
        uint64_t start = heap;
        for (int k = 0; k < mark; k++, step++) {
            heap += rate;
            if (heap > retained)
                retained = heap;
            if (cycles >= 2 && meta + retained > worst)
                worst = meta + retained;
        }
        uint64_t marked = live(step);
        if (marked > heap)
            marked = heap;
        pacer_commit(&p, marked, 0, heap - start, marked);
        heap = marked;
        cycles++;
    }
    *worst_total = worst;
    *cycles_out = cycles;
    (void)name;
}

static uint64_t live_step(int step) { return step < 1500 ? 60 * MiB : 180 * MiB; }
static uint64_t live_over(int step) { (void)step; return 300 * MiB; }

static void test_limit_simulation(void)
{
    uint64_t worst;
    int cycles;
    simulate_limit("step", live_step, 256 * MiB, 5, &worst, &cycles);
    EXPECT(cycles >= 10);
    if (worst > 256 * MiB)
        T_FAIL("memory_total reached %llu MiB over a 256 MiB limit", (unsigned long long)(worst / MiB));
    /* Live heap over the limit: every step past the marked heap starts a
     * cycle (the CPU limiter, not modelled here, keeps that from stalling). */
    simulate_limit("over", live_over, 256 * MiB, 5, &worst, &cycles);
    EXPECT(cycles >= 3000 / 7);
}

/* ---- The API ---------------------------------------------------------- */

static void test_set_memory_limit(void)
{
    REQUIRE(tc_init(&(tc_options){.gc_percent = 100}) == 0);
    tc_stats st;
    EXPECT_EQ(tc_set_memory_limit(-1), 0);
    tc_read_stats(&st);
    EXPECT_EQ(st.memory_limit, 0);
    uint64_t goal0 = st.next_gc;

    EXPECT_EQ(tc_set_memory_limit(512 * MiB), 0);
    EXPECT_EQ(tc_set_memory_limit(-1), 512 * MiB);
    EXPECT_EQ(tc_set_memory_limit(INT64_MIN), 512 * MiB);
    tc_read_stats(&st);
    EXPECT_EQ(st.memory_limit, 512 * MiB);
    EXPECT_EQ(st.next_gc, goal0); /* the gc_percent goal is the smaller */
    EXPECT_EQ(st.memory_total, st.sys - st.heap_released);
    EXPECT(st.memory_total > 0 && st.memory_total < 512 * MiB);

    /* Keep 8 MiB live, then a limit under what the heap holds: the goal
     * falls to the marked heap and allocation runs cycles. */
    void **keep = tc_alloc(64 * sizeof(void *));
    REQUIRE(keep != NULL);
    REQUIRE(tc_root_add(&keep, sizeof keep) == 0);
    for (int i = 0; i < 64; i++)
        tc_store(&keep[i], tc_alloc_noscan(128 << 10));
    tc_collect();
    tc_read_stats(&st);
    uint32_t gcs = st.num_gc;
    EXPECT_EQ(tc_set_memory_limit(1 * MiB), 512 * MiB);
    tc_read_stats(&st);
    EXPECT_EQ(st.memory_limit, 1 * MiB);
    EXPECT(st.next_gc <= 9 * MiB);
    for (int i = 0; i < 500; i++)
        REQUIRE(tc_alloc_noscan(4096) != NULL);
    tc_read_stats(&st);
    EXPECT(st.num_gc > gcs);
    EXPECT(st.limit_exceeded_cycles > 0); /* 8 MiB live cannot fit in 1 MiB */

    EXPECT_EQ(tc_set_memory_limit(0), 1 * MiB);
    tc_read_stats(&st);
    EXPECT_EQ(st.memory_limit, 0);
    EXPECT(st.next_gc >= 8 * MiB); /* the gc_percent goal again */
    EXPECT_EQ(tc_set_memory_limit(INT64_MAX), 0);
    EXPECT_EQ(tc_set_memory_limit(0), INT64_MAX);
    tc_root_remove(&keep);
    tc_collect(); /* a cycle may still run from the 1 MiB limit */
    EXPECT_EQ(heap_verify(NULL), 0);
    tc_shutdown();

    /* The option sets the initial limit. */
    REQUIRE(tc_init(&(tc_options){.memory_limit = 64 * MiB}) == 0);
    tc_read_stats(&st);
    EXPECT_EQ(st.memory_limit, 64 * MiB);
    EXPECT_EQ(tc_set_memory_limit(-5), 64 * MiB);
    tc_shutdown();
    EXPECT_EQ(tc_init(&(tc_options){.memory_limit = -1}), TC_EINVAL);
}

/* ---- TRICOLOR=memlimit ------------------------------------------------ */

static const char *const env_cases[] = {
    "memlimit=lots", "memlimit=-5MiB", "memlimit=12PiB", "memlimit=", "memlimit=1.5GiB",
    "memlimit=99999999999TiB", "memlimit=64 MiB", "memlimit=0x100", "memlimit=MiB",
};

static int env_child(int i)
{
    setenv("TRICOLOR", env_cases[i], 1);
    int rc = tc_init(NULL);
    if (rc == 0)
        tc_shutdown();
    return rc == TC_EINVAL ? 0 : 1;
}

static int env_good_child(int which)
{
    static const char *const good[] = {"memlimit=64MiB", "memlimit=0", "memlimit=1048576,gcpercent=-1"};
    static const uint64_t want[] = {64 * MiB, 0, 1 * MiB};
    setenv("TRICOLOR", good[which], 1);
    /* The environment overrides tc_options. */
    if (tc_init(&(tc_options){.memory_limit = 1 << 30}) != 0)
        return 2;
    tc_stats st;
    tc_read_stats(&st);
    int ok = st.memory_limit == want[which] && tc_set_memory_limit(-1) == (int64_t)want[which];
    tc_shutdown();
    return ok ? 0 : 3;
}

static void test_env_memlimit(void)
{
    child_result r;
    for (int i = 0; i < (int)(sizeof env_cases / sizeof env_cases[0]); i++) {
        run_child(env_child, i, 30, &r);
        if (r.timed_out || !WIFEXITED(r.status) || WEXITSTATUS(r.status) != 0)
            T_FAIL("TRICOLOR=%s was not refused with TC_EINVAL", env_cases[i]);
        else if (strstr(r.out, "memlimit") == NULL)
            T_FAIL("TRICOLOR=%s: message does not name memlimit: %s", env_cases[i], r.out);
    }
    for (int i = 0; i < 3; i++) {
        run_child(env_good_child, i, 30, &r);
        if (r.timed_out || !WIFEXITED(r.status) || WEXITSTATUS(r.status) != 0)
            T_FAIL("valid memlimit case %d failed (status %d): %s", i, r.status, r.out);
    }
}

/* ---- Workloads ---------------------------------------------------------- */

/* No limit and one last cycle: the collector is idle afterwards, as
 * heap_verify requires (it reads mark bits a running cycle writes). */
static void quiesce(void)
{
    tc_set_memory_limit(0);
    tc_collect();
}

static int init_limited(uint64_t limit)
{
    tc_options o = {.gc_percent = -1, .memory_limit = (int64_t)limit};
    return tc_init(&o);
}

#define LEAF (16u << 10)          /* noscan leaves: cheap to mark, as big data is */
#define CHUNK 512                 /* pointers per table chunk (a 4 KiB object) */

static void **chunks[1024];       /* a global: scanned, holds the chunks */

static uint64_t leaf_tag(size_t i, uint64_t gen) { return (uint64_t)i * 0x9e3779b97f4a7c15ull ^ gen; }

/* A leaf for slot i, generation gen: its first and last words tagged. */
static void *new_leaf(size_t i, uint64_t gen)
{
    uint64_t *p = tc_alloc_noscan(LEAF);
    if (p == NULL)
        return NULL;
    memset(p, 0x5a, LEAF); /* written, as programs write what they allocate */
    p[0] = leaf_tag(i, gen);
    p[LEAF / 8 - 1] = ~leaf_tag(i, gen);
    return p;
}

typedef struct churn_result {
    uint64_t peak_total, peak_rss, allocs;
    int bad_leaves;
} churn_result;

/* Builds `live` bytes of leaves in table chunks, then replaces random
 * leaves with `churn` bytes of new ones, tracking the peaks.  Leaves keep
 * their generation in gens[] for the final check. */
static int churn(uint64_t live, uint64_t churn_bytes, churn_result *res)
{
    size_t n = live / LEAF, nchunks = (n + CHUNK - 1) / CHUNK;
    if (nchunks > sizeof chunks / sizeof chunks[0])
        return -1;
    uint64_t *gens = calloc(n, sizeof *gens);
    if (gens == NULL)
        return -1;
    memset(res, 0, sizeof *res);
    for (size_t c = 0; c < nchunks; c++)
        chunks[c] = tc_alloc(CHUNK * sizeof(void *));
    tc_stats st;
    uint64_t x = 0x2545f4914f6cdd1dull;
    size_t total = n + churn_bytes / LEAF;
    for (size_t k = 0; k < total; k++) {
        size_t i = k < n ? k : (size_t)(rnd(&x) % n);
        uint64_t gen = k;
        void *leaf = new_leaf(i, gen);
        if (leaf == NULL) {
            free(gens);
            return -1;
        }
        tc_store(&chunks[i / CHUNK][i % CHUNK], leaf);
        gens[i] = gen;
        res->allocs++;
        if (k % 16 == 0) {
            tc_read_stats(&st);
            if (st.memory_total > res->peak_total)
                res->peak_total = st.memory_total;
        }
        if (k % 64 == 0) {
            uint64_t r = rss_bytes();
            if (r > res->peak_rss)
                res->peak_rss = r;
        }
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t *p = chunks[i / CHUNK][i % CHUNK];
        if (p[0] != leaf_tag(i, gens[i]) || p[LEAF / 8 - 1] != ~leaf_tag(i, gens[i]))
            res->bad_leaves++;
    }
    free(gens);
    return 0;
}

static int under_limit_child(int arg)
{
    (void)arg;
    const uint64_t limit = 256 * MiB, live = 200 * MiB;
    uint64_t rss0 = rss_bytes();
    if (init_limited(limit) != 0)
        return 10;
    churn_result res;
    /* 3 GiB of churn (768 MiB under sanitizers, which are slower). */
    if (churn(live, (TEST_ASAN || TEST_TSAN) ? 768 * MiB : 3072 * MiB, &res) != 0)
        return 11;
    tc_stats st;
    tc_read_stats(&st);
    fprintf(stderr,
            "  200 MiB live, 256 MiB limit: peak memory_total %.1f MiB, peak RSS %.1f MiB (%.1f at start), "
            "%u cycles, %u over the limit, %.1f ms limited, %.1f MiB released\n",
            (double)res.peak_total / MiB, (double)res.peak_rss / MiB, (double)rss0 / MiB, st.num_gc,
            st.limit_exceeded_cycles, (double)st.limiter_ns / 1e6, (double)st.released_total / MiB);
    int rc = 0;
    if (res.bad_leaves != 0)
        rc = 1;
    else if (res.peak_total >= limit)
        rc = 2;
    else if (st.num_gc < 5)
        rc = 3;
    else if (st.limit_exceeded_cycles != 0)
        rc = 4;
    /* RSS: everything resident, the test program included.  Under
     * AddressSanitizer its shadow memory and allocator are resident too
     * (the heap writes above touch shadow pages): there the bound is the
     * limit plus what the process held before tc_init plus an eighth of the
     * limit for the heap's shadow; under ThreadSanitizer (4x shadow) RSS is
     * not compared. */
    else if (!TEST_TSAN && res.peak_rss >= limit + (TEST_ASAN ? rss0 + limit / 8 : 0))
        rc = 5;
    else if (quiesce(), heap_verify(NULL) != 0)
        rc = 6;
    tc_shutdown();
    return rc;
}

static void test_live_heap_under_limit(void)
{
    child_result r;
    run_child(under_limit_child, 0, 120, &r);
    fputs(r.out, stderr);
    if (r.timed_out || !WIFEXITED(r.status) || WEXITSTATUS(r.status) != 0)
        T_FAIL("200 MiB under 256 MiB: status %d (1 corrupt, 2 memory_total, 3 few cycles, "
               "4 cycles over the limit, 5 RSS, 6 heap_verify; timed out %d)",
               WIFEXITED(r.status) ? WEXITSTATUS(r.status) : -1, r.timed_out);
}

static int soft_limit_child(int arg)
{
    (void)arg;
    const uint64_t limit = 32 * MiB;
    if (init_limited(limit) != 0)
        return 10;
    churn_result res;
    if (churn(48 * MiB, 256 * MiB, &res) != 0)
        return 1; /* allocation failed: the limit must be soft */
    tc_stats st;
    tc_read_stats(&st);
    fprintf(stderr, "  48 MiB live, 32 MiB limit: %u cycles, %u over the limit, memory_total %.1f MiB\n",
            st.num_gc, st.limit_exceeded_cycles, (double)st.memory_total / MiB);
    int rc = res.bad_leaves != 0 ? 2 : st.num_gc < 3 ? 3 : st.limit_exceeded_cycles == 0 ? 4
           : st.memory_total <= limit ? 5 : (quiesce(), heap_verify(NULL) != 0) ? 6 : 0;
    tc_shutdown();
    return rc;
}

static void test_soft_limit(void)
{
    child_result r;
    run_child(soft_limit_child, 0, 120, &r);
    fputs(r.out, stderr);
    if (r.timed_out || !WIFEXITED(r.status) || WEXITSTATUS(r.status) != 0)
        T_FAIL("live heap over the limit: status %d (1 allocation failed, 2 corrupt, 3 few cycles, "
               "4 no cycle counted over, 5 under the limit?, 6 heap_verify; timed out %d)",
               WIFEXITED(r.status) ? WEXITSTATUS(r.status) : -1, r.timed_out);
}

int main(void)
{
    unsetenv("TRICOLOR");
    RUN(test_limit_goal);
    RUN(test_goal_is_the_smaller);
    RUN(test_limit_simulation);
    RUN(test_set_memory_limit);
    RUN(test_env_memlimit);
    RUN(test_live_heap_under_limit);
    RUN(test_soft_limit);
    TEST_MAIN_END();
}
