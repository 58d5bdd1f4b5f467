/*
 * arena.c -- heap arenas: where heap memory comes from and how any address
 * is mapped to its metadata.
 *
 * Design (Go 1.11's sparse heap, seed 004):
 *  - The heap grows in arenas of ARENA_SIZE bytes, each aligned to its
 *    size.  Reservations are made at a hint so the heap grows contiguously:
 *    first ARENA_HINT_START (Go's), then just above the highest or just
 *    below the lowest reservation so far.  When neither is free, the next
 *    rung of Go's ladder of fresh hints (i << 40 | 0xc0 << 32) is tried,
 *    so the heap restarts far from where the kernel puts other mappings
 *    (under AddressSanitizer the first rungs lie in its shadow memory).
 *    Only when every rung is taken does the kernel choose: Linux places
 *    mappings top-down, so the space next to such a range soon fills with
 *    the program's other mappings.
 *  - The page allocator's summary memory for a new range is committed
 *    before any of its arenas is registered, so a failure cannot leave an
 *    arena in the index that the page allocator does not know.
 *  - Each arena has off-heap metadata (struct arena): the page -> span map,
 *    per-page bits for the collector, and the page allocator's bitmaps.
 *  - arena_index maps an address to that metadata in O(1): it is indexed
 *    by the arena number addr >> ARENA_SHIFT (ARENA_INDEX_BITS bits) and
 *    lives in the library's zero-filled data (32 MiB of address space;
 *    only pages with entries in use are touched).
 *  - all_arenas lists every arena.  It grows by doubling into persistent
 *    memory and the old array is never freed, so a reader can copy its
 *    pointer and length under the heap lock and iterate after dropping it
 *    (the lesson of Go's allArenas).
 *
 * Invariants: an index entry, once set, never changes until tc_shutdown;
 * every arena in all_arenas is in the index and vice versa.
 * Locking: growth and all_arenas are under the heap lock; the index is read
 * lock-free.
 */
#include "arena.h"

#include <string.h>

#include "../base/bits.h"
#include "../base/nopreempt.h"
#include "../base/throw.h"
#include "../offheap/persistent_alloc.h"
#include "../sys/sys.h"

_Atomic(arena *) arena_index[(size_t)1 << ARENA_INDEX_BITS];

/* Under the heap lock: the next reservation is tried at hint_up, then at
 * hint_down - size (0: no such hint). */
static NOGC_DATA uintptr_t hint_up = ARENA_HINT_START;
static NOGC_DATA uintptr_t hint_down;
static NOGC_DATA unsigned hint_rung = 1;          /* next fresh hint; 0 is the first */
#define HINT_RUNGS 0x80
static arena **all_arenas;                       /* under the heap lock */
static size_t all_arenas_len, all_arenas_cap;

/* Reserves exactly [at, at + size), or returns 0. */
static uintptr_t arena_reserve_at(uintptr_t at, size_t size)
{
    if (at == 0 || (at + size) >> HEAP_ADDR_BITS || at + size < at)
        return 0;
    void *p = sys_reserve((void *)at, size);
    if (p == (void *)at)
        return at;
    if (p != NULL)
        sys_release(p, size);
    return 0;
}

/* Reserves `size` bytes aligned to ARENA_SIZE, preferably next to the
 * heap's existing ranges. */
static uintptr_t arena_reserve(size_t size)
{
    uintptr_t base = arena_reserve_at(hint_up, size);
    if (base != 0) {
        hint_up = base + size;
        return base;
    }
    if (hint_down >= size && (base = arena_reserve_at(hint_down - size, size)) != 0) {
        hint_down = base;
        return base;
    }
    while (hint_rung < HINT_RUNGS) {
        uintptr_t at = (uintptr_t)hint_rung++ << 40 | ARENA_HINT_START;
        if ((base = arena_reserve_at(at, size)) != 0) {
            hint_up = base + size;
            hint_down = base;
            return base;
        }
    }
    /* Over-reserve by one arena and trim to alignment. */
    void *p = sys_reserve(NULL, size + ARENA_SIZE);
    if (p == NULL)
        return 0;
    uintptr_t raw = (uintptr_t)p;
    base = align_up(raw, ARENA_SIZE);
    if (base > raw)
        sys_release(p, base - raw);
    uintptr_t tail = raw + size + ARENA_SIZE - (base + size);
    if (tail > 0)
        sys_release((void *)(base + size), tail);
    if ((base + size) >> HEAP_ADDR_BITS) {
        sys_release((void *)base, size);
        return 0;
    }
    hint_up = base + size;
    hint_down = base;
    return base;
}

static int arena_list_append(arena *a)
{
    if (all_arenas_len == all_arenas_cap) {
        size_t cap = all_arenas_cap ? all_arenas_cap * 2 : SYS_PAGE_SIZE / sizeof(arena *);
        arena **n = persistent_alloc(cap * sizeof *n, 8, MEMSTAT_GC);
        if (n == NULL)
            return -1;
        if (all_arenas_len > 0)
            memcpy(n, all_arenas, all_arenas_len * sizeof *n);
        /* The old array is left as it is: readers may still hold it. */
        all_arenas = n;
        all_arenas_cap = cap;
    }
    all_arenas[all_arenas_len++] = a;
    return 0;
}

static int arena_register(uintptr_t base)
{
    arena *a = persistent_alloc(sizeof(arena), 64, MEMSTAT_GC);
    if (a == NULL)
        return -1;
    a->base = base;
    if (arena_list_append(a) != 0)
        return -1;
    atomic_store_explicit(&arena_index[base >> ARENA_SHIFT], a, memory_order_release);
    return 0;
}

uintptr_t arena_grow(size_t size, size_t *grown)
{
    size = align_up(size, ARENA_SIZE);
    if (size == 0 || size >> HEAP_ADDR_BITS)
        return 0;
    uintptr_t base = arena_reserve(size);
    if (base == 0)
        return 0;
    if (page_alloc_commit(base, size) != 0 || sys_map((void *)base, size, MEMSTAT_HEAP) != 0) {
        sys_release((void *)base, size);
        return 0;
    }
    for (uintptr_t a = base; a < base + size; a += ARENA_SIZE) {
        if (arena_register(a) != 0) {
            /* Arenas already registered stay (their metadata is persistent);
             * the rest of the range is given back. */
            sys_unmap((void *)a, base + size - a, MEMSTAT_HEAP);
            sys_release((void *)a, base + size - a);
            size = a - base;
            break;
        }
    }
    if (size == 0)
        return 0;
    *grown = size;
    return base;
}

arena *const *arena_list(size_t *n)
{
    *n = all_arenas_len;
    return all_arenas;
}

void arena_free_all(void)
{
    for (size_t i = 0; i < all_arenas_len; i++) {
        /* Only the entries in use: clearing the whole index would touch
         * all 32 MiB of it. */
        atomic_store_explicit(&arena_index[all_arenas[i]->base >> ARENA_SHIFT], NULL,
                              memory_order_relaxed);
        sys_free((void *)all_arenas[i]->base, ARENA_SIZE, MEMSTAT_HEAP);
    }
    all_arenas = NULL;
    all_arenas_len = all_arenas_cap = 0;
    hint_up = ARENA_HINT_START;
    hint_down = 0;
    hint_rung = 1;
}
