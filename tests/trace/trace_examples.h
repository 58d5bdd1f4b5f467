/*
 * trace_examples.h -- hand-built traces with figures worked out by hand,
 * shared by trace_analyze_test.c (which checks the figures through the
 * library), trace_synth.c (which writes them as files for cli_test.sh and
 * the fuzzing corpus).  Times in the comments are in ms.
 */
#ifndef TRACE_EXAMPLES_H
#define TRACE_EXAMPLES_H

#include <stdio.h>

#include "trace_writer.h"

#define MS 1000000ull
#define US 1000ull

/*
 * "basic": 1000 ms, every event type.  Threads: 1 "gc controller" and
 * 4 "mark worker" (runtime threads), 2 "main" and 3 "worker" (mutators, so
 * P = 2 by default).
 *
 *   pauses   [100,101] sweep termination, [200,202] mark termination,
 *            [300,304] a stw=1 cycle: 1, 2 and 4 ms
 *            -> p50 2 ms (rank ceil(1.5) = 2), p99 4 ms, max 4 ms, total 7
 *   mark     thread 4 [101,121]: 20 ms;  assist  thread 2 [500,510]: 10 ms
 *   GC CPU   7 * 2 + 20 + 10 = 44 processor-ms of 2 * 1000: 2.2%
 *   MMU 1 ms    0 (inside a pause)
 *   MMU 10 ms   [100,110]: 1 ms stopped + 9 ms with one of two marking
 *               = 9 of 20 processor-ms left: 45%
 *   MMU 100 ms  [102,202]: mark 19 + pause 2 * 2 = 23 of 200 used: 88.5%
 *   MMU 1 s     the whole trace: 97.8%
 *   threads  main: attached 0..1000, blocking [600,700] -> busy 900;
 *            worker: attached from 0 to the end -> busy 1000, sweep 2;
 *            gc controller: busy = its 7 ms of pauses; mark worker: 20
 *   cycles 2 (both complete, cycle 2 forced), tasks 1 (ended on another
 *   thread), regions 2, logs 2
 */
static inline void example_basic(tw *w)
{
    tw_init(w);
    tw_batch(w, 1, 0);
    tw_str_ev(w, TW_THREAD_NAME, 0, "gc controller");
    tw_ev1(w, TW_HEAP_ALLOC, 0, 4 << 20);
    tw_ev1(w, TW_HEAP_GOAL, 0, 8 << 20);
    tw_ev1(w, TW_HEAP_ALLOC, 90 * MS, 8 << 20);
    tw_ev2(w, TW_GC_BEGIN, 100 * MS, 1, 0);
    tw_str_ev(w, TW_STW_BEGIN, 100 * MS, "sweep termination");
    tw_str_ev(w, TW_PHASE, 100 * MS, "sweep termination");
    tw_str_ev(w, TW_PHASE, 100 * MS + 500 * US, "mark");
    tw_ev(w, TW_STW_END, 101 * MS);
    tw_str_ev(w, TW_STW_BEGIN, 200 * MS, "mark termination");
    tw_str_ev(w, TW_PHASE, 200 * MS, "mark termination");
    tw_str_ev(w, TW_PHASE, 201 * MS, "sweep");
    tw_ev(w, TW_STW_END, 202 * MS);
    tw_ev1(w, TW_HEAP_ALLOC, 202 * MS, 3 << 20);
    tw_ev1(w, TW_HEAP_GOAL, 202 * MS, 6 << 20);
    /* a second batch of the same thread, with another base */
    tw_batch(w, 1, 250 * MS);
    tw_str_ev(w, TW_PHASE, 250 * MS, "off");
    tw_ev1(w, TW_GC_END, 260 * MS, 1);
    tw_ev2(w, TW_GC_BEGIN, 300 * MS, 2, 1);
    tw_str_ev(w, TW_STW_BEGIN, 300 * MS, "stop-the-world collection");
    tw_str_ev(w, TW_PHASE, 300 * MS, "mark");
    tw_str_ev(w, TW_PHASE, 304 * MS, "off");
    tw_ev(w, TW_STW_END, 304 * MS);
    tw_ev1(w, TW_HEAP_ALLOC, 304 * MS, 2 << 20);
    tw_ev1(w, TW_HEAP_GOAL, 304 * MS, 4 << 20);
    tw_ev1(w, TW_GC_END, 310 * MS, 2);
    tw_ev1(w, TW_HEAP_ALLOC, 800 * MS, 5 << 20);

    tw_batch(w, 2, 0);
    tw_str_ev(w, TW_THREAD_NAME, 0, "main");
    tw_ev(w, TW_THREAD_ATTACH, 0);
    tw_str_ev(w, TW_REGION_BEGIN, 0, "setup");
    tw_task_begin(w, 10 * MS, 7, "request");
    tw_log(w, 20 * MS, "app", "hello, \"trace\"");
    tw_str_ev(w, TW_REGION_END, 50 * MS, "setup");
    tw_ev(w, TW_ASSIST_BEGIN, 500 * MS);
    tw_ev1(w, TW_ASSIST_END, 510 * MS, 65536);
    tw_ev(w, TW_BLOCKING_BEGIN, 600 * MS);
    tw_ev(w, TW_BLOCKING_END, 700 * MS);
    tw_ev(w, TW_THREAD_DETACH, 1000 * MS);

    tw_batch(w, 3, 0);
    tw_str_ev(w, TW_THREAD_NAME, 0, "worker");
    tw_ev(w, TW_THREAD_ATTACH, 0);
    tw_ev1(w, TW_TASK_END, 30 * MS, 7);
    tw_str_ev(w, TW_REGION_BEGIN, 40 * MS, "work");
    tw_str_ev(w, TW_REGION_END, 60 * MS, "work");
    tw_ev(w, TW_SWEEP_BEGIN, 260 * MS);
    tw_ev2(w, TW_SWEEP_END, 262 * MS, 10, 4);
    tw_log(w, 900 * MS, "app", "bye");

    tw_batch(w, 4, 101 * MS);
    tw_str_ev(w, TW_THREAD_NAME, 101 * MS, "mark worker");
    tw_ev(w, TW_MARK_WORKER_BEGIN, 101 * MS);
    tw_ev1(w, TW_MARK_WORKER_END, 121 * MS, 1 << 20);
    tw_finish(w, 1000 * MS);
}

/*
 * "pauses": 100 cycles of one pause each, the i-th i us long at i ms
 * (i = 1..100), over 101 ms, one mutator (P = 1).
 *   p50 50 us, p99 99 us, max 100 us, total 5050 us; GC CPU 5.0%
 *   MMU 1 ms  [x, x+1] holds at most one whole pause: the longest,
 *             100 us -> 90%
 *   MMU 10 ms [91,101] holds pauses 91..100: 955 us -> 90.45%
 */
static inline void example_pauses(tw *w)
{
    tw_init(w);
    tw_batch(w, 1, 0);
    tw_str_ev(w, TW_THREAD_NAME, 0, "collector");
    for (uint64_t i = 1; i <= 100; i++) {
        tw_ev2(w, TW_GC_BEGIN, i * MS, i, 0);
        tw_str_ev(w, TW_STW_BEGIN, i * MS, "test");
        tw_ev(w, TW_STW_END, i * MS + i * US);
        tw_ev1(w, TW_GC_END, i * MS + i * US, i);
    }
    tw_batch(w, 2, 0);
    tw_str_ev(w, TW_THREAD_NAME, 0, "main");
    tw_ev(w, TW_THREAD_ATTACH, 0);
    tw_finish(w, 101 * MS);
}

/*
 * "edges": spans cut by the trace's start and end, over 100 ms.
 *   thread 1 (unnamed, runtime): GC_END 5 at 10 (a cycle from 0), STW_END
 *     at 2 (a pause from 0: 2 ms), GC_BEGIN 6 at 90 never ends (open to
 *     100), MARK_WORKER_BEGIN at 95 (open: 5 ms)
 *   thread 2 "m": ASSIST_END at 4 (from 0: 4 ms), region "outer" ends at 50
 *     without a begin (from 0), region "inner" [20,30] inside it,
 *     BLOCKING_BEGIN at 80 (open: 20 ms), TASK_END 9 at 40 (from 0),
 *     TASK_BEGIN 11 at 60 (open), REGION_BEGIN "tail" at 70 (open)
 *   -> cycles 2 (0 complete), pauses 1 (2 ms), tasks 2 (1 ended), regions 3
 *   with P = 1: GC = 2 (stopped) + 2 more of assist ([0,4] overlaps the
 *   pause) + 5 (mark) = 9 ms: 9.0%
 */
static inline void example_edges(tw *w)
{
    tw_init(w);
    tw_batch(w, 1, 0);
    tw_ev(w, TW_STW_END, 2 * MS);
    tw_ev1(w, TW_GC_END, 10 * MS, 5);
    tw_ev2(w, TW_GC_BEGIN, 90 * MS, 6, 0);
    tw_ev(w, TW_MARK_WORKER_BEGIN, 95 * MS);
    tw_batch(w, 2, 0);
    tw_str_ev(w, TW_THREAD_NAME, 0, "m");
    tw_ev1(w, TW_ASSIST_END, 4 * MS, 100);
    tw_str_ev(w, TW_REGION_BEGIN, 20 * MS, "inner");
    tw_str_ev(w, TW_REGION_END, 30 * MS, "inner");
    tw_ev1(w, TW_TASK_END, 40 * MS, 9);
    tw_str_ev(w, TW_REGION_END, 50 * MS, "outer");
    tw_task_begin(w, 60 * MS, 11, "late");
    tw_str_ev(w, TW_REGION_BEGIN, 70 * MS, "tail");
    tw_ev(w, TW_BLOCKING_BEGIN, 80 * MS);
    tw_finish(w, 100 * MS);
}

/* "empty": a header and a footer, nothing else. */
static inline void example_empty(tw *w)
{
    tw_init(w);
    tw_finish(w, 0);
}

static inline uint64_t example_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/*
 * "workload": what a run of a few seconds looks like -- 2 s, 3 mutators
 * allocating in a sawtooth, a controller running 20 concurrent cycles with
 * two pauses each, a mark worker, assists when the heap nears its goal.
 * Pseudo-random but fixed; for the html and json checks and the corpus.
 */
static inline void example_workload(tw *w)
{
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    tw_init(w);
    const uint64_t end = 2000 * MS, period = 100 * MS;
    /* The controller: cycles every `period`, heap goal doubling live. */
    tw_batch(w, 1, 0);
    tw_str_ev(w, TW_THREAD_NAME, 0, "gc controller");
    uint64_t live = 8 << 20;
    tw_ev1(w, TW_HEAP_GOAL, 0, 2 * live);
    for (uint64_t c = 1; c * period < end; c++) {
        uint64_t t0 = c * period;
        uint64_t p1 = 50 * US + example_rand(&seed) % (100 * US);
        uint64_t mark = 20 * MS + example_rand(&seed) % (10 * MS);
        uint64_t p2 = 80 * US + example_rand(&seed) % (300 * US);
        tw_batch(w, 1, t0);
        tw_ev2(w, TW_GC_BEGIN, t0, c, c % 7 == 0);
        tw_str_ev(w, TW_STW_BEGIN, t0, "sweep termination");
        tw_str_ev(w, TW_PHASE, t0, "sweep termination");
        tw_str_ev(w, TW_PHASE, t0 + p1 / 2, "mark");
        tw_ev(w, TW_STW_END, t0 + p1);
        uint64_t t1 = t0 + p1 + mark;
        tw_str_ev(w, TW_STW_BEGIN, t1, "mark termination");
        tw_str_ev(w, TW_PHASE, t1, "mark termination");
        tw_str_ev(w, TW_PHASE, t1 + p2 / 2, "sweep");
        tw_ev(w, TW_STW_END, t1 + p2);
        live = (6 << 20) + example_rand(&seed) % (4 << 20);
        tw_ev1(w, TW_HEAP_ALLOC, t1 + p2, live);
        tw_ev1(w, TW_HEAP_GOAL, t1 + p2, 2 * live);
        tw_ev(w, TW_SWEEP_BEGIN, t1 + p2);
        tw_ev2(w, TW_SWEEP_END, t1 + p2 + 3 * MS, 400, 150);
        tw_str_ev(w, TW_PHASE, t1 + p2 + 3 * MS, "off");
        tw_ev1(w, TW_GC_END, t1 + p2 + 3 * MS, c);
        /* allocation until the next cycle */
        for (uint64_t k = 1; k < 20; k++)
            tw_ev1(w, TW_HEAP_ALLOC, t1 + p2 + 3 * MS + k * 3 * MS, live + k * (live / 20));
    }
    /* The mark worker: one stretch per cycle. */
    tw_batch(w, 2, 0);
    tw_str_ev(w, TW_THREAD_NAME, 0, "mark worker");
    for (uint64_t c = 1; c * period < end; c++) {
        uint64_t t0 = c * period + 200 * US;
        tw_ev(w, TW_MARK_WORKER_BEGIN, t0);
        tw_ev1(w, TW_MARK_WORKER_END, t0 + 15 * MS, 3 << 20);
    }
    /* Mutators: requests as tasks and regions, assists early in marking. */
    for (uint64_t m = 0; m < 3; m++) {
        char name[32];
        snprintf(name, sizeof name, "mutator %llu", (unsigned long long)m + 1);
        tw_batch(w, 3 + m, 0);
        tw_str_ev(w, TW_THREAD_NAME, 0, name);
        tw_ev(w, TW_THREAD_ATTACH, 0);
        uint64_t t = 1 * MS + m * 7 * MS;
        for (uint64_t r = 0; t + 30 * MS < end; r++) {
            uint64_t id = 1 + m * 100000 + r;
            tw_task_begin(w, t, id, "request");
            tw_str_ev(w, TW_REGION_BEGIN, t, "handle");
            uint64_t in_cycle = t % period;
            if (in_cycle > 1 * MS && in_cycle < 20 * MS && example_rand(&seed) % 2) {
                tw_ev(w, TW_ASSIST_BEGIN, t + 1 * MS);
                tw_ev1(w, TW_ASSIST_END, t + 1 * MS + 200 * US + example_rand(&seed) % (800 * US), 256 << 10);
            }
            uint64_t len = 5 * MS + example_rand(&seed) % (10 * MS);
            tw_str_ev(w, TW_REGION_END, t + len, "handle");
            tw_ev(w, TW_BLOCKING_BEGIN, t + len);
            tw_ev(w, TW_BLOCKING_END, t + len + 2 * MS);
            tw_ev1(w, TW_TASK_END, t + len + 2 * MS, id);
            if (r % 25 == 0)
                tw_log(w, t + len + 2 * MS, "server", "handled a batch of requests");
            t += len + 2 * MS + example_rand(&seed) % (3 * MS);
        }
        tw_ev(w, TW_THREAD_DETACH, end - 1 * MS);
    }
    tw_finish(w, end);
}

#endif
