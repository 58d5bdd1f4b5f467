/*
 * pacer_test.c -- the pacer (src/gc/pacer.c) as a simulation, in the
 * manner of Go's TestGcPacer: goal = marked + (marked + roots) x
 * gc_percent/100 with the 4 MiB x gc_percent/100 floor; the trigger stays
 * within [0.7, 0.95] of the runway and moves earlier when the last mark
 * phase allocated more; gc_percent < 0 never triggers; the assist ratio
 * grows as the heap approaches the goal and stays finite past it.  A
 * steady, a stepping and an oscillating live heap keep the heap within the
 * goal when cycles start at the trigger.
 */
#include "gc/pacer.h"
#include "test.h"

static void test_goal(void)
{
    pacer p = {.gc_percent = 100};
    pacer_commit(&p, 100 << 20, 0, 0, 0);
    EXPECT_EQ(p.goal, 200u << 20);
    pacer_commit(&p, 100 << 20, 10 << 20, 0, 0);
    EXPECT_EQ(p.goal, 210u << 20); /* roots count (Go 1.18) */
    p.gc_percent = 50;
    pacer_commit(&p, 100 << 20, 0, 0, 0);
    EXPECT_EQ(p.goal, 150u << 20);
    pacer_commit(&p, 1 << 20, 0, 0, 0);
    EXPECT_EQ(p.goal, 2u << 20); /* the floor: 4 MiB x 50% */
    p.gc_percent = -1;
    pacer_commit(&p, 100 << 20, 0, 0, 0);
    EXPECT(!pacer_should_start(&p, INT64_MAX / 2));
}

static void test_trigger_bounds(void)
{
    pacer p = {.gc_percent = 100};
    uint64_t m = 100 << 20;
    for (uint64_t alloc = 0; alloc <= 300u << 20; alloc += 10 << 20) {
        pacer_commit(&p, m, 0, alloc, m);
        uint64_t runway = p.goal - m;
        EXPECT(p.trigger >= m + (uint64_t)(runway * 0.70) - 1);
        EXPECT(p.trigger <= m + (uint64_t)(runway * 0.95) + 1);
    }
    pacer_commit(&p, m, 0, 5 << 20, m);
    uint64_t late = p.trigger;
    pacer_commit(&p, m, 0, 25 << 20, m);
    EXPECT(p.trigger < late); /* more allocation during mark: start earlier */
}

static void test_assist_ratio(void)
{
    pacer p = {.gc_percent = 100};
    pacer_commit(&p, 100 << 20, 0, 0, 100 << 20);
    double far = pacer_assist_ratio(&p, 0, 150 << 20);
    double near = pacer_assist_ratio(&p, 0, 199 << 20);
    double past = pacer_assist_ratio(&p, 0, 400 << 20);
    EXPECT(far > 0 && near > far && past >= near);
    EXPECT(past < 1e9); /* finite */
    EXPECT(pacer_assist_ratio(&p, 90 << 20, 150 << 20) < far); /* less work left */
}

/* A simulated program: each step allocates `rate` bytes; a cycle starts at
 * the trigger and marks for `mark_steps` steps, during which allocation
 * continues; at its end the live heap is `live(step)`.  Once the pacer has
 * seen two cycles (and so how much the program allocates while marking),
 * the heap must never exceed the goal by more than one step's allocation.
 * (The model has no assists, which bound the overshoot of the first
 * cycles in the real collector.) */
static void simulate(const char *name, uint64_t (*live)(int), uint64_t rate, int mark_steps)
{
    pacer p = {.gc_percent = 100};
    pacer_commit(&p, 0, 0, 0, 0);
    int64_t heap = 0;
    uint64_t worst_over = 0;
    int cycles = 0;
    for (int step = 0; step < 2000;) {
        heap += (int64_t)rate;
        step++;
        if (!pacer_should_start(&p, heap))
            continue;
        int64_t start = heap;
        uint64_t goal = p.goal;
        for (int k = 0; k < mark_steps; k++, step++)
            heap += (int64_t)rate;
        if (cycles >= 2 && (uint64_t)heap > goal && (uint64_t)heap - goal > worst_over)
            worst_over = (uint64_t)heap - goal;
        uint64_t marked = live(step);
        pacer_commit(&p, marked, 0, (uint64_t)(heap - start), marked);
        heap = (int64_t)marked;
        cycles++;
    }
    if (cycles < 5)
        T_FAIL("%s: only %d cycles", name, cycles);
    if (worst_over > rate)
        T_FAIL("%s: heap exceeded the goal by %llu bytes", name, (unsigned long long)worst_over);
}

static uint64_t steady(int step) { (void)step; return 64u << 20; }
static uint64_t stepping(int step) { return step < 1000 ? 32u << 20 : 256u << 20; }
static uint64_t oscillating(int step) { return (step / 100) % 2 ? 16u << 20 : 128u << 20; }

static void test_simulations(void)
{
    simulate("steady", steady, 1 << 20, 5);
    simulate("stepping", stepping, 1 << 20, 5);
    simulate("oscillating", oscillating, 1 << 20, 5);
}

int main(void)
{
    RUN(test_goal);
    RUN(test_trigger_bounds);
    RUN(test_assist_ratio);
    RUN(test_simulations);
    TEST_MAIN_END();
}
