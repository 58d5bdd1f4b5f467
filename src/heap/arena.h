/*
 * arena.h -- heap arenas, the arena index and the list of all arenas.
 * See arena.c for the design.
 */
#ifndef TC_HEAP_ARENA_H
#define TC_HEAP_ARENA_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "page_alloc.h"
#include "size_class.h"

#define ARENA_SHIFT 26
#define ARENA_SIZE ((uintptr_t)1 << ARENA_SHIFT)        /* 64 MiB */
#define PAGES_PER_ARENA (ARENA_SIZE >> PAGE_SHIFT)       /* 8192 */
#define CHUNKS_PER_ARENA (ARENA_SIZE >> CHUNK_SHIFT)     /* 16 */
#define ARENA_INDEX_BITS (HEAP_ADDR_BITS - ARENA_SHIFT)  /* 22 */
#define ARENA_HINT_START ((uintptr_t)0x00c000000000)     /* Go's first heap hint */

struct span;

/* The off-heap metadata of one arena (Go's heapArena). */
typedef struct arena {
    /* Page -> span.  Every page of an in-use span maps to it; pages of free
     * runs map to NULL.  Written under the heap lock; read lock-free
     * (atomic, acquire) by span_of. */
    _Atomic(struct span *) spans[PAGES_PER_ARENA];
    /* Bit per page, set on the first page of each in-use span.  Under the heap lock. */
    uint64_t page_in_use[PAGES_PER_ARENA / 64];
    /* The page allocator's bitmaps for this arena's chunks. */
    palloc_chunk chunks[CHUNKS_PER_ARENA];
    uintptr_t base; /* constant */
} arena;

/* The arena index: one entry per possible arena of the 48-bit address
 * space (Go's single-level index on amd64), 32 MiB of zero-filled virtual
 * memory of which only the pages holding entries of arenas in use are
 * ever touched.  Entries only go from NULL to non-NULL, under the heap
 * lock, published with release stores; lookups are lock-free. */
extern _Atomic(arena *) arena_index[(size_t)1 << ARENA_INDEX_BITS];

/* The arena holding addr, or NULL if addr is not in the heap.  O(1): one
 * load. */
static inline arena *arena_of(uintptr_t addr)
{
    if (addr >> HEAP_ADDR_BITS)
        return NULL;
    return atomic_load_explicit(&arena_index[addr >> ARENA_SHIFT], memory_order_acquire);
}

static inline size_t arena_page_index(uintptr_t addr)
{
    return (addr >> PAGE_SHIFT) & (PAGES_PER_ARENA - 1);
}

/* Under the heap lock: reserves and maps at least `size` bytes of new,
 * contiguous arenas (rounded up to ARENA_SIZE), commits the page
 * allocator's summaries for them, creates their metadata, enters them in
 * the index and the list.  Returns the base (and *grown, the bytes
 * registered, which may fall short of the request only when arena
 * metadata could not be allocated) or 0.  The caller hands
 * [base, base + *grown) to page_alloc_grow, which then cannot fail. */
uintptr_t arena_grow(size_t size, size_t *grown);

/* Under the heap lock: the list of all arenas.  The array is never freed
 * (a new one is made when it fills), so the caller may copy the pointer and
 * length, release the lock and read the first *n entries at leisure. */
arena *const *arena_list(size_t *n);

/* tc_shutdown: unmaps every arena and forgets the index. */
void arena_free_all(void);

#endif
