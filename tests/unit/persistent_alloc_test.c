/*
 * persistent_alloc_test.c -- never-freed metadata memory
 * (src/offheap/persistent_alloc.c).
 *
 * Properties checked (no tc heap is initialised in this program, so the
 * memory statistics start at zero and only this allocator moves them):
 *  - results are aligned as asked (1..PERSISTENT_MAX_ALIGN), zero, writable
 *    and do not overlap; successive small requests are bump-allocated;
 *  - requests of PERSISTENT_DIRECT_SIZE or more get a mapping of their own
 *    and do not disturb the current chunk;
 *  - accounting: a chunk is charged to MEMSTAT_OTHER and each allocation
 *    moves exactly its size to the requested statistic (memstat deltas);
 *  - persistent_free_all returns every mapping and undoes every move, and
 *    the allocator works again afterwards;
 *  - a request no mapping can hold fails.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "offheap/persistent_alloc.h"
#include "sys/sys.h"
#include "test.h"

typedef struct counts {
    int64_t k[MEMSTAT_COUNT];
} counts;

static counts snap(void)
{
    counts c;
    for (int i = 0; i < MEMSTAT_COUNT; i++)
        c.k[i] = (int64_t)memstat_get((memstat_kind)i);
    return c;
}

static int64_t delta(counts before, memstat_kind k)
{
    return (int64_t)memstat_get(k) - before.k[k];
}

static bool is_mapped(const void *p)
{
    unsigned char v;
    return mincore((void *)((uintptr_t)p & ~(uintptr_t)(SYS_PAGE_SIZE - 1)), SYS_PAGE_SIZE, &v) == 0;
}

static bool total_is_zero(void)
{
    for (int k = 0; k < MEMSTAT_COUNT; k++)
        if (memstat_get((memstat_kind)k) != 0)
            return false;
    return true;
}

static void alignment_and_zeroing(void)
{
    enum { N = 400 };
    static struct piece { unsigned char *p; size_t n; } got[N];
    size_t k = 0;
    /* Odd sizes between requests of every alignment, so that the bump
     * pointer is misaligned before each aligned request. */
    for (size_t round = 0; round < N / 8; round++) {
        for (size_t align = 1; align <= PERSISTENT_MAX_ALIGN; align *= 2) {
            size_t n = 1 + (round * 37 + align * 13) % 300;
            unsigned char *p = persistent_alloc(n, align, MEMSTAT_OTHER);
            REQUIRE(p != NULL);
            EXPECT_EQ((uintptr_t)p % align, 0);
            EXPECT(all_zero(p, n));
            memset(p, 0xc5, n);
            if (k < N)
                got[k++] = (struct piece){p, n};
        }
    }
    /* No two results overlap. */
    for (size_t i = 0; i < k; i++)
        for (size_t j = i + 1; j < k; j++)
            if (!(got[i].p + got[i].n <= got[j].p || got[j].p + got[j].n <= got[i].p)) {
                T_FAIL("results %zu and %zu overlap", i, j);
                i = k;
                break;
            }
    /* Size 0 is a valid request for a distinct, aligned byte. */
    unsigned char *z1 = persistent_alloc(0, 8, MEMSTAT_OTHER);
    unsigned char *z2 = persistent_alloc(0, 8, MEMSTAT_OTHER);
    EXPECT(z1 != NULL && z2 != NULL && z1 != z2);
    EXPECT_EQ((uintptr_t)z1 % 8, 0);
}

static void bump_within_a_chunk(void)
{
    /* Start a fresh chunk so that the next requests fit in it. */
    persistent_free_all();
    REQUIRE(total_is_zero());
    char *a = persistent_alloc(24, 8, MEMSTAT_OTHER);
    char *b = persistent_alloc(8, 8, MEMSTAT_OTHER);
    char *c = persistent_alloc(1, 1, MEMSTAT_OTHER);
    char *d = persistent_alloc(1, 64, MEMSTAT_OTHER);
    REQUIRE(a && b && c && d);
    EXPECT_EQ(b - a, 24);
    EXPECT_EQ(c - b, 8);
    EXPECT(d > c && d - c <= 64);
    EXPECT_EQ((uintptr_t)d % 64, 0);
    /* One chunk is mapped, charged to "other". */
    EXPECT_EQ(memstat_get(MEMSTAT_OTHER), PERSISTENT_CHUNK_SIZE);
    /* Requests just under the direct threshold are served from the chunk,
     * one after the other, while they fit (the chunk holds its 64-byte
     * header, the 128 bytes above, and four of them); the fifth starts a
     * new chunk. */
    counts c0 = snap();
    size_t n = PERSISTENT_DIRECT_SIZE - 64;
    char *prev = d + 64;
    for (int i = 0; i < 4; i++) {
        char *e = persistent_alloc(n, 64, MEMSTAT_OTHER);
        REQUIRE(e != NULL);
        EXPECT_EQ(e - prev, i == 0 ? 0 : (ptrdiff_t)n);
        prev = e;
    }
    EXPECT_EQ(delta(c0, MEMSTAT_OTHER), 0);
    char *h = persistent_alloc(n, 64, MEMSTAT_OTHER);
    REQUIRE(h != NULL);
    EXPECT(h < a || h >= a + PERSISTENT_CHUNK_SIZE);
    EXPECT_EQ(delta(c0, MEMSTAT_OTHER), PERSISTENT_CHUNK_SIZE);
    EXPECT(all_zero(h, n));
}

static void direct_requests(void)
{
    persistent_free_all();
    REQUIRE(total_is_zero());
    char *a = persistent_alloc(16, 8, MEMSTAT_GC);
    REQUIRE(a != NULL);
    counts c0 = snap();
    /* At the threshold: a mapping of its own, rounded to whole pages with
     * its header; the bytes past the header move to the requested stat,
     * the header stays "other". */
    size_t n = PERSISTENT_DIRECT_SIZE;
    char *d = persistent_alloc(n, 64, MEMSTAT_GC);
    REQUIRE(d != NULL);
    EXPECT_EQ((uintptr_t)d % 64, 0);
    EXPECT(all_zero(d, n));
    memset(d, 0xab, n);
    size_t mapped = (n + 64 + SYS_PAGE_SIZE - 1) / SYS_PAGE_SIZE * SYS_PAGE_SIZE;
    EXPECT_EQ(delta(c0, MEMSTAT_OTHER), 64);
    EXPECT_EQ(delta(c0, MEMSTAT_GC), mapped - 64);
    EXPECT_EQ(delta(c0, MEMSTAT_HEAP), 0);
    /* The chunk is undisturbed: the next small request follows a. */
    char *b = persistent_alloc(16, 8, MEMSTAT_GC);
    EXPECT_EQ(b - a, 16);
    EXPECT(d + n <= a || d >= a + PERSISTENT_CHUNK_SIZE);

    /* Several megabytes at once: zero and usable to the end. */
    counts c1 = snap();
    size_t m = (size_t)3 << 20;
    char *e = persistent_alloc(m, 8, MEMSTAT_HEAP);
    REQUIRE(e != NULL);
    EXPECT(all_zero(e + m - 4096, 4096));
    e[0] = e[m - 1] = 1;
    EXPECT_EQ(delta(c1, MEMSTAT_HEAP), m + SYS_PAGE_SIZE - 64);
    EXPECT_EQ(delta(c1, MEMSTAT_OTHER), 64);

    /* Just under the threshold: from a chunk (here a new one, as the
     * current one has less room left). */
    counts c2 = snap();
    char *f = persistent_alloc(PERSISTENT_DIRECT_SIZE - 8, 8, MEMSTAT_GC);
    REQUIRE(f != NULL);
    EXPECT_EQ(delta(c2, MEMSTAT_GC), PERSISTENT_DIRECT_SIZE - 8);
    int64_t other = delta(c2, MEMSTAT_OTHER);
    /* Either it fitted (other -= n) or a chunk came (other += chunk - n). */
    EXPECT(other == -(int64_t)(PERSISTENT_DIRECT_SIZE - 8) ||
           other == (int64_t)(PERSISTENT_CHUNK_SIZE - (PERSISTENT_DIRECT_SIZE - 8)));
}

static void accounting_moves(void)
{
    persistent_free_all();
    REQUIRE(total_is_zero());
    /* The first request maps a chunk: "other" gets the chunk less what
     * moved to the requested stat. */
    counts c0 = snap();
    void *p = persistent_alloc(1000, 8, MEMSTAT_GC);
    REQUIRE(p != NULL);
    EXPECT_EQ(delta(c0, MEMSTAT_GC), 1000);
    EXPECT_EQ(delta(c0, MEMSTAT_OTHER), PERSISTENT_CHUNK_SIZE - 1000);
    EXPECT_EQ(delta(c0, MEMSTAT_HEAP), 0);
    /* Requests that fit move exactly their size; alignment padding stays
     * "other". */
    for (int k = 0; k < MEMSTAT_COUNT; k++) {
        counts c = snap();
        void *q = persistent_alloc(333, 32, (memstat_kind)k);
        REQUIRE(q != NULL);
        for (int j = 0; j < MEMSTAT_COUNT; j++) {
            int64_t want = 0;
            if (k != MEMSTAT_OTHER)
                want = j == k ? 333 : j == MEMSTAT_OTHER ? -333 : 0;
            EXPECT_EQ(delta(c, (memstat_kind)j), want);
        }
    }
    /* The total is always whole chunks (plus direct mappings). */
    uint64_t total = 0;
    for (int k = 0; k < MEMSTAT_COUNT; k++)
        total += memstat_get((memstat_kind)k);
    EXPECT_EQ(total, PERSISTENT_CHUNK_SIZE);
}

static void free_all_returns_everything(void)
{
    persistent_free_all();
    REQUIRE(total_is_zero());
    char *small[50];
    for (int i = 0; i < 50; i++) {
        small[i] = persistent_alloc(4000 + (size_t)i * 100, 16, (memstat_kind)(i % MEMSTAT_COUNT));
        REQUIRE(small[i] != NULL);
        small[i][0] = 1;
    }
    char *direct = persistent_alloc((size_t)1 << 20, 64, MEMSTAT_GC);
    REQUIRE(direct != NULL);
    direct[0] = 1;
    EXPECT(!total_is_zero());
    persistent_free_all();
    EXPECT(total_is_zero());
    for (int k = 0; k < MEMSTAT_COUNT; k++)
        EXPECT_EQ(memstat_get((memstat_kind)k), 0);
    /* The mappings are gone. */
    EXPECT(!is_mapped(direct));
    EXPECT(!is_mapped(small[0]));
    EXPECT(!is_mapped(small[49]));
    /* A second free_all has nothing to do. */
    persistent_free_all();
    EXPECT(total_is_zero());
    /* And the allocator starts over. */
    char *again = persistent_alloc(64, 64, MEMSTAT_GC);
    REQUIRE(again != NULL);
    EXPECT(all_zero(again, 64));
    EXPECT_EQ(memstat_get(MEMSTAT_GC), 64);
    persistent_free_all();
    EXPECT(total_is_zero());
}

/* The OS refusing memory: NULL, nothing charged, nothing left behind. */
static void os_refusal(void)
{
    persistent_free_all();
    sys_fail_after(1, 0);
    EXPECT(persistent_alloc(100, 8, MEMSTAT_GC) == NULL);
    EXPECT(total_is_zero());
    sys_fail_after(1, 0);
    EXPECT(persistent_alloc((size_t)1 << 20, 8, MEMSTAT_GC) == NULL);
    EXPECT(total_is_zero());
    void *p = persistent_alloc(100, 8, MEMSTAT_GC);
    EXPECT(p != NULL);
    EXPECT_EQ(memstat_get(MEMSTAT_GC), 100);
    persistent_free_all();
    EXPECT(total_is_zero());
}

/* A request larger than any mapping can be must fail, not return a block
 * smaller than asked.  (sizeof(header) + size must not wrap around.) */
static void impossible_request(void)
{
    persistent_free_all();
    size_t sizes[] = {SIZE_MAX, SIZE_MAX - 10, SIZE_MAX - 63, SIZE_MAX - 4095, (size_t)1 << 62};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        void *p = persistent_alloc(sizes[i], 8, MEMSTAT_OTHER);
        if (p != NULL)
            T_FAIL("persistent_alloc(SIZE_MAX - %zu) returned %p (a %llu-byte mapping)",
                   SIZE_MAX - sizes[i], p, (unsigned long long)memstat_get(MEMSTAT_OTHER));
        test_checks++;
        persistent_free_all();
    }
    EXPECT(total_is_zero());
}

int main(void)
{
    REQUIRE(total_is_zero());
    RUN(alignment_and_zeroing);
    RUN(bump_within_a_chunk);
    RUN(direct_requests);
    RUN(accounting_moves);
    RUN(free_all_returns_everything);
    RUN(os_refusal);
    RUN(impossible_request);
    persistent_free_all();
    EXPECT(total_is_zero());
    TEST_MAIN_END();
}
