/*
 * sys_test.c -- the OS layer (src/sys/sys_linux.c) and out-of-memory
 * handling through the public API.
 *
 * Properties checked:
 *  - sys_alloc memory is page-aligned, zero, writable and charged to the
 *    named statistic; sys_free uncharges it and unmaps it;
 *  - the Reserved -> Prepared -> Reserved -> None transitions (sys_reserve,
 *    sys_map, sys_unmap, sys_release): protection, zero contents, and that
 *    only mapped bytes are counted;
 *  - sys_unused makes touched memory read as zero (and non-resident) while
 *    it stays counted;
 *  - sys_fail_after(n, sticky): the nth mapping call fails (only that one,
 *    or every later one if sticky), a failing call changes nothing, calls
 *    that do not map are not counted, n = 0 disarms;
 *  - through the public API: with the OS refusing, tc_alloc of a size that
 *    needs new arenas returns NULL; when the OS recovers the same request
 *    succeeds and heap_verify() is clean; and the same for the failure of
 *    every single mapping call of a heap growth (each case in a forked
 *    child, so that a crash is reported instead of ending the test).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <tricolor.h>

#include "heap/heap_verify.h"
#include "heap/page_heap.h"
#include "sys/sys.h"
#include "test.h"

#define P ((size_t)SYS_PAGE_SIZE)

typedef struct counts {
    uint64_t k[MEMSTAT_COUNT];
} counts;

static counts snap(void)
{
    counts c;
    for (int i = 0; i < MEMSTAT_COUNT; i++)
        c.k[i] = memstat_get((memstat_kind)i);
    return c;
}

/* Whether the counters moved by exactly `delta` bytes for kind k and not
 * at all for the others. */
static bool moved_by(counts before, memstat_kind k, int64_t delta)
{
    counts now = snap();
    for (int i = 0; i < MEMSTAT_COUNT; i++) {
        int64_t d = (int64_t)(now.k[i] - before.k[i]);
        if (d != (i == (int)k ? delta : 0))
            return false;
    }
    return true;
}

/* Whether [p, p + n) is mapped at all (any protection): mincore fails
 * with ENOMEM on unmapped ranges. */
static bool is_mapped(const void *p, size_t n)
{
    unsigned char vec[64];
    if (n / P > sizeof vec)
        n = sizeof vec * P;
    errno = 0;
    return mincore((void *)p, n, vec) == 0;
}

/* Number of resident pages of [p, p + n). */
static size_t resident_pages(const void *p, size_t n)
{
    unsigned char vec[64];
    REQUIRE(n / P <= sizeof vec);
    REQUIRE(mincore((void *)p, n, vec) == 0);
    size_t r = 0;
    for (size_t i = 0; i < n / P; i++)
        r += vec[i] & 1;
    return r;
}

/* The protection of the mapping holding p, as in /proc/self/maps
 * ("rw-p", "---p"), or "" if none. */
static void prot_of(const void *p, char out[5])
{
    out[0] = '\0';
    FILE *f = fopen("/proc/self/maps", "r");
    if (f == NULL)
        return;
    char line[512];
    uintptr_t a = (uintptr_t)p;
    while (fgets(line, sizeof line, f)) {
        unsigned long long lo, hi;
        char perm[5];
        if (sscanf(line, "%llx-%llx %4s", &lo, &hi, perm) == 3 && a >= lo && a < hi) {
            memcpy(out, perm, 5);
            break;
        }
    }
    fclose(f);
}

static bool prot_is(const void *p, const char *want)
{
    char got[5];
    prot_of(p, got);
    if (strcmp(got, want) != 0) {
        fprintf(stderr, "    protection of %p is \"%s\", expected \"%s\"\n", p, got, want);
        return false;
    }
    return true;
}

/* Whether writing to p faults, tried in a child process (which restores
 * the default action so that AddressSanitizer's handler does not turn the
 * fault into a report and an exit status). */
static bool write_faults(void *p)
{
    fflush(NULL);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        signal(SIGSEGV, SIG_DFL); /* die quietly, also under ASan */
        signal(SIGBUS, SIG_DFL);
        *(volatile char *)p = 1;
        _exit(0);
    }
    int st;
    REQUIRE(waitpid(pid, &st, 0) == pid);
    return !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* ---- allocation ---------------------------------------------------------- */

static void alloc_zero_and_counted(void)
{
    for (int k = 0; k < MEMSTAT_COUNT; k++) {
        counts c0 = snap();
        size_t n = (size_t)(k + 1) * 3 * P;
        unsigned char *p = sys_alloc(n, (memstat_kind)k);
        REQUIRE(p != NULL);
        EXPECT(((uintptr_t)p & (P - 1)) == 0);
        EXPECT(moved_by(c0, (memstat_kind)k, (int64_t)n));
        EXPECT(all_zero(p, n));
        memset(p, 0x77, n);
        EXPECT(p[0] == 0x77 && p[n - 1] == 0x77);
        sys_free(p, n, (memstat_kind)k);
        EXPECT(moved_by(c0, (memstat_kind)k, 0));
        EXPECT(!is_mapped(p, n));
    }
    /* A large allocation is zero too, and costs nothing until touched. */
    counts c0 = snap();
    size_t big = (size_t)256 << 20;
    char *b = sys_alloc(big, MEMSTAT_OTHER);
    REQUIRE(b != NULL);
    EXPECT(moved_by(c0, MEMSTAT_OTHER, (int64_t)big));
    EXPECT_EQ(resident_pages(b + big / 2, 16 * P), 0);
    EXPECT(all_zero(b + big / 2, 16 * P));
    sys_free(b, big, MEMSTAT_OTHER);
    EXPECT(moved_by(c0, MEMSTAT_OTHER, 0));
}

/* ---- reserve / map / unmap / release --------------------------------------- */

static void address_space_states(void)
{
    counts c0 = snap();
    size_t n = 16 * P;
    char *r = sys_reserve(NULL, n);
    REQUIRE(r != NULL);
    EXPECT(((uintptr_t)r & (P - 1)) == 0);
    /* Reserved: ours, not counted, inaccessible. */
    EXPECT(moved_by(c0, MEMSTAT_GC, 0));
    EXPECT(is_mapped(r, n));
    EXPECT(prot_is(r, "---p"));
    EXPECT(write_faults(r + 5 * P));

    /* Prepared: read-write, zero, counted to the named statistic. */
    char *m = r + 4 * P;
    EXPECT_EQ(sys_map(m, 8 * P, MEMSTAT_GC), 0);
    EXPECT(moved_by(c0, MEMSTAT_GC, (int64_t)(8 * P)));
    EXPECT(prot_is(m, "rw-p"));
    EXPECT(prot_is(r, "---p"));          /* the rest stays reserved */
    EXPECT(prot_is(m + 8 * P, "---p"));
    EXPECT(all_zero(m, 8 * P));
    memset(m, 0x42, 8 * P);
    EXPECT(!write_faults(m + P));
    EXPECT(write_faults(r + 3 * P));

    /* Back to Reserved: uncounted, inaccessible, contents dropped. */
    sys_unmap(m, 8 * P, MEMSTAT_GC);
    EXPECT(moved_by(c0, MEMSTAT_GC, 0));
    EXPECT(prot_is(m, "---p"));
    EXPECT(write_faults(m + P));
    EXPECT(is_mapped(r, n));
    EXPECT_EQ(sys_map(m, 8 * P, MEMSTAT_HEAP), 0);
    EXPECT(moved_by(c0, MEMSTAT_HEAP, (int64_t)(8 * P)));
    EXPECT(all_zero(m, 8 * P));
    sys_unmap(m, 8 * P, MEMSTAT_HEAP);
    EXPECT(moved_by(c0, MEMSTAT_HEAP, 0));

    /* Released: not ours any more, and the same range can be had again
     * by asking for it as a hint (what arena growth relies on). */
    sys_release(r, n);
    EXPECT(!is_mapped(r, n));
    char *again = sys_reserve(r, n);
    REQUIRE(again != NULL);
    EXPECT(again == r);
    sys_release(again, n);

    /* sys_free takes any mapped state back to None, uncounting it. */
    char *x = sys_reserve(NULL, 4 * P);
    REQUIRE(x != NULL);
    EXPECT_EQ(sys_map(x, 4 * P, MEMSTAT_OTHER), 0);
    memset(x, 1, 4 * P);
    EXPECT(moved_by(c0, MEMSTAT_OTHER, (int64_t)(4 * P)));
    sys_free(x, 4 * P, MEMSTAT_OTHER);
    EXPECT(moved_by(c0, MEMSTAT_OTHER, 0));
    EXPECT(!is_mapped(x, 4 * P));

    /* A huge reservation costs nothing (PROT_NONE, MAP_NORESERVE). */
    size_t huge = (size_t)64 << 30;
    char *h = sys_reserve(NULL, huge);
    EXPECT(h != NULL);
    if (h != NULL) {
        EXPECT(moved_by(c0, MEMSTAT_OTHER, 0));
        sys_release(h, huge);
    }
}

/* ---- sys_unused ------------------------------------------------------------ */

static void unused_reads_zero(void)
{
    counts c0 = snap();
    size_t n = 8 * P;
    unsigned char *p = sys_alloc(n, MEMSTAT_HEAP);
    REQUIRE(p != NULL);
    memset(p, 0xee, n);
    EXPECT_EQ(resident_pages(p, n), 8);
    sys_unused(p + 2 * P, 4 * P);
    /* Still counted, no longer resident, zero when touched again. */
    EXPECT(moved_by(c0, MEMSTAT_HEAP, (int64_t)n));
    EXPECT_EQ(resident_pages(p, n), 4);
    EXPECT(all_zero(p + 2 * P, 4 * P));
    for (size_t i = 0; i < 2 * P; i++)
        if (p[i] != 0xee || p[6 * P + i] != 0xee) {
            T_FAIL("byte %zu outside the released range changed", i);
            break;
        }
    /* sys_used: usable again at once. */
    sys_used(p + 2 * P, 4 * P);
    memset(p + 2 * P, 0x11, 4 * P);
    EXPECT(p[2 * P] == 0x11 && p[6 * P - 1] == 0x11);
    EXPECT(moved_by(c0, MEMSTAT_HEAP, (int64_t)n));
    /* The whole range, on memory that came from reserve + map. */
    sys_unused(p, n);
    EXPECT(all_zero(p, n));
    sys_free(p, n, MEMSTAT_HEAP);
    EXPECT(moved_by(c0, MEMSTAT_HEAP, 0));

    char *r = sys_reserve(NULL, n);
    REQUIRE(r != NULL);
    REQUIRE(sys_map(r, n, MEMSTAT_GC) == 0);
    memset(r, 0x33, n);
    sys_unused(r, n);
    EXPECT(all_zero(r, n));
    EXPECT(moved_by(c0, MEMSTAT_GC, (int64_t)n));
    sys_unmap(r, n, MEMSTAT_GC);
    sys_release(r, n);
    EXPECT(moved_by(c0, MEMSTAT_GC, 0));
}

/* ---- fault injection ------------------------------------------------------- */

static void fail_after_non_sticky(void)
{
    counts c0 = snap();
    char *r = sys_reserve(NULL, 4 * P);
    REQUIRE(r != NULL);

    /* The 3rd mapping call fails, and only it. */
    sys_fail_after(3, 0);
    void *a = sys_alloc(P, MEMSTAT_OTHER);         /* 1 */
    void *b = sys_reserve(NULL, P);                /* 2 */
    int m3 = sys_map(r, P, MEMSTAT_GC);            /* 3: fails */
    EXPECT(a != NULL);
    EXPECT(b != NULL);
    EXPECT_EQ(m3, -1);
    /* The failed call changed nothing: uncounted and still reserved. */
    EXPECT(moved_by(c0, MEMSTAT_OTHER, (int64_t)P));
    EXPECT(prot_is(r, "---p"));
    int m4 = sys_map(r, P, MEMSTAT_GC);            /* 4: works */
    EXPECT_EQ(m4, 0);
    void *c = sys_alloc(P, MEMSTAT_OTHER);         /* 5 */
    EXPECT(c != NULL);

    /* Each kind of mapping call can be the one that fails. */
    counts c1 = snap();
    sys_fail_after(1, 0);
    EXPECT(sys_alloc(P, MEMSTAT_HEAP) == NULL);
    EXPECT(moved_by(c1, MEMSTAT_HEAP, 0));
    sys_fail_after(1, 0);
    EXPECT(sys_reserve(NULL, P) == NULL);
    sys_fail_after(1, 0);
    EXPECT_EQ(sys_map(r + P, P, MEMSTAT_HEAP), -1);
    EXPECT(moved_by(c1, MEMSTAT_HEAP, 0));
    EXPECT(prot_is(r + P, "---p"));
    EXPECT_EQ(sys_map(r + P, P, MEMSTAT_HEAP), 0);

    /* Calls that do not map are not counted. */
    sys_fail_after(2, 0);
    void *d = sys_alloc(P, MEMSTAT_OTHER);         /* 1 */
    sys_unused(r, P);
    sys_used(r, P);
    sys_unmap(r + P, P, MEMSTAT_HEAP);
    sys_free(d, P, MEMSTAT_OTHER);
    sys_release(b, P);
    EXPECT(d != NULL);
    EXPECT(sys_alloc(P, MEMSTAT_OTHER) == NULL);   /* 2: fails */
    void *e = sys_alloc(P, MEMSTAT_OTHER);         /* disarmed */
    EXPECT(e != NULL);

    /* n = 0 disarms a pending failure. */
    sys_fail_after(1, 0);
    sys_fail_after(0, 0);
    void *f = sys_alloc(P, MEMSTAT_OTHER);
    EXPECT(f != NULL);

    sys_free(a, P, MEMSTAT_OTHER);
    sys_free(c, P, MEMSTAT_OTHER);
    sys_free(e, P, MEMSTAT_OTHER);
    sys_free(f, P, MEMSTAT_OTHER);
    sys_unmap(r, P, MEMSTAT_GC);
    sys_release(r, 4 * P);
    EXPECT(moved_by(c0, MEMSTAT_OTHER, 0));
    counts now = snap();
    for (int k = 0; k < MEMSTAT_COUNT; k++)
        EXPECT_EQ(now.k[k], c0.k[k]);
}

static void fail_after_sticky(void)
{
    counts c0 = snap();
    char *r = sys_reserve(NULL, 2 * P);
    REQUIRE(r != NULL);
    sys_fail_after(2, 1);
    void *a = sys_alloc(P, MEMSTAT_OTHER);         /* 1: works */
    EXPECT(a != NULL);
    for (int i = 0; i < 5; i++) {                  /* 2 and every later one fail */
        EXPECT(sys_alloc(P, MEMSTAT_OTHER) == NULL);
        EXPECT(sys_reserve(NULL, P) == NULL);
        EXPECT_EQ(sys_map(r, P, MEMSTAT_GC), -1);
    }
    EXPECT(moved_by(c0, MEMSTAT_OTHER, (int64_t)P));
    EXPECT(prot_is(r, "---p"));
    sys_fail_after(0, 0);
    void *b = sys_alloc(P, MEMSTAT_OTHER);
    EXPECT(b != NULL);
    EXPECT_EQ(sys_map(r, P, MEMSTAT_GC), 0);

    /* Sticky from the very next call. */
    sys_fail_after(1, 1);
    EXPECT(sys_alloc(P, MEMSTAT_OTHER) == NULL);
    EXPECT(sys_alloc(P, MEMSTAT_OTHER) == NULL);
    sys_fail_after(0, 0);
    void *c = sys_alloc(P, MEMSTAT_OTHER);
    EXPECT(c != NULL);

    sys_free(a, P, MEMSTAT_OTHER);
    sys_free(b, P, MEMSTAT_OTHER);
    sys_free(c, P, MEMSTAT_OTHER);
    sys_unmap(r, P, MEMSTAT_GC);
    sys_release(r, 2 * P);
    counts now = snap();
    for (int k = 0; k < MEMSTAT_COUNT; k++)
        EXPECT_EQ(now.k[k], c0.k[k]);
}

/* ---- out of memory through the public API ---------------------------------- */

#define BIG ((size_t)200 << 20) /* needs new arenas on a fresh heap */

static void oom_through_api(void)
{
    counts c0 = snap();
    REQUIRE(tc_init(NULL) == 0);
    sys_fail_after(1, 1);
    void *p = tc_alloc(BIG);
    void *small = tc_alloc(100);   /* a fresh heap has no span for it either */
    sys_fail_after(0, 0);
    EXPECT(p == NULL);
    EXPECT(small == NULL);
    p = tc_alloc(BIG);
    EXPECT(p != NULL);
    if (p != NULL) {
        EXPECT(tc_size(p) >= BIG);
        EXPECT(tc_base((char *)p + BIG - 1) == p);
        ((char *)p)[BIG - 1] = 1;
    }
    small = tc_alloc(100);
    EXPECT(small != NULL);
    EXPECT_EQ(heap_verify(NULL), 0);
    tc_shutdown();
    /* Shutdown gives everything back. */
    counts now = snap();
    for (int k = 0; k < MEMSTAT_COUNT; k++)
        EXPECT_EQ(now.k[k], c0.k[k]);
}

/* In a child: a fresh heap, the nth mapping call from now failing (and
 * every later one if sticky) during a tc_alloc(BIG) that must grow the
 * heap; then, with the OS recovered, the heap must be consistent both
 * before and after the same request succeeds.  Exit status: 0 ok, 2 the
 * retry failed, 3 heap_verify found errors right after the failure, 4 it
 * found errors after the retry, 5 memory left after tc_shutdown, 6 heap
 * arenas are mapped that the page allocator was never given. */
static int oom_child(long n, int sticky)
{
    if (tc_init(NULL) != 0)
        return 1;
    sys_fail_after(n, sticky);
    void *p = tc_alloc(BIG);
    sys_fail_after(0, 0);
    (void)p;
    /* Every byte of mapped arena is a page of the page allocator. */
    if (heap_page_stats().total_pages * PAGE_SIZE != memstat_get(MEMSTAT_HEAP))
        return 6;
    if (heap_verify(NULL) != 0)
        return 3;
    void *q = tc_alloc(BIG);
    if (q == NULL)
        return 2;
    if (heap_verify(NULL) != 0)
        return 4;
    tc_shutdown();
    for (int k = 0; k < MEMSTAT_COUNT; k++)
        if (memstat_get((memstat_kind)k) != 0)
            return 5;
    return 0;
}

static void oom_every_mapping_call(void)
{
    static const char *const why[] = {
        [1] = "tc_init failed",
        [2] = "the retry after the OS recovered returned NULL",
        [3] = "heap_verify reported errors right after the failed allocation",
        [4] = "heap_verify reported errors after the successful retry",
        [5] = "memory was still counted after tc_shutdown",
        [6] = "arenas are mapped (MEMSTAT_HEAP) that the page allocator does not have",
    };
    /* A first growth of a fresh heap makes about a dozen mapping calls
     * (reservation, mapping, arena metadata, summary pages, span records
     * and bitmaps); 24 covers them all with room to spare. */
    for (int sticky = 0; sticky <= 1; sticky++) {
        for (long n = 1; n <= 24; n++) {
            fflush(NULL);
            pid_t pid = fork();
            REQUIRE(pid >= 0);
            if (pid == 0) {
                signal(SIGSEGV, SIG_DFL); /* a crash is reported as such */
                _exit(oom_child(n, sticky));
            }
            int st;
            REQUIRE(waitpid(pid, &st, 0) == pid);
            test_checks++;
            if (WIFSIGNALED(st))
                T_FAIL("mapping call %ld failing (%s): child killed by signal %d", n,
                       sticky ? "sticky" : "once", WTERMSIG(st));
            else if (WEXITSTATUS(st) != 0)
                T_FAIL("mapping call %ld failing (%s): %s (status %d)", n, sticky ? "sticky" : "once",
                       WEXITSTATUS(st) < 7 && why[WEXITSTATUS(st)] ? why[WEXITSTATUS(st)] : "crash",
                       WEXITSTATUS(st));
        }
    }
}

int main(void)
{
    /* The raw OS layer first, while nothing else holds memory. */
    for (int k = 0; k < MEMSTAT_COUNT; k++)
        REQUIRE(memstat_get((memstat_kind)k) == 0);
    RUN(alloc_zero_and_counted);
    RUN(address_space_states);
    RUN(unused_reads_zero);
    RUN(fail_after_non_sticky);
    RUN(fail_after_sticky);
    RUN(oom_through_api);
    RUN(oom_every_mapping_call);
    TEST_MAIN_END();
}
