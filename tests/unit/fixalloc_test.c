/*
 * fixalloc_test.c -- fixed-size off-heap records (src/offheap/fixalloc.c)
 * and blockalloc, the power-of-two buckets over them.
 *
 * Properties checked (no tc heap is initialised; persistent memory is
 * returned with persistent_free_all at the end):
 *  - records are rounded to a multiple of 8 bytes, 8-aligned, fresh ones
 *    zero and disjoint;
 *  - freed records are reused last-in first-out;
 *  - zero = true clears a reused record; zero = false keeps its fields,
 *    except the first word (the free-list link), which reads as zero;
 *  - the first-use hook runs exactly once per fresh record, with its
 *    argument, and never for a reused one;
 *  - inuse counts records handed out and not freed;
 *  - memory comes from persistent chunks charged to the fixalloc's stat;
 *  - blockalloc: every size 1..BLOCKALLOC_MAX gets a zeroed block of its
 *    power-of-two bucket (at least 8 bytes), reused LIFO within a bucket
 *    and zeroed again, never across buckets;
 *  - out of memory: NULL, and the allocator works afterwards.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "offheap/fixalloc.h"
#include "offheap/persistent_alloc.h"
#include "sys/sys.h"
#include "test.h"

typedef struct rec {
    uint64_t link;      /* the free-list link while free */
    uint64_t gen;       /* e.g. a span's sweepgen: kept when zero = false */
    char name[16];
    uint64_t tail;
} rec;

static struct {
    int calls;
    void *arg;
    void *last;
    bool fresh_zero;
    size_t check_size; /* bytes the hook checks for zero */
    void *seen[4096];
} hook_log;

static void hook(void *arg, void *r)
{
    if (hook_log.calls < 4096)
        hook_log.seen[hook_log.calls] = r;
    hook_log.calls++;
    hook_log.arg = arg;
    hook_log.last = r;
    /* A fresh record is zero when the hook sees it. */
    const unsigned char *c = r;
    for (size_t i = 0; i < hook_log.check_size; i++)
        if (c[i] != 0)
            hook_log.fresh_zero = false;
}

static void lifo_reuse_and_hook(void)
{
    fixalloc f;
    int cookie;
    memset(&hook_log, 0, sizeof hook_log);
    hook_log.fresh_zero = true;
    hook_log.check_size = sizeof(rec);
    fixalloc_init(&f, sizeof(rec), false, MEMSTAT_OTHER, hook, &cookie);
    EXPECT_EQ(f.size, sizeof(rec));
    EXPECT_EQ(f.inuse, 0);

    rec *a = fixalloc_alloc(&f), *b = fixalloc_alloc(&f), *c = fixalloc_alloc(&f);
    REQUIRE(a && b && c);
    EXPECT_EQ(hook_log.calls, 3);
    EXPECT(hook_log.arg == &cookie);
    EXPECT(hook_log.seen[0] == a && hook_log.seen[1] == b && hook_log.seen[2] == c);
    EXPECT(hook_log.fresh_zero);
    EXPECT_EQ(f.inuse, 3);
    EXPECT(a != b && b != c && a != c);
    EXPECT(all_zero(a, sizeof *a) && all_zero(b, sizeof *b) && all_zero(c, sizeof *c));

    /* LIFO: the last freed comes back first; no hook call on reuse. */
    fixalloc_free(&f, b);
    EXPECT_EQ(f.inuse, 2);
    rec *b2 = fixalloc_alloc(&f);
    EXPECT(b2 == b);
    EXPECT_EQ(hook_log.calls, 3);
    EXPECT_EQ(f.inuse, 3);
    fixalloc_free(&f, a);
    fixalloc_free(&f, c);
    fixalloc_free(&f, b);
    EXPECT_EQ(f.inuse, 0);
    rec *r1 = fixalloc_alloc(&f), *r2 = fixalloc_alloc(&f), *r3 = fixalloc_alloc(&f);
    EXPECT(r1 == b && r2 == c && r3 == a);
    EXPECT_EQ(hook_log.calls, 3);
    /* The free list is empty again: the next one is fresh. */
    rec *d = fixalloc_alloc(&f);
    REQUIRE(d != NULL);
    EXPECT(d != a && d != b && d != c);
    EXPECT_EQ(hook_log.calls, 4);
    EXPECT(hook_log.last == d);
    EXPECT_EQ(f.inuse, 4);
    fixalloc_free(&f, a);
    fixalloc_free(&f, b);
    fixalloc_free(&f, c);
    fixalloc_free(&f, d);
    EXPECT_EQ(f.inuse, 0);
}

static void zero_flag(void)
{
    /* zero = false: fields survive free + alloc, the link word reads 0. */
    fixalloc keep;
    fixalloc_init(&keep, sizeof(rec), false, MEMSTAT_OTHER, NULL, NULL);
    rec *r = fixalloc_alloc(&keep);
    rec *other = fixalloc_alloc(&keep);
    REQUIRE(r && other);
    r->link = 0x1111;
    r->gen = 42;
    strcpy(r->name, "kept");
    r->tail = 0xfeedface;
    fixalloc_free(&keep, other);   /* r's link will point at other */
    fixalloc_free(&keep, r);
    rec *again = fixalloc_alloc(&keep);
    EXPECT(again == r);
    EXPECT_EQ(again->link, 0);
    EXPECT_EQ(again->gen, 42);
    EXPECT(strcmp(again->name, "kept") == 0);
    EXPECT_EQ(again->tail, 0xfeedface);
    rec *o2 = fixalloc_alloc(&keep);
    EXPECT(o2 == other);
    fixalloc_free(&keep, again);
    fixalloc_free(&keep, o2);

    /* zero = true: a reused record is all zero. */
    fixalloc clear;
    fixalloc_init(&clear, sizeof(rec), true, MEMSTAT_OTHER, NULL, NULL);
    rec *z = fixalloc_alloc(&clear);
    REQUIRE(z != NULL);
    memset(z, 0xff, sizeof *z);
    fixalloc_free(&clear, z);
    rec *z2 = fixalloc_alloc(&clear);
    EXPECT(z2 == z);
    EXPECT(all_zero(z2, sizeof *z2));
    fixalloc_free(&clear, z2);
}

/* Many records: size rounding, alignment, disjointness, chunk accounting,
 * one hook call per fresh record. */
static void many_records(void)
{
    static const size_t sizes[] = {8, 12, 24, 40, 100, 1000, 5000, FIXALLOC_CHUNK_SIZE};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        size_t want = (sizes[si] + 7) & ~(size_t)7;
        fixalloc f;
        memset(&hook_log, 0, sizeof hook_log);
        uint64_t gc0 = memstat_get(MEMSTAT_GC);
        fixalloc_init(&f, sizes[si], false, MEMSTAT_GC, hook, NULL);
        EXPECT_EQ(f.size, want);
        size_t per_chunk = FIXALLOC_CHUNK_SIZE / want;
        size_t n = 2 * per_chunk + 3; /* three chunks */
        if (n > 4000)
            n = 4000;
        static unsigned char *p[4000];
        for (size_t i = 0; i < n; i++) {
            p[i] = fixalloc_alloc(&f);
            REQUIRE(p[i] != NULL);
            EXPECT_EQ((uintptr_t)p[i] % 8, 0);
            memset(p[i], (int)(i & 0xff) | 1, want); /* the whole record is ours */
        }
        EXPECT_EQ(f.inuse, n);
        EXPECT_EQ(hook_log.calls, (int)n);
        size_t chunks = (n + per_chunk - 1) / per_chunk;
        EXPECT_EQ(memstat_get(MEMSTAT_GC) - gc0, chunks * per_chunk * want);
        /* Disjoint: every record still holds its own fill byte. */
        size_t bad = 0;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < want; j++)
                bad += p[i][j] != (unsigned char)((int)(i & 0xff) | 1);
        EXPECT_EQ(bad, 0);
        /* Free all, then allocate them all back: all reused, in reverse
         * order of freeing, no hook call, no new chunk. */
        for (size_t i = 0; i < n; i++)
            fixalloc_free(&f, p[i]);
        EXPECT_EQ(f.inuse, 0);
        uint64_t gc1 = memstat_get(MEMSTAT_GC);
        for (size_t i = n; i-- > 0;) {
            unsigned char *q = fixalloc_alloc(&f);
            if (q != p[i]) {
                T_FAIL("size %zu: reuse %zu is not LIFO", want, i);
                break;
            }
        }
        EXPECT_EQ(hook_log.calls, (int)n);
        EXPECT_EQ(memstat_get(MEMSTAT_GC), gc1);
        EXPECT_EQ(f.inuse, n);
    }
}

static void blockalloc_sizes(void)
{
    blockalloc_init();
    /* Every size gets a zeroed block of its bucket, which it may fill. */
    static void *blk[BLOCKALLOC_MAX + 1];
    for (size_t n = 1; n <= BLOCKALLOC_MAX; n++) {
        size_t bucket = 8;
        while (bucket < n)
            bucket *= 2;
        unsigned char *p = blockalloc_alloc(n);
        REQUIRE(p != NULL);
        EXPECT_EQ((uintptr_t)p % 8, 0);
        if (!all_zero(p, bucket))
            T_FAIL("block of size %zu is not zero", n);
        memset(p, 0x9c, bucket);
        blk[n] = p;
    }
    /* Sizes in one bucket share records LIFO; reuse is zeroed. */
    for (size_t n = BLOCKALLOC_MAX; n >= 1; n--)
        blockalloc_free(blk[n], n);
    for (size_t n = 1; n <= BLOCKALLOC_MAX; n++) {
        size_t bucket = 8;
        while (bucket < n)
            bucket *= 2;
        unsigned char *p = blockalloc_alloc(n);
        REQUIRE(p != NULL);
        /* Freed in decreasing size, so within a bucket the smallest size
         * was freed last and is reused first. */
        if (p != blk[n])
            T_FAIL("size %zu: got %p, expected the block freed for it (%p)", n, (void *)p, blk[n]);
        if (!all_zero(p, bucket))
            T_FAIL("reused block of size %zu is not zero", n);
        test_checks += 2;
    }
    /* No reuse across buckets. */
    for (size_t n = 1; n <= BLOCKALLOC_MAX; n++)
        blockalloc_free(blk[n], n);
    void *small = blockalloc_alloc(8);
    void *large = blockalloc_alloc(16);
    EXPECT(small == blk[8]);   /* the last freed of the 8-byte bucket */
    EXPECT(large == blk[16]);  /* and of the 16-byte one */
    /* The exact bucket bounds: 8, 9, 2048. */
    void *b8 = blockalloc_alloc(8), *b9 = blockalloc_alloc(9), *b2k = blockalloc_alloc(BLOCKALLOC_MAX);
    EXPECT(b8 && b9 && b2k);
    EXPECT(all_zero(b2k, BLOCKALLOC_MAX));
}

static void out_of_memory(void)
{
    /* With all persistent memory returned (the records of the earlier
     * tests are not used again), the first record needs a new chunk. */
    persistent_free_all();
    fixalloc f;
    fixalloc_init(&f, 64, true, MEMSTAT_OTHER, hook, NULL);
    memset(&hook_log, 0, sizeof hook_log);
    sys_fail_after(1, 1);
    void *p = fixalloc_alloc(&f);
    void *p2 = fixalloc_alloc(&f);
    sys_fail_after(0, 0);
    EXPECT(p == NULL);
    EXPECT(p2 == NULL);
    EXPECT_EQ(f.inuse, 0);
    EXPECT_EQ(hook_log.calls, 0);
    void *q = fixalloc_alloc(&f);
    EXPECT(q != NULL);
    EXPECT_EQ(f.inuse, 1);
    EXPECT_EQ(hook_log.calls, 1);
}

int main(void)
{
    RUN(lifo_reuse_and_hook);
    RUN(zero_flag);
    RUN(many_records);
    RUN(blockalloc_sizes);
    RUN(out_of_memory);
    persistent_free_all();
    for (int k = 0; k < MEMSTAT_COUNT; k++)
        EXPECT_EQ(memstat_get((memstat_kind)k), 0);
    TEST_MAIN_END();
}
