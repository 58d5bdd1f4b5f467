/*
 * page_heap.c -- benchmark: does the page heap stay fast as the heap grows?
 *
 * For heaps of 64 MiB, 1 GiB, 4 GiB and 16 GiB (reserved arenas; page
 * memory is never touched, only metadata), each in a fresh tc heap:
 *   1. grow the heap to the target size (arena_grow + page_alloc_grow
 *      under the heap lock, as heap_grow does);
 *   2. fill it to ~90% with spans of random sizes (90% of 1-8 pages, 10%
 *      of 9-128 pages; fixed-seed xorshift) through heap_alloc_span, the
 *      real path (span class 0, noscan: a large span);
 *   3. free a random half of them, which fragments the heap;
 *   4. steady state: in batches of BATCH, free BATCH random live spans
 *      (timed as a batch), then allocate BATCH spans of random sizes (timed
 *      as a batch); OPS frees and OPS allocations per repetition.
 * Every repetition builds its heap afresh (same seed, so the same state),
 * and repetitions are interleaved over the sizes.  Reported per heap
 * size: the median over REPS repetitions of ns per allocation and ns per
 * free, and the ratio of (alloc + free) to that of the 64 MiB heap.  The timed region holds only heap_alloc_span /
 * heap_free_span calls; the choice of spans and sizes is made before it.
 *
 *   build/bench/page_heap [--quick]
 *
 * --quick: 64 MiB and 1 GiB only, fewer operations (a smoke test for
 * make test; a second or less).  Exit status 0, 1 on a failure (an
 * allocation returned NULL, or heap_verify found errors), 2 on bad usage.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <tricolor.h>

#include "bench.h"

#include "heap/arena.h"
#include "heap/heap_verify.h"
#include "heap/page_alloc.h"
#include "heap/page_heap.h"
#include "heap/span.h"

#define BATCH 64
#define MAX_REPS 9

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

static size_t random_npages(void)
{
    uint64_t r = rnd();
    if (r % 100 < 90)
        return 1 + (r >> 8) % 8;
    return 9 + (r >> 8) % 120;
}

typedef struct result {
    size_t heap_bytes;
    size_t live;              /* spans live in the steady state */
    double ns_alloc[MAX_REPS], ns_free[MAX_REPS];
    size_t heap_grew;         /* pages the heap grew by in a steady state */
} result;

static int fail(const char *what, size_t heap_bytes)
{
    fprintf(stderr, "page_heap: %s (heap of %zu MiB)\n", what, heap_bytes >> 20);
    tc_shutdown();
    return 1;
}

/* One repetition for one heap size, in a fresh tc heap: grow, fill (to
 * 90% of the heap, or of fill_bytes if not 0), free half, then time `ops`
 * frees and allocations; records repetition r. */
static int run_once(size_t heap_bytes, size_t fill_bytes, size_t ops, int r, result *out)
{
    if (tc_init(NULL) != 0) {
        fprintf(stderr, "page_heap: tc_init failed\n");
        return 1;
    }
    rng_state = 0x853c49e6748fea9bull; /* the same sequence every time */
    const spanclass_t sc = make_spanclass(0, 1);

    /* 1. The heap at its target size, all pages free. */
    size_t grown = 0;
    lock_acquire(&heap.lock);
    uintptr_t base = arena_grow(heap_bytes, &grown);
    int rc = base != 0 ? page_alloc_grow(base, grown) : -1;
    lock_release(&heap.lock);
    if (rc != 0 || grown != heap_bytes)
        return fail("could not reserve the heap", heap_bytes);
    size_t total_pages = heap_bytes / PAGE_SIZE;

    size_t cap = total_pages; /* spans have at least one page */
    span **live = malloc(cap * sizeof *live);
    if (live == NULL)
        return fail("out of memory for the span table", heap_bytes);
    size_t nlive = 0, used = 0;

    /* 2. Fill to ~90%. */
    size_t target = (fill_bytes ? fill_bytes / PAGE_SIZE : total_pages) / 10 * 9;
    for (;;) {
        size_t n = random_npages();
        if (used + n > target)
            break;
        span *s = heap_alloc_span(n, sc);
        if (s == NULL) {
            free(live);
            return fail("heap_alloc_span returned NULL while filling", heap_bytes);
        }
        live[nlive++] = s;
        used += n;
    }

    /* 3. Free a random half. */
    size_t kept = 0;
    for (size_t i = 0; i < nlive; i++) {
        if (rnd() & 1)
            heap_free_span(live[i]);
        else
            live[kept++] = live[i];
    }
    nlive = kept;
    if (nlive < BATCH) {
        free(live);
        return fail("too few live spans for a batch", heap_bytes);
    }

    /* 4. Steady state. */
    size_t pages_before = heap_page_stats().total_pages;
    span *batch[BATCH];
    size_t sizes[BATCH];
    uint64_t t_alloc = 0, t_free = 0;
    size_t nops = 0;
    while (nops < ops) {
        for (int b = 0; b < BATCH; b++) {
            size_t k = rnd() % nlive;
            batch[b] = live[k];
            live[k] = live[--nlive];
            sizes[b] = random_npages();
        }
        uint64_t t0 = now_ns();
        for (int b = 0; b < BATCH; b++)
            heap_free_span(batch[b]);
        uint64_t t1 = now_ns();
        for (int b = 0; b < BATCH; b++)
            batch[b] = heap_alloc_span(sizes[b], sc);
        uint64_t t2 = now_ns();
        t_free += t1 - t0;
        t_alloc += t2 - t1;
        for (int b = 0; b < BATCH; b++) {
            if (batch[b] == NULL) {
                free(live);
                return fail("heap_alloc_span returned NULL in the steady state", heap_bytes);
            }
            live[nlive++] = batch[b];
        }
        nops += BATCH;
    }
    out->heap_bytes = heap_bytes;
    out->live = nlive;
    out->ns_alloc[r] = (double)t_alloc / (double)nops;
    out->ns_free[r] = (double)t_free / (double)nops;
    out->heap_grew += heap_page_stats().total_pages - pages_before;

    /* The heap must still be consistent. */
    size_t bad = heap_verify(NULL);
    free(live);
    if (bad != 0)
        return fail("heap_verify found errors", heap_bytes);
    tc_shutdown();
    return 0;
}

static void print_size(size_t bytes)
{
    if (bytes >= ((size_t)1 << 30))
        printf("%zu GiB", bytes >> 30);
    else
        printf("%zu MiB", bytes >> 20);
}

static void print_table(result *res, size_t n, int reps)
{
    double alloc_med[4], free_med[4];
    for (size_t i = 0; i < n; i++) {
        alloc_med[i] = median(res[i].ns_alloc, reps);
        free_med[i] = median(res[i].ns_free, reps);
    }
    printf("| heap | spans live | ns per alloc | ns per free | ratio to 64 MiB |\n");
    printf("|---:|---:|---:|---:|---:|\n");
    double base = alloc_med[0] + free_med[0];
    for (size_t i = 0; i < n; i++) {
        printf("| ");
        print_size(res[i].heap_bytes);
        printf(" | %zu | %.1f | %.1f | %.2f |\n", res[i].live, alloc_med[i], free_med[i],
               (alloc_med[i] + free_med[i]) / base);
    }
    for (size_t i = 0; i < n; i++)
        if (res[i].heap_grew != 0) {
            printf("\nnote: the ");
            print_size(res[i].heap_bytes);
            printf(" heap grew by %zu pages during the steady states\n", res[i].heap_grew);
        }
}

static void usage(FILE *f)
{
    fprintf(f, "usage: page_heap [--quick]\n"
               "  --quick   64 MiB and 1 GiB heaps only, fewer operations (smoke test)\n");
}

int main(int argc, char **argv)
{
    bool quick = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            quick = true;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "page_heap: unknown argument '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    static const size_t all_sizes[] = {(size_t)64 << 20, (size_t)1 << 30, (size_t)4 << 30,
                                       (size_t)16 << 30};
    size_t nsizes = quick ? 2 : 4;
    size_t ops = quick ? 20000 : 200000;
    int reps = quick ? 3 : 5;

    printf("page heap: span alloc/free in the steady state of a fragmented heap\n");
    printf("spans: 90%% of 1-8 pages, 10%% of 9-128 pages (8 KiB pages); filled to 90%%, half freed\n");
    printf("%zu frees + %zu allocations per repetition, timed in batches of %d; median of %d repetitions\n\n",
           ops, ops, BATCH, reps);
    /* Repetitions are interleaved over the sizes, so that drift in the
     * machine's speed affects every size alike. */
    static result res[4];
    for (int r = 0; r < reps; r++)
        for (size_t i = 0; i < nsizes; i++)
            if (run_once(all_sizes[i], 0, ops, r, &res[i]) != 0)
                return 1;
    print_table(res, nsizes, reps);

    if (!quick) {
        /* Control: every heap holds the 64 MiB heap's spans (the same
         * seed gives the same ~300 live spans), so only the heap size
         * differs, not the working set. */
        printf("\ncontrol: every heap filled like the 64 MiB one (same live spans)\n\n");
        static result ctl[4];
        for (int r = 0; r < reps; r++)
            for (size_t i = 0; i < nsizes; i++)
                if (run_once(all_sizes[i], all_sizes[0], ops, r, &ctl[i]) != 0)
                    return 1;
        print_table(ctl, nsizes, reps);
    }
    return 0;
}
