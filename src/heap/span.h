/*
 * span.h -- the span: a run of pages holding objects of one span class.
 * See span.c for the design and docs/design.md "Spans".
 */
#ifndef TC_HEAP_SPAN_H
#define TC_HEAP_SPAN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/bits.h"
#include "arena.h"
#include "size_class.h"
#include "type.h"

struct tc_type;

typedef enum span_state {
    SPAN_DEAD = 0,  /* record free or being set up: no address maps to it */
    SPAN_IN_USE,    /* holds objects of its span class */
    SPAN_STATE_COUNT
} span_state;

extern const char *const span_state_names[SPAN_STATE_COUNT];

typedef struct span {
    /* Linkage in an mcentral list: under that mcentral's lock.  A span
     * cached by a thread is in no list (list == NULL). */
    struct span *next, *prev;
    struct span_list *list;

    /* Set by heap_alloc_span before state becomes SPAN_IN_USE; constant
     * while in use. */
    uintptr_t start;        /* first byte */
    uintptr_t limit;        /* start + nelems * elemsize: end of the objects */
    size_t npages;
    size_t elemsize;        /* bytes per object; npages * PAGE_SIZE for a large span */
    uint32_t divmul;        /* 2^32 / elemsize + 1 (0 for a large span) */
    uint16_t nelems;        /* objects in the span: 1 for a large span */
    spanclass_t spanclass;  /* size class * 2 + noscan; size class 0 = large */

    /* Allocation state, owned by whoever holds the span: the thread whose
     * cache holds it, or the holder of its mcentral's lock. */
    uint16_t freeindex;     /* slots below are allocated; == nelems: full */
    uint64_t alloc_cache;   /* ~alloc_bits from freeindex: bit 0 = slot freeindex; 1 = free */
    uint8_t needzero;       /* 1: free slots may hold garbage and must be zeroed; 0 while cached */

    /* Read by other threads without the owner's cooperation: */
    _Atomic uint16_t alloc_count;        /* slots allocated; owner writes, relaxed */
    /* alloc_count when the current cache took the span; written by the
     * owner before it publishes the span in its cache (relaxed). */
    _Atomic uint16_t alloc_count_before_cache;
    /* The freeindex as of the last completely initialised object: a
     * concurrent reader (tc_base, the heap walker, later conservative
     * scanning) treats slot i as allocated iff i < freeindex_for_scan or
     * its alloc bit is set.  Owner stores with release after the object's
     * type is written; readers load with acquire. */
    _Atomic uint16_t freeindex_for_scan;
    _Atomic uint8_t state;               /* span_state; release on publish, acquire on read */
    /* Sweep generation (see docs/design.md "Sweep generations"), relative
     * to heap.sweepgen = h: h - 2 needs sweeping, h - 1 being swept, h swept,
     * h + 1 cached before the sweep began, h + 3 swept and cached. */
    _Atomic uint32_t sweepgen;

    /* nelems bits each (rounded up to whole words), off-heap, from the
     * gcbits epochs (gcbits.h).  Sweeping swaps in new maps: alloc_bits is
     * stored with release order before freeindex_for_scan is reset, and
     * loaded with acquire after it.
     * alloc_bits: 1 = allocated as of the last sweep; slots handed out
     * since are those below freeindex.  The bits past nelems are always 1,
     * so alloc_cache never offers a slot past the end and the fast path
     * needs no bounds check (sweeping must set them in the new bits).
     * mark_bits: set by the collector while marking (0 past nelems);
     * sweeping makes them the new alloc_bits. */
    uint64_t *alloc_bits;
    uint64_t *mark_bits;
    /* Object types (type.h ids; 0: untyped).  While types_mixed is 0,
     * every object allocated in the span since it was made has type id
     * sole_type_id (0 at first), and type_ids is NULL: a span of one
     * type (the common case) costs no per-slot array and the collector no
     * extra cache miss per object.  The first object of another type makes
     * the span mixed for good: the owner fills a per-slot array with the
     * sole id, publishes it (release), then sets types_mixed (release),
     * all before it publishes the new object; from then on type_ids[idx]
     * holds each slot's id.  Only the first object allocated in a span
     * with no other live object may change sole_type_id.  Owner writes;
     * others read types_mixed with acquire. */
    uint16_t *type_ids;
    _Atomic uint16_t sole_type_id;
    _Atomic uint8_t types_mixed;
    /* The type of a large span's object (NULL: untyped).  atomic. */
    _Atomic(const struct tc_type *) large_type;
    /* Off-heap records attached to objects of the span (finalizers, weak
     * handles: gc/special.h), sorted by object index.  Under specials_lock;
     * loaded without it (atomic) only to skip spans that have none.  NULL
     * whenever the span is not in use. */
    _Atomic(struct special *) specials;
} span;

/* Invariants (checked by span_verify): alloc_count = #{i < nelems : i <
 * freeindex or alloc_bits[i]}; freeindex_for_scan <= freeindex <= nelems;
 * alloc_bits past nelems are 1, mark_bits past nelems are 0.  alloc_cache
 * holds the free bits of slots freeindex .. the end of freeindex's 64-slot
 * window, or 0 when freeindex is at a window's start and not yet loaded. */

static inline bool span_is_large(const span *s) { return spanclass_sizeclass(s->spanclass) == 0; }
static inline bool span_is_noscan(const span *s) { return spanclass_noscan(s->spanclass); }

/* The span whose pages hold p, or NULL; may be a span that does not
 * contain p in its object range.  Lock-free, O(1). */
static inline span *span_of(uintptr_t p)
{
    arena *a = arena_of(p);
    if (a == NULL)
        return NULL;
    return atomic_load_explicit(&a->spans[arena_page_index(p)], memory_order_acquire);
}

/* The in-use span whose objects cover p, or NULL. */
static inline span *span_of_heap(uintptr_t p)
{
    span *s = span_of(p);
    if (s == NULL || atomic_load_explicit(&s->state, memory_order_acquire) != SPAN_IN_USE)
        return NULL;
    if (p < s->start || p >= s->limit)
        return NULL;
    return s;
}

/* Index of the object holding p (p inside the span's objects). */
static inline size_t span_object_index(const span *s, uintptr_t p)
{
    return (size_t)(((uint64_t)(uint32_t)(p - s->start) * s->divmul) >> 32);
}

static inline uintptr_t span_object_base(const span *s, size_t idx)
{
    return s->start + idx * s->elemsize;
}

/* Whether slot idx holds an allocated object, as seen by another thread. */
static inline bool span_slot_allocated(const span *s, size_t idx)
{
    if (idx < atomic_load_explicit(&s->freeindex_for_scan, memory_order_acquire))
        return true;
    return bit_get(__atomic_load_n(&s->alloc_bits, __ATOMIC_ACQUIRE), idx);
}

/* The span and slot of the allocated object holding p, or NULL: the lookup
 * behind tc_base, heap dumps and checkmark reports.  Any thread. */
static inline span *span_find_object(uintptr_t p, size_t *idx)
{
    span *s = p >= 4096 ? span_of_heap(p) : NULL;
    if (s == NULL)
        return NULL;
    size_t i = span_is_large(s) ? 0 : span_object_index(s, p);
    if (!span_slot_allocated(s, i))
        return NULL;
    *idx = i;
    return s;
}

/* Whether slot idx is marked.  Any thread. */
static inline bool span_is_marked(const span *s, size_t idx)
{
    uint64_t w = __atomic_load_n(&s->mark_bits[idx / 64], __ATOMIC_RELAXED);
    return (w >> (idx % 64)) & 1;
}

/* Sets slot idx's mark bit; true if this call set it.  For a caller that
 * has just seen the bit clear: the atomic OR alone (lock bts). */
static inline bool span_mark_unchecked(span *s, size_t idx)
{
    uint64_t bit = (uint64_t)1 << (idx % 64);
    return (__atomic_fetch_or(&s->mark_bits[idx / 64], bit, __ATOMIC_RELAXED) & bit) == 0;
}

/* Sets slot idx's mark bit; true if this call set it.  A plain load first
 * spares the atomic when the bit is already set. */
static inline bool span_mark(span *s, size_t idx)
{
    return !span_is_marked(s, idx) && span_mark_unchecked(s, idx);
}

/* Sets up a fresh record for [base, base + npages pages) with class sc:
 * everything but state and the page map.  Returns -1 if the bitmaps could
 * not be allocated. */
int  span_init(span *s, uintptr_t base, size_t npages, spanclass_t sc, bool needzero);
void span_release_bits(span *s);

/* The next free slot at or after freeindex, advancing freeindex past it;
 * nelems if the span is full.  Owner only. */
size_t span_next_free_index(span *s);

/* Reloads alloc_cache from alloc_bits for the 64 slots starting at
 * idx, a multiple of 64. */
void span_refill_alloc_cache(span *s, size_t idx);

/* Clears every free slot from freeindex on and sets needzero = 0: done once
 * when a span that needs zeroing enters a cache, instead of slot by slot on
 * the allocation fast path.  By the span's owner. */
void span_zero_free(span *s);

/* Records type id `id` for slot idx, just allocated: adopts it as the
 * span's sole type, or makes the span mixed (allocating the id array).
 * Returns -1 when out of memory.  Owner only, before publishing the slot. */
int span_set_type_id(span *s, size_t idx, uint16_t id);

/* The type id of slot idx (allocated). */
static inline uint16_t span_type_id(const span *s, size_t idx)
{
    if (!atomic_load_explicit(&((span *)s)->types_mixed, memory_order_acquire))
        return atomic_load_explicit(&((span *)s)->sole_type_id, memory_order_relaxed);
    return __atomic_load_n(&s->type_ids, __ATOMIC_RELAXED)[idx];
}

/* The type of the object in slot idx (allocated); NULL if untyped. */
static inline const tc_type *span_slot_type(const span *s, size_t idx)
{
    if (span_is_large(s))
        return atomic_load_explicit(&((span *)s)->large_type, memory_order_acquire);
    return type_by_id(span_type_id(s, idx));
}

/* Slots allocated by the invariant's definition: #{i < nelems : i <
 * freeindex or alloc_bits[i]}. */
size_t span_count_allocated(const span *s);

/* Checks the invariants above; returns the number of violations. */
size_t span_verify(const span *s);

#endif
