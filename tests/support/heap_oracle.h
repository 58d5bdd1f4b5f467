/*
 * heap_oracle.h -- slow, independent answers the page allocator's tests
 * compare against (include after the heap headers and test.h).
 */
#ifndef TC_TEST_HEAP_ORACLE_H
#define TC_TEST_HEAP_ORACLE_H

#include <stdlib.h>

#include "heap/arena.h"
#include "heap/page_heap.h"

static int oracle_cmp_uptr(const void *a, const void *b)
{
    uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
    return x < y ? -1 : x > y;
}

/* The bases of all arenas, sorted; *n receives their number. */
static uintptr_t *oracle_sorted_arenas(size_t *n)
{
    lock_acquire(&heap.lock);
    arena *const *list = arena_list(n);
    uintptr_t *b = malloc((*n ? *n : 1) * sizeof *b);
    REQUIRE(b != NULL);
    for (size_t i = 0; i < *n; i++)
        b[i] = list[i]->base;
    lock_release(&heap.lock);
    qsort(b, *n, sizeof *b, oracle_cmp_uptr);
    return b;
}

/* The lowest run of npages free pages according to the per-page bitmaps
 * (page_alloc_is_free), never crossing a gap between arenas; 0 if there is
 * none.  Independent of the summary tree that page_alloc_alloc searches. */
static uintptr_t oracle_first_fit(size_t npages)
{
    size_t nar;
    uintptr_t *b = oracle_sorted_arenas(&nar);
    uintptr_t found = 0, start = 0;
    size_t run = 0;
    lock_acquire(&heap.lock);
    for (size_t k = 0; k < nar && !found; k++) {
        if (k == 0 || b[k] != b[k - 1] + ARENA_SIZE)
            run = 0;
        for (size_t p = 0; p < PAGES_PER_ARENA; p++) {
            uintptr_t a = b[k] + p * PAGE_SIZE;
            if (!page_alloc_is_free(a)) {
                run = 0;
                continue;
            }
            if (run == 0)
                start = a;
            if (++run == npages) {
                found = start;
                break;
            }
        }
    }
    lock_release(&heap.lock);
    free(b);
    return found;
}

/* What page_alloc_alloc picks (backed pages first): for npages <=
 * CHUNK_PAGES, the lowest run of free pages that are all backed
 * (!page_alloc_is_scavenged) inside one chunk; when there is none, or for
 * longer runs, oracle_first_fit. */
static inline uintptr_t oracle_backed_first_fit(size_t npages)
{
    uintptr_t found = 0;
    if (npages <= CHUNK_PAGES) {
        size_t nar;
        uintptr_t *b = oracle_sorted_arenas(&nar);
        lock_acquire(&heap.lock);
        for (size_t k = 0; k < nar && !found; k++) {
            for (size_t c = 0; c < CHUNKS_PER_ARENA && !found; c++) {
                size_t run = 0;
                for (size_t p = 0; p < CHUNK_PAGES; p++) {
                    uintptr_t a = b[k] + c * CHUNK_SIZE + p * PAGE_SIZE;
                    if (!page_alloc_is_free(a) || page_alloc_is_scavenged(a)) {
                        run = 0;
                        continue;
                    }
                    if (++run == npages) {
                        found = a - (npages - 1) * PAGE_SIZE;
                        break;
                    }
                }
            }
        }
        lock_release(&heap.lock);
        free(b);
    }
    return found != 0 ? found : oracle_first_fit(npages);
}

#endif
