/*
 * trace_analyze_test.c -- pairing, per-cycle and per-thread sums, pause
 * percentiles, utilization and MMU (tools/trace/tr_analyze.c, tr_mmu.c) on
 * the hand-built traces of trace_examples.h, whose figures are worked out
 * in its comments, and the MMU against a brute-force count on random
 * traces.
 */
#include <math.h>
#include <string.h>

#include "test.h"
#include "tr_analyze.h"
#include "tr_mmu.h"
#include "tr_parse.h"
#include "trace_examples.h"

#define EXPECT_NEAR(a, b)                                                               \
    do {                                                                                \
        test_checks++;                                                                  \
        double a_ = (a), b_ = (b);                                                      \
        if (fabs(a_ - b_) > 1e-9)                                                       \
            T_FAIL("%s == %s (%.12f != %.12f)", #a, #b, a_, b_);                        \
    } while (0)

typedef struct loaded {
    tw w;
    tr_trace t;
    tr_analysis a;
} loaded;

static void load(loaded *l, void (*build)(tw *))
{
    build(&l->w);
    tr_error err;
    if (tr_parse(l->w.buf, l->w.len, &l->t, &err) != 0) {
        T_FAIL("parse: offset %llu: %s", (unsigned long long)err.offset, err.msg);
        exit(1);
    }
    REQUIRE(tr_analyze(&l->t, &l->a) == 0);
}

static void unload(loaded *l)
{
    tr_analysis_free(&l->a);
    tr_free(&l->t);
    tw_free(&l->w);
}

static double mmu(const tr_analysis *a, unsigned procs, uint64_t window)
{
    tr_util u;
    REQUIRE(tr_util_build(a, procs, &u) == 0);
    double v = tr_mmu(&u, window);
    tr_util_free(&u);
    return v;
}

static double mean_util(const tr_analysis *a, unsigned procs)
{
    tr_util u;
    REQUIRE(tr_util_build(a, procs, &u) == 0);
    double v = tr_util_mean(&u);
    tr_util_free(&u);
    return v;
}

static const tr_span *find_span(const tr_analysis *a, unsigned kind, uint64_t start)
{
    for (size_t i = 0; i < a->nspans; i++)
        if (a->spans[i].kind == kind && a->spans[i].start == start)
            return &a->spans[i];
    return NULL;
}

static void test_basic(void)
{
    loaded l;
    load(&l, example_basic);
    const tr_analysis *a = &l.a;
    EXPECT_EQ(a->ncycles, 2);
    EXPECT_EQ(a->ncomplete, 2);
    EXPECT_EQ(a->nforced, 1);
    EXPECT_EQ(a->npauses, 3);
    EXPECT_EQ(a->pauses[0], 1 * MS);
    EXPECT_EQ(a->pauses[2], 4 * MS);
    EXPECT_EQ(tr_pause_percentile(a, 50), 2 * MS);
    EXPECT_EQ(tr_pause_percentile(a, 99), 4 * MS);
    EXPECT_EQ(tr_pause_percentile(a, 100), 4 * MS);
    EXPECT_EQ(tr_pause_percentile(a, 0), 1 * MS);
    EXPECT_EQ(a->stw_total, 7 * MS);
    EXPECT_EQ(a->mark_total, 20 * MS);
    EXPECT_EQ(a->mark_bytes, 1 << 20);
    EXPECT_EQ(a->assist_total, 10 * MS);
    EXPECT_EQ(a->assist_bytes, 65536);
    EXPECT_EQ(a->sweep_total, 2 * MS);
    EXPECT_EQ(a->heap_peak, 8 << 20);
    EXPECT_EQ(a->ntasks, 1);
    EXPECT_EQ(a->ntasks_ended, 1);
    EXPECT_EQ(a->nregions, 2);
    EXPECT_EQ(a->nlogs, 2);
    EXPECT_EQ(a->nheap, 5);
    EXPECT_EQ(a->ngoal, 3);

    /* cycles */
    const tr_cycle *c = &a->cycles[0];
    EXPECT_EQ(c->number, 1);
    EXPECT(!c->forced && c->flags == 0);
    EXPECT_EQ(c->start, 100 * MS);
    EXPECT_EQ(c->end, 260 * MS);
    EXPECT_EQ(c->nstw, 2);
    EXPECT_EQ(c->stw_total, 3 * MS);
    EXPECT_EQ(c->stw_max, 2 * MS);
    EXPECT_EQ(c->mark_time, 20 * MS);
    EXPECT_EQ(c->heap_start, 8 << 20);
    EXPECT_EQ(c->heap_end, 3 << 20);
    EXPECT_EQ(c->goal, 6 << 20);
    c = &a->cycles[1];
    EXPECT(c->forced);
    EXPECT_EQ(c->nstw, 1);
    EXPECT_EQ(c->stw_max, 4 * MS);
    EXPECT_EQ(c->heap_end, 2 << 20);
    EXPECT_EQ(c->goal, 4 << 20);

    /* phases nest in their cycles; "off" starts none */
    const tr_span *p = find_span(a, TR_SPAN_PHASE, 100 * MS + 500 * US);
    REQUIRE(p != NULL);
    EXPECT(strcmp(tr_str(&l.t, p->name), "mark") == 0);
    EXPECT_EQ(p->end, 200 * MS);
    EXPECT_EQ(p->cycle, 0);
    p = find_span(a, TR_SPAN_PHASE, 201 * MS);
    REQUIRE(p != NULL);
    EXPECT_EQ(p->end, 250 * MS);
    int phases = 0;
    for (size_t i = 0; i < a->nspans; i++)
        phases += a->spans[i].kind == TR_SPAN_PHASE;
    EXPECT_EQ(phases, 5);

    /* the task began on main (index 1) and ended on worker (index 2) */
    const tr_span *task = find_span(a, TR_SPAN_TASK, 10 * MS);
    REQUIRE(task != NULL);
    EXPECT_EQ(task->end, 30 * MS);
    EXPECT_EQ(task->thread, 1);
    EXPECT_EQ(task->end_thread, 2);
    EXPECT(strcmp(tr_str(&l.t, task->name), "request") == 0);

    /* threads: 1 gc controller, 2 main, 3 worker, 4 mark worker */
    EXPECT_EQ(a->nmutators, 2);
    const tr_thread_stats *ts = a->threads;
    EXPECT(!ts[0].mutator && ts[1].mutator && ts[2].mutator && !ts[3].mutator);
    EXPECT_EQ(ts[0].busy, 7 * MS);
    EXPECT_EQ(ts[0].stw, 7 * MS);
    EXPECT_EQ(ts[1].attached, 1000 * MS);
    EXPECT_EQ(ts[1].blocking, 100 * MS);
    EXPECT_EQ(ts[1].busy, 900 * MS);
    EXPECT_EQ(ts[1].assist, 10 * MS);
    EXPECT_EQ(ts[2].busy, 1000 * MS);
    EXPECT_EQ(ts[2].sweep, 2 * MS);
    EXPECT_EQ(ts[3].busy, 20 * MS);
    EXPECT_EQ(ts[3].mark, 20 * MS);

    /* utilization over the default P = 2, and over 1 */
    EXPECT_EQ(tr_default_procs(a), 2);
    EXPECT_NEAR(mean_util(a, 2), 0.978);
    EXPECT_NEAR(mmu(a, 2, 1 * MS), 0.0);
    EXPECT_NEAR(mmu(a, 2, 10 * MS), 0.45);
    EXPECT_NEAR(mmu(a, 2, 100 * MS), 0.885);
    EXPECT_NEAR(mmu(a, 2, 1000 * MS), 0.978);
    EXPECT_NEAR(mmu(a, 2, 5000 * MS), 0.978);
    EXPECT_NEAR(mean_util(a, 1), 1 - 0.037);
    EXPECT_NEAR(mmu(a, 1, 10 * MS), 0.0);
    /* a 200 ms window covers at most [101,121] of marking and one pause,
     * or [300,304] and the assist: [102,302]: 19 + 2 + 2 = 23 of 200 */
    EXPECT_NEAR(mmu(a, 1, 200 * MS), 1 - 23.0 / 200);
    unload(&l);
}

static void test_pauses(void)
{
    loaded l;
    load(&l, example_pauses);
    const tr_analysis *a = &l.a;
    EXPECT_EQ(a->npauses, 100);
    EXPECT_EQ(tr_pause_percentile(a, 50), 50 * US);
    EXPECT_EQ(tr_pause_percentile(a, 99), 99 * US);
    EXPECT_EQ(tr_pause_percentile(a, 99.5), 100 * US);
    EXPECT_EQ(a->pauses[99], 100 * US);
    EXPECT_EQ(a->stw_total, 5050 * US);
    EXPECT_EQ(a->ncycles, 100);
    EXPECT_EQ(a->nmutators, 1);
    EXPECT_NEAR(mean_util(a, 1), 1 - 5050.0 / 101000);
    EXPECT_NEAR(mmu(a, 1, 1 * MS), 0.9);
    EXPECT_NEAR(mmu(a, 1, 10 * MS), 1 - 0.0955);
    /* with more processors a stop-the-world still stops them all */
    EXPECT_NEAR(mmu(a, 4, 1 * MS), 0.9);
    unload(&l);
}

static void test_edges(void)
{
    loaded l;
    load(&l, example_edges);
    const tr_analysis *a = &l.a;
    EXPECT_EQ(a->ncycles, 2);
    EXPECT_EQ(a->ncomplete, 0);
    EXPECT_EQ(a->cycles[0].number, 5);
    EXPECT_EQ(a->cycles[0].flags, TR_SPAN_OPEN_START);
    EXPECT_EQ(a->cycles[0].start, 0);
    EXPECT_EQ(a->cycles[0].nstw, 1);
    EXPECT_EQ(a->cycles[1].number, 6);
    EXPECT_EQ(a->cycles[1].flags, TR_SPAN_OPEN_END);
    EXPECT_EQ(a->cycles[1].end, 100 * MS);
    EXPECT_EQ(a->cycles[1].mark_time, 5 * MS);
    EXPECT_EQ(a->npauses, 1);
    EXPECT_EQ(a->pauses[0], 2 * MS);
    EXPECT_EQ(a->ntasks, 2);
    EXPECT_EQ(a->ntasks_ended, 1);
    EXPECT_EQ(a->nregions, 3);
    const tr_span *outer = find_span(a, TR_SPAN_REGION, 0);
    REQUIRE(outer != NULL);
    EXPECT_EQ(outer->end, 50 * MS);
    EXPECT_EQ(outer->flags, TR_SPAN_OPEN_START);
    const tr_span *tail = find_span(a, TR_SPAN_REGION, 70 * MS);
    REQUIRE(tail != NULL);
    EXPECT_EQ(tail->flags, TR_SPAN_OPEN_END);
    const tr_span *late = find_span(a, TR_SPAN_TASK, 60 * MS);
    REQUIRE(late != NULL);
    EXPECT_EQ(late->end, 100 * MS);
    EXPECT_EQ(late->arg[0], 11);
    const tr_span *early = find_span(a, TR_SPAN_TASK, 0);
    REQUIRE(early != NULL);
    EXPECT_EQ(early->arg[0], 9);
    EXPECT_EQ(early->name, 0);
    EXPECT_EQ(a->nmutators, 1);
    EXPECT_EQ(a->threads[1].assist, 4 * MS);
    EXPECT_EQ(a->threads[1].blocking, 20 * MS);
    EXPECT_EQ(a->threads[1].busy, 80 * MS);
    EXPECT_EQ(a->threads[0].busy, 7 * MS);
    EXPECT_NEAR(mean_util(a, 1), 0.91);
    EXPECT_NEAR(mmu(a, 1, 4 * MS), 0.0);
    EXPECT_NEAR(mmu(a, 1, 10 * MS), 0.5);
    unload(&l);
}

static void test_empty(void)
{
    loaded l;
    load(&l, example_empty);
    EXPECT_EQ(l.a.nspans, 0);
    EXPECT_EQ(l.a.npauses, 0);
    EXPECT_EQ(tr_pause_percentile(&l.a, 99), 0);
    EXPECT_EQ(tr_default_procs(&l.a), 1);
    EXPECT_NEAR(mean_util(&l.a, 1), 1.0);
    EXPECT_NEAR(mmu(&l.a, 1, 1 * MS), 1.0);
    unload(&l);
}

/* Two threads marking on one processor use it all, not more; a pause
 * during marking counts once. */
static void build_overlaps(tw *w)
{
    tw_init(w);
    tw_batch(w, 1, 0);
    tw_ev(w, TW_MARK_WORKER_BEGIN, 0);
    tw_str_ev(w, TW_STW_BEGIN, 10, "x");
    tw_ev(w, TW_STW_END, 20);
    tw_ev1(w, TW_MARK_WORKER_END, 40, 0);
    tw_batch(w, 2, 0);
    tw_ev(w, TW_MARK_WORKER_BEGIN, 30);
    tw_ev1(w, TW_MARK_WORKER_END, 50, 0);
    tw_ev(w, TW_ASSIST_BEGIN, 50); /* the same thread assisting right after */
    tw_ev1(w, TW_ASSIST_END, 60, 0);
    tw_finish(w, 100);
}

static void test_overlaps(void)
{
    loaded l;
    load(&l, build_overlaps);
    const tr_analysis *a = &l.a;
    /* P = 1: GC holds [0,60]: 40% left.  P = 2: GC holds one processor on
     * [0,10], [20,30], [40,60] and both on [10,20] (stopped) and [30,40]
     * (both threads marking): 80 of 200. */
    EXPECT_NEAR(mean_util(a, 1), 0.4);
    EXPECT_NEAR(mmu(a, 1, 60), 0.0);
    EXPECT_NEAR(mmu(a, 1, 61), 1.0 / 61);
    EXPECT_NEAR(mean_util(a, 2), (200.0 - 80) / 200);
    EXPECT_NEAR(mmu(a, 2, 10), 0.0);
    EXPECT_NEAR(mmu(a, 2, 30), 10.0 / 60); /* [10,40]: 10 stopped, 10 with one left, 10 with none */
    EXPECT_NEAR(mmu(a, 2, 0), 0.0);
    unload(&l);
}

/* Ticks of another frequency: 1 MHz, so 1000 ticks are 1 ms. */
static void build_microseconds(tw *w)
{
    tw_init(w);
    w->frequency = 1000000;
    tw_batch(w, 1, 0);
    tw_ev(w, TW_THREAD_ATTACH, 0);
    tw_str_ev(w, TW_STW_BEGIN, 1000, "x");
    tw_ev(w, TW_STW_END, 1500);
    tw_finish(w, 10000);
}

static void test_frequency(void)
{
    loaded l;
    load(&l, build_microseconds);
    EXPECT_EQ(l.t.frequency, 1000000);
    EXPECT_EQ(l.a.pauses[0], 500);
    EXPECT_NEAR(tr_ns(&l.t, l.a.pauses[0]), 500000.0);
    EXPECT_EQ(tr_ticks(&l.t, 1e6), 1000);
    EXPECT_NEAR(mmu(&l.a, 1, tr_ticks(&l.t, 1e6)), 0.5);
    EXPECT_NEAR(mean_util(&l.a, 1), 0.95);
    unload(&l);
}

/* MMU against brute force: random traces on a grid of integer ticks, where
 * utilization is constant on every [t, t+1), so the exact minimum over
 * windows is attained at an integer start. */
static void test_mmu_brute_force(void)
{
    uint64_t seed = 12345;
    for (int round = 0; round < 300; round++) {
        const uint64_t end = 20 + example_rand(&seed) % 60;
        int mark[4][100] = {{0}}; /* per thread: busy at tick t */
        int stopped[100] = {0};
        tw w;
        tw_init(&w);
        for (int th = 0; th < 4; th++) {
            tw_batch(&w, (uint64_t)th + 1, 0);
            uint64_t t = example_rand(&seed) % 10;
            while (t < end) {
                uint64_t len = 1 + example_rand(&seed) % 12;
                if (t + len > end)
                    len = end - t;
                int kind = th == 0 ? 2 : (int)(example_rand(&seed) % 2);
                uint8_t begin = kind == 2 ? TW_STW_BEGIN : kind ? TW_ASSIST_BEGIN : TW_MARK_WORKER_BEGIN;
                if (kind == 2)
                    tw_str_ev(&w, begin, t, "s");
                else
                    tw_ev(&w, begin, t);
                if (kind == 2)
                    tw_ev(&w, TW_STW_END, t + len);
                else
                    tw_ev1(&w, begin + 1, t + len, 0);
                for (uint64_t k = t; k < t + len; k++) {
                    if (kind == 2)
                        stopped[k] = 1;
                    else
                        mark[th][k] = 1;
                }
                t += len + example_rand(&seed) % 15;
            }
        }
        tw_finish(&w, end);
        tr_trace t;
        tr_error err;
        REQUIRE(tr_parse(w.buf, w.len, &t, &err) == 0);
        tr_analysis a;
        REQUIRE(tr_analyze(&t, &a) == 0);
        unsigned procs = 1 + (unsigned)(example_rand(&seed) % 3);
        tr_util u;
        REQUIRE(tr_util_build(&a, procs, &u) == 0);
        long m[100];
        long total = 0;
        for (uint64_t k = 0; k < end; k++) {
            int busy = mark[1][k] + mark[2][k] + mark[3][k];
            m[k] = stopped[k] ? 0 : (long)procs - (busy < (int)procs ? busy : (int)procs);
            total += m[k];
        }
        EXPECT_NEAR(tr_util_mean(&u), (double)total / ((double)procs * end));
        for (uint64_t win = 1; win <= end; win++) {
            long best = -1;
            for (uint64_t x = 0; x + win <= end; x++) {
                long sum = 0;
                for (uint64_t k = x; k < x + win; k++)
                    sum += m[k];
                if (best < 0 || sum < best)
                    best = sum;
            }
            double want = (double)best / ((double)procs * win);
            double got = tr_mmu(&u, win);
            if (fabs(got - want) > 1e-12) {
                T_FAIL("round %d, end %llu, P %u, window %llu: MMU %.6f, brute force %.6f", round,
                       (unsigned long long)end, procs, (unsigned long long)win, got, want);
                round = 1 << 30;
                break;
            }
        }
        test_checks++;
        tr_util_free(&u);
        tr_analysis_free(&a);
        tr_free(&t);
        tw_free(&w);
    }
}

int main(void)
{
    RUN(test_basic);
    RUN(test_pauses);
    RUN(test_edges);
    RUN(test_empty);
    RUN(test_overlaps);
    RUN(test_frequency);
    RUN(test_mmu_brute_force);
    TEST_MAIN_END();
}
