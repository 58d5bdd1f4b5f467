/*
 * span.c -- span records: layout, the allocation bitmap walk, type ids.
 *
 * Design (Go's mspan since 1.7): a span does not keep a free list.  Which
 * slots are free is a bitmap (alloc_bits, one bit per slot, written only
 * by sweeping) plus a cursor (freeindex): every slot below freeindex is
 * allocated, and a slot at or above it is free iff its alloc bit is clear.
 * alloc_cache holds the complement of the alloc bits from freeindex to the
 * end of its 64-slot window, shifted so that bit 0 is slot freeindex, so
 * the allocation fast path is a count-trailing-zeros.  After a sweep, mark_bits become alloc_bits and
 * freeindex restarts at 0.
 *
 * Records come from the heap's fixalloc and are never returned to the OS;
 * every record is listed once in the all-spans list (page_heap.c).  The
 * bitmaps and type ids are separate off-heap blocks sized by nelems.
 *
 * Invariants: see span.h.  Ownership: see the field notes in span.h.
 */
#include "span.h"

#include <string.h>

#include "../base/throw.h"
#include "../offheap/fixalloc.h"
#include "gcbits.h"

const char *const span_state_names[SPAN_STATE_COUNT] = {"dead", "in-use"};

int span_init(span *s, uintptr_t base, size_t npages, spanclass_t sc, bool needzero)
{
    unsigned c = spanclass_sizeclass(sc);
    s->next = s->prev = NULL;
    s->list = NULL;
    s->start = base;
    s->npages = npages;
    s->spanclass = sc;
    if (c == 0) {
        s->elemsize = npages << PAGE_SHIFT;
        s->nelems = 1;
        s->divmul = 0;
    } else {
        s->elemsize = size_classes[c].size;
        s->nelems = (uint16_t)size_classes[c].nelems;
        s->divmul = size_classes[c].divmul;
    }
    s->limit = base + (uintptr_t)s->nelems * s->elemsize;
    s->freeindex = 0;
    s->alloc_cache = 0;
    s->needzero = needzero;
    atomic_store_explicit(&s->alloc_count_before_cache, 0, memory_order_relaxed);
    atomic_store_explicit(&s->alloc_count, 0, memory_order_relaxed);
    atomic_store_explicit(&s->freeindex_for_scan, 0, memory_order_relaxed);
    s->type_ids = NULL;
    atomic_store_explicit(&s->sole_type_id, 0, memory_order_relaxed);
    atomic_store_explicit(&s->types_mixed, 0, memory_order_relaxed);
    atomic_store_explicit(&s->large_type, NULL, memory_order_relaxed);
    atomic_store_explicit(&s->specials, NULL, memory_order_relaxed);
    /* Both maps from the current gcbits epoch, side by side. */
    uint64_t *bits = gcbits_alloc(2 * bit_words(s->nelems));
    if (bits == NULL)
        return -1;
    s->alloc_bits = bits;
    s->mark_bits = bits + bit_words(s->nelems);
    if (s->nelems % 64 != 0)
        s->alloc_bits[s->nelems / 64] = ~(uint64_t)0 << (s->nelems % 64);
    span_refill_alloc_cache(s, 0);
    return 0;
}

void span_release_bits(span *s)
{
    /* The bitmaps go with their gcbits epoch. */
    if (s->type_ids != NULL)
        blockalloc_free(s->type_ids, (size_t)s->nelems * sizeof(uint16_t));
    s->alloc_bits = s->mark_bits = NULL;
    s->type_ids = NULL;
}

void span_refill_alloc_cache(span *s, size_t idx)
{
    DCHECK(idx % 64 == 0);
    size_t w = idx / 64;
    s->alloc_cache = w < bit_words(s->nelems) ? ~s->alloc_bits[w] : 0;
}

size_t span_next_free_index(span *s)
{
    size_t idx = s->freeindex, nelems = s->nelems;
    if (idx >= nelems)
        return nelems;
    uint64_t cache = s->alloc_cache;
    if (cache == 0 && idx % 64 == 0) {
        /* freeindex just reached this window: load it. */
        span_refill_alloc_cache(s, idx);
        cache = s->alloc_cache;
    }
    while (cache == 0) {
        /* The rest of this window is allocated: move to the next. */
        idx = align_down(idx, 64) + 64;
        if (idx >= nelems) {
            s->freeindex = (uint16_t)nelems;
            return nelems;
        }
        span_refill_alloc_cache(s, idx);
        cache = s->alloc_cache;
    }
    size_t result = idx + ctz64(cache);
    CHECK(result < nelems); /* the bits past nelems are set */
    s->alloc_cache = (cache >> ctz64(cache)) >> 1;
    s->freeindex = (uint16_t)(result + 1);
    return result;
}

void span_zero_free(span *s)
{
    /* Runs of free slots [i, j) are found a bitmap word at a time and each
     * cleared with one memset.  Bits past nelems are set, but when nelems
     * is a multiple of 64 there are none, hence the bounds on j. */
    size_t n = s->nelems, i = s->freeindex;
    const uint64_t *bits = s->alloc_bits;
    while (i < n) {
        uint64_t free = ~bits[i / 64] >> (i % 64);
        if (free == 0) {
            i = (i / 64 + 1) * 64;
            continue;
        }
        i += ctz64(free);
        if (i >= n)
            break;
        size_t j = i;
        uint64_t used = bits[j / 64] >> (j % 64);
        while (used == 0) {
            j = (j / 64 + 1) * 64;
            if (j >= n)
                break;
            used = bits[j / 64];
        }
        if (j < n)
            j += ctz64(used);
        if (j > n)
            j = n;
        memset((void *)span_object_base(s, i), 0, (j - i) * s->elemsize);
        i = j;
    }
    s->needzero = 0;
}

int span_set_type_id(span *s, size_t idx, uint16_t id)
{
    if (atomic_load_explicit(&s->types_mixed, memory_order_relaxed)) {
        s->type_ids[idx] = id;
        return 0;
    }
    uint16_t sole = atomic_load_explicit(&s->sole_type_id, memory_order_relaxed);
    if (id == sole)
        return 0;
    if (atomic_load_explicit(&s->alloc_count, memory_order_relaxed) <= 1) {
        /* The only object in the span: its type becomes the sole one. */
        atomic_store_explicit(&s->sole_type_id, id, memory_order_relaxed);
        return 0;
    }
    uint16_t *ids = blockalloc_alloc((size_t)s->nelems * sizeof(uint16_t));
    if (ids == NULL)
        return -1;
    for (size_t i = 0; i < s->nelems; i++)
        ids[i] = sole;
    ids[idx] = id;
    __atomic_store_n(&s->type_ids, ids, __ATOMIC_RELEASE);
    atomic_store_explicit(&s->types_mixed, 1, memory_order_release);
    return 0;
}

size_t span_count_allocated(const span *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->nelems; i++)
        n += i < s->freeindex || bit_get(s->alloc_bits, i);
    return n;
}

size_t span_verify(const span *s)
{
    size_t bad = 0;
    if (atomic_load(&s->state) != SPAN_IN_USE)
        return 0;
    size_t fi = s->freeindex, fis = atomic_load(&s->freeindex_for_scan);
    bad += !(fis <= fi && fi <= s->nelems);
    bad += s->limit != s->start + (uintptr_t)s->nelems * s->elemsize;
    bad += s->limit > s->start + (s->npages << PAGE_SHIFT);
    bad += span_count_allocated(s) != atomic_load(&s->alloc_count);
    /* Past nelems: alloc bits set, mark bits clear. */
    for (size_t i = s->nelems; i < bit_words(s->nelems) * 64; i++)
        bad += !bit_get(s->alloc_bits, i) || bit_get(s->mark_bits, i);
    return bad;
}
