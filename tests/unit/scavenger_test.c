/*
 * scavenger_test.c -- giving memory back to the OS: the releasing
 * mechanism (src/heap/scavenge.c, the page allocator's take/done) and the
 * background scavenger's goals and pacing (src/gc/scavenger.c).
 *
 *  - test_goals: the gc_percent retained goal is in-use x goal / last goal
 *    x 1.1, none before the second cycle or without a gc_percent goal; the
 *    limit asks for memory_total down to 95% of the limit; the need is the
 *    larger, nothing within a page;
 *  - test_release_from_the_top: with the background thread stopped, a
 *    release takes the highest free backed run first; released pages read
 *    as zero, the rest keep their contents; released_total, heap_released
 *    and memory_total move by exactly what was released; the next
 *    allocation takes the backed run below, the one after it reuses the
 *    released run (zero, no clearing needed);
 *  - test_release_while_allocating: threads allocate and free spans while
 *    another keeps releasing: the page allocator and the heap stay
 *    consistent (heap_verify), spans made of released pages read as zero;
 *  - test_sync_scavenging: over the memory limit, an allocation that takes
 *    released pages releases as much (at least SCAV_SYNC_MIN_BYTES) of the
 *    free backed ones until memory_total is back under the limit; not while
 *    the CPU limiter limits;
 *  - test_spike_returns: a 1 GiB spike (256 MiB under ThreadSanitizer)
 *    over a 16 MiB live heap, dropped:
 *    the background scavenger runs at about its CPU share and brings RSS
 *    and memory_total back near where they were; regrowing reuses the
 *    released pages with one fault per page (no storm); tc_shutdown
 *    returns everything (RSS back to what it was before tc_init).
 */
#include <pthread.h>
#include <string.h>
#include <sys/resource.h>

#include "gc/scavenger.h"
#include "heap/heap_verify.h"
#include "heap/page_alloc.h"
#include "heap/page_heap.h"
#include "heap/scavenge.h"
#include "test.h"
#include "child.h"
#include "rss.h"
#include "tricolor.h"

#define MiB ((uint64_t)1 << 20)
#define PG ((uintptr_t)PAGE_SIZE)
#define LARGE_NOSCAN make_spanclass(0, 1)

static void test_goals(void)
{
    EXPECT_EQ(scavenger_retained_goal(100 * MiB, 200 * MiB, 200 * MiB), 110 * MiB);
    EXPECT_EQ(scavenger_retained_goal(100 * MiB, 100 * MiB, 200 * MiB), 55 * MiB);
    EXPECT_EQ(scavenger_retained_goal(1000 * MiB, 4 * MiB, 2048 * MiB) % PAGE_SIZE, 0);
    EXPECT(scavenger_retained_goal(1000 * MiB, 4 * MiB, 2048 * MiB) < 3 * MiB);
    EXPECT_EQ(scavenger_retained_goal(100 * MiB, 200 * MiB, 0), UINT64_MAX);
    EXPECT_EQ(scavenger_retained_goal(100 * MiB, UINT64_MAX, 200 * MiB), UINT64_MAX);
    EXPECT_EQ(scavenger_retained_goal(100 * MiB, 200 * MiB, UINT64_MAX), UINT64_MAX);

    EXPECT_EQ(scavenger_need(120 * MiB, 110 * MiB, 0, 0), 10 * MiB);
    EXPECT_EQ(scavenger_need(110 * MiB + PAGE_SIZE, 110 * MiB, 0, 0), 0);
    EXPECT_EQ(scavenger_need(100 * MiB, UINT64_MAX, 0, 0), 0);
    EXPECT_EQ(scavenger_need(100 * MiB, 110 * MiB, 100 * MiB, 0), 0);
    /* 95% of 200 MiB is 190 MiB. */
    EXPECT_EQ(scavenger_need(0, UINT64_MAX, 195 * MiB, 200 * MiB), 5 * MiB);
    EXPECT_EQ(scavenger_need(0, UINT64_MAX, 190 * MiB, 200 * MiB), 0);
    EXPECT_EQ(scavenger_need(120 * MiB, 110 * MiB, 195 * MiB, 200 * MiB), 10 * MiB);
    EXPECT_EQ(scavenger_need(112 * MiB, 110 * MiB, 195 * MiB, 200 * MiB), 5 * MiB);
}

/* ---- The mechanism, background thread stopped ----------------------------- */

static span *alloc_pages(size_t n)
{
    span *s = heap_alloc_span(n, LARGE_NOSCAN);
    REQUIRE(s != NULL);
    return s;
}

static bool run_released(uintptr_t base, size_t n, bool want)
{
    for (size_t i = 0; i < n; i++) {
        lock_acquire(&heap.lock);
        bool r = page_alloc_is_scavenged(base + i * PG);
        lock_release(&heap.lock);
        if (r != want)
            return false;
    }
    return true;
}

static bool bytes_are(uintptr_t p, size_t n, unsigned char v)
{
    const unsigned char *b = (const unsigned char *)p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != v)
            return false;
    return true;
}

static void test_release_from_the_top(void)
{
    scavenge_release(SIZE_MAX); /* every free page released: a known start */
    span *a = alloc_pages(64), *s1 = alloc_pages(1), *b = alloc_pages(64), *s2 = alloc_pages(1);
    uintptr_t abase = a->start, bbase = b->start;
    REQUIRE(abase < bbase);
    memset((void *)abase, 0xaa, 64 * PG);
    memset((void *)bbase, 0xbb, 64 * PG);
    heap_free_span(a);
    heap_free_span(b);
    EXPECT(run_released(abase, 64, false) && run_released(bbase, 64, false));

    tc_stats st0, st1;
    tc_read_stats(&st0);
    EXPECT_EQ(st0.memory_total, st0.sys - st0.heap_released);
    EXPECT_EQ(scavenge_release(64 * PG), 64 * PG);
    tc_read_stats(&st1);
    EXPECT(run_released(bbase, 64, true));
    EXPECT(run_released(abase, 64, false));
    EXPECT(bytes_are(bbase, 64 * PG, 0));
    EXPECT(bytes_are(abase, 64 * PG, 0xaa));
    EXPECT_EQ(st1.released_total - st0.released_total, 64 * PG);
    EXPECT_EQ(st1.heap_released - st0.heap_released, 64 * PG);
    EXPECT_EQ(st0.memory_total - st1.memory_total, 64 * PG);
    EXPECT_EQ(heap_verify(NULL), 0);

    /* Allocation is first fit from the bottom: the backed run first (it
     * must be cleared), then the released one (already zero). */
    span *c = alloc_pages(64);
    EXPECT_EQ(c->start, abase);
    EXPECT_EQ(c->needzero, 1);
    span *d = alloc_pages(64);
    EXPECT_EQ(d->start, bbase);
    EXPECT_EQ(d->needzero, 0);
    EXPECT(bytes_are(bbase, 64 * PG, 0));
    tc_read_stats(&st1);
    EXPECT_EQ(st1.heap_released, st0.heap_released); /* taken again */
    heap_free_span(c);
    heap_free_span(d);
    heap_free_span(s1);
    heap_free_span(s2);
    /* Nothing to release twice. */
    scavenge_release(SIZE_MAX);
    EXPECT_EQ(scavenge_release(SIZE_MAX), 0);
    EXPECT_EQ(heap_verify(NULL), 0);
}

static _Atomic int stop_threads;
static _Atomic long bad_zero;

static void *alloc_free_thread(void *arg)
{
    uint64_t x = (uint64_t)(uintptr_t)arg * 0x9e3779b97f4a7c15ull + 1;
    if (tc_thread_attach() != 0) { /* the harness's counters are not for threads */
        atomic_fetch_add(&bad_zero, 1000);
        return NULL;
    }
    span *held[16] = {0};
    while (!atomic_load(&stop_threads)) {
        int i = (int)(rnd(&x) % 16);
        if (held[i] != NULL) {
            heap_free_span(held[i]);
            held[i] = NULL;
        } else {
            size_t n = 1 + (size_t)(rnd(&x) % 40);
            span *s = heap_alloc_span(n, LARGE_NOSCAN);
            if (s == NULL)
                continue;
            if (!s->needzero && !bytes_are(s->start, n * PG, 0))
                atomic_fetch_add(&bad_zero, 1);
            memset((void *)s->start, 0x77, n * PG);
            held[i] = s;
        }
    }
    for (int i = 0; i < 16; i++)
        if (held[i] != NULL)
            heap_free_span(held[i]);
    tc_thread_detach();
    return NULL;
}

static void test_release_while_allocating(void)
{
    pthread_t th[2];
    atomic_store(&stop_threads, 0);
    for (int i = 0; i < 2; i++)
        REQUIRE(pthread_create(&th[i], NULL, alloc_free_thread, (void *)(uintptr_t)(i + 1)) == 0);
    uint64_t t0 = now_ns();
    size_t released = 0;
    while (now_ns() - t0 < 300000000u)
        released += scavenge_release(1 * MiB);
    atomic_store(&stop_threads, 1);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    EXPECT(released > 0);
    EXPECT_EQ(atomic_load(&bad_zero), 0);
    EXPECT_EQ(heap_verify(NULL), 0);
    lock_acquire(&heap.lock);
    EXPECT_EQ(page_alloc_read_stats().busy_pages, 0);
    lock_release(&heap.lock);
}

static void test_sync_scavenging(void)
{
    scavenge_release(SIZE_MAX);
    /* 16 backed free runs of 1 MiB, none of them 2 MiB long. */
    span *runs[16], *seps[16];
    for (int i = 0; i < 16; i++) {
        runs[i] = alloc_pages(128);
        memset((void *)runs[i]->start, 1, 128 * PG);
        seps[i] = alloc_pages(1);
    }
    for (int i = 0; i < 16; i++)
        heap_free_span(runs[i]);
    uint64_t total0 = heap_memory_total(), sync0 = atomic_load(&heap_scav.sync_bytes);
    atomic_store(&heap_scav.limit, (int64_t)(total0 - 4 * MiB));
    /* 2 MiB of released pages: 6 MiB over, at least 4 MiB given back. */
    span *big1 = alloc_pages(256);
    EXPECT_EQ(atomic_load(&heap_scav.sync_bytes) - sync0, 4 * MiB);
    EXPECT_EQ(heap_memory_total(), total0 - 2 * MiB);
    span *big2 = alloc_pages(256);
    EXPECT_EQ(atomic_load(&heap_scav.sync_bytes) - sync0, 8 * MiB);
    EXPECT(heap_memory_total() <= total0 - 4 * MiB);
    /* The CPU limiter on: no synchronous scavenging. */
    atomic_store(&heap_scav.cpu_limited, 1);
    span *big3 = alloc_pages(256);
    EXPECT_EQ(atomic_load(&heap_scav.sync_bytes) - sync0, 8 * MiB);
    atomic_store(&heap_scav.cpu_limited, 0);
    atomic_store(&heap_scav.limit, 0);
    heap_free_span(big1);
    heap_free_span(big2);
    heap_free_span(big3);
    for (int i = 0; i < 16; i++)
        heap_free_span(seps[i]);
    EXPECT_EQ(heap_verify(NULL), 0);
}

/* ---- The background scavenger ---------------------------------------------- */

#define SPIKE_OBJ (256u << 10)
#define SPIKE_N 4096                 /* 1 GiB (256 MiB under ThreadSanitizer, 4x slower with every access shadowed) */
#define SPIKE_USED (TEST_TSAN ? SPIKE_N / 4 : SPIKE_N)
#define SPIKE_BYTES ((uint64_t)SPIKE_USED * SPIKE_OBJ)
#define LIVE_N 32768                 /* 16 MiB of 512-byte objects */
void *scavenger_test_spike[SPIKE_N]; /* globals (external: their stores stay) */
void *scavenger_test_live[LIVE_N];

static long minor_faults(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_minflt;
}

static int spike_child(int arg)
{
    (void)arg;
    uint64_t rss_pre = rss_bytes();
    if (tc_init(NULL) != 0)
        return 10;
    for (int i = 0; i < LIVE_N; i++) {
        void *p = tc_alloc_noscan(512);
        if (p == NULL)
            return 11;
        memset(p, 0x11, 512);
        scavenger_test_live[i] = p;
    }
    tc_collect();
    tc_collect();
    tc_stats st;
    tc_read_stats(&st);
    uint64_t rss0 = rss_bytes(), tot0 = st.memory_total;

    for (int i = 0; i < SPIKE_USED; i++) {
        void *p = tc_alloc_noscan(SPIKE_OBJ);
        if (p == NULL)
            return 12;
        memset(p, 0x22, SPIKE_OBJ);
        scavenger_test_spike[i] = p;
    }
    tc_read_stats(&st);
    uint64_t rss1 = rss_bytes(), tot1 = st.memory_total;
    memset(scavenger_test_spike, 0, sizeof scavenger_test_spike);
    tc_collect();
    tc_collect();
    scavenger_stats g = scavenger_read_stats();

    /* At the default share for half a second: it works, at about 1%. */
    uint64_t t0 = now_ns();
    struct timespec half = {0, 500000000};
    nanosleep(&half, NULL);
    scavenger_stats s1 = scavenger_read_stats();
    double share = (double)s1.work_ns / (double)(now_ns() - t0);
    /* Then faster, so the test does not wait 7 s for the rest. */
    atomic_store(&scavenger_cpu_percent, 25);
    uint64_t rss2 = 0, tot2 = 0;
    for (int k = 0; k < 300; k++) {
        struct timespec ts = {0, 50000000};
        nanosleep(&ts, NULL);
        tc_read_stats(&st);
        rss2 = rss_bytes();
        tot2 = st.memory_total;
        if (tot2 <= tot0 + 32 * MiB && (TEST_TSAN || rss2 <= rss0 + 32 * MiB))
            break;
    }
    double secs = (double)(now_ns() - t0) / 1e9;
    tc_read_stats(&st);
    fprintf(stderr,
            "  RSS %.0f MiB before, %.0f MiB with the spike, %.0f MiB after %.1f s (memory_total %.0f, %.0f, "
            "%.0f MiB); retained goal %.1f MiB; scavenger at %.2f%% of a CPU while at 1%%; %.0f MiB released\n",
            (double)rss0 / MiB, (double)rss1 / MiB, (double)rss2 / MiB, secs, (double)tot0 / MiB,
            (double)tot1 / MiB, (double)tot2 / MiB, (double)g.retained_goal / MiB, share * 100,
            (double)st.released_total / MiB);
    int rc = 0;
    if (tot1 < tot0 + SPIKE_BYTES * 7 / 8)
        rc = 1;
    else if (g.retained_goal == UINT64_MAX || g.retained_goal > 64 * MiB)
        rc = 2;
    else if (s1.bursts == 0 || share > 0.05)
        rc = 3;
    else if (tot2 > tot0 + 32 * MiB || st.released_total < SPIKE_BYTES * 7 / 8)
        rc = 4;
    /* RSS counts the sanitizers' memory too; AddressSanitizer's shadow of
     * the spike is never written (the heap is not poisoned), so only
     * ThreadSanitizer, which shadows every access, is left out. */
    else if (!TEST_TSAN && (rss1 < rss0 + SPIKE_BYTES * 7 / 8 || rss2 > rss0 + 32 * MiB))
        rc = 5;
    if (rc != 0) {
        tc_shutdown();
        return rc;
    }

    /* Regrowing takes the released pages again: no new arena, one fault
     * per page touched (each released page is a zero page from the
     * kernel), not more. */
    uint64_t heap_sys = st.heap_sys, released = st.heap_released;
    long f0 = minor_faults();
    for (int i = 0; i < SPIKE_USED / 4; i++) {
        void *p = tc_alloc_noscan(SPIKE_OBJ);
        if (p == NULL)
            return 12;
        memset(p, 0x33, SPIKE_OBJ);
        scavenger_test_spike[i] = p;
    }
    long faults = minor_faults() - f0;
    tc_read_stats(&st);
    long pages = (long)(SPIKE_USED / 4 * (SPIKE_OBJ / 4096));
    fprintf(stderr, "  regrowing %.0f MiB: %ld minor faults for %ld pages; heap_released %.0f -> %.0f MiB\n",
            (double)SPIKE_BYTES / 4 / MiB, faults, pages, (double)released / MiB, (double)st.heap_released / MiB);
    /* Backed pages go first (what the scavenger had left: tot2 - tot0),
     * then released ones. */
    uint64_t reuse = SPIKE_BYTES / 4 - (tot2 - tot0) - 4 * MiB;
    if (st.heap_sys != heap_sys || st.heap_released > released - reuse)
        rc = 6;
    else if (!TEST_ASAN && !TEST_TSAN && faults > pages + pages / 4)
        rc = 7;
    else if ((tc_collect(), heap_verify(NULL) != 0)) /* with the collector idle */
        rc = 8;
    tc_shutdown();
    /* Everything went back: RSS as before tc_init (a little slack for
     * libc's own growth). */
    uint64_t rss3 = rss_bytes();
    fprintf(stderr, "  RSS %.1f MiB before tc_init, %.1f MiB after tc_shutdown\n", (double)rss_pre / MiB,
            (double)rss3 / MiB);
    if (rc == 0 && !TEST_TSAN && rss3 > rss_pre + 8 * MiB)
        rc = 9;
    return rc;
}

static void test_spike_returns(void)
{
    child_result r;
    run_child(spike_child, 0, 180, &r);
    fputs(r.out, stderr);
    if (r.timed_out || !WIFEXITED(r.status) || WEXITSTATUS(r.status) != 0)
        T_FAIL("spike: status %d (1 no spike, 2 retained goal, 3 scavenger share, 4 memory_total did not "
               "fall, 5 RSS, 6 released pages not reused, 7 fault storm, 8 heap_verify, 9 RSS after "
               "shutdown, 1x allocation; timed out %d)",
               WIFEXITED(r.status) ? WEXITSTATUS(r.status) : -1, r.timed_out);
}

int main(void)
{
    RUN(test_goals);
    REQUIRE(tc_init(&(tc_options){.gc_percent = -1}) == 0);
    scavenger_stop(); /* the mechanism alone: nothing else releases */
    RUN(test_release_from_the_top);
    RUN(test_release_while_allocating);
    RUN(test_sync_scavenging);
    tc_shutdown();
    RUN(test_spike_returns);
    TEST_MAIN_END();
}
