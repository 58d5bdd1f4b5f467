/*
 * object.c -- from an address to its object: tc_base, tc_size, tc_type_of,
 * and the walk over every object (tc_heap_walk).
 *
 * Lookup is O(1) and lock-free: arena index -> arena -> page -> span ->
 * object index by multiply -> allocated?  (span_of_heap and
 * span_slot_allocated in span.h).  Any address outside the heap's objects
 * (stacks, globals, malloc memory, span tails, free slots) gives NULL.
 *
 * The walk iterates the all-spans list as a registered reader, so it holds
 * no lock while calling the user's function, which may allocate.
 */
#include <stdint.h>

#include "../base/nopreempt.h"
#include "../base/throw.h"
#include "gcbits.h"
#include "page_heap.h"
#include "span.h"
#include "type.h"
#include "tricolor.h"

TC_API NOPREEMPT_TEXT void *tc_base(const void *p)
{
    size_t idx;
    TSAN_NOPREEMPT_ENTER();
    span *s = span_find_object((uintptr_t)p, &idx);
    void *r = s ? (void *)span_object_base(s, idx) : NULL;
    TSAN_NOPREEMPT_EXIT();
    return r;
}

TC_API NOPREEMPT_TEXT size_t tc_size(const void *p)
{
    size_t idx;
    TSAN_NOPREEMPT_ENTER();
    span *s = span_find_object((uintptr_t)p, &idx);
    size_t r = s ? s->elemsize : 0;
    TSAN_NOPREEMPT_EXIT();
    return r;
}

TC_API NOPREEMPT_TEXT const tc_type *tc_type_of(const void *p)
{
    size_t idx;
    TSAN_NOPREEMPT_ENTER();
    span *s = span_find_object((uintptr_t)p, &idx);
    const tc_type *r = s ? span_slot_type(s, idx) : NULL;
    TSAN_NOPREEMPT_EXIT();
    return r;
}

TC_API void tc_heap_walk(void (*fn)(void *obj, size_t size, const tc_type *t, void *arg), void *arg)
{
    if (fn == NULL)
        throw("tc_heap_walk: fn is NULL");
    size_t n;
    atomic_fetch_add(&gcbits_walkers, 1); /* keep the bitmaps we read */
    span *const *all = allspans_begin_read(&n);
    for (size_t k = 0; k < n; k++) {
        span *s = all[k];
        if (atomic_load_explicit(&s->state, memory_order_acquire) != SPAN_IN_USE)
            continue;
        for (size_t i = 0; i < s->nelems; i++)
            if (span_slot_allocated(s, i))
                fn((void *)span_object_base(s, i), s->elemsize, span_slot_type(s, i), arg);
    }
    allspans_end_read();
    atomic_fetch_sub(&gcbits_walkers, 1);
}
