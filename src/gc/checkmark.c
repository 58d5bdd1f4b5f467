/*
 * checkmark.c -- verifying a mark phase (TRICOLOR=checkmark=1, Go's
 * gccheckmark).
 *
 * After marking ends, with the world stopped, every pointer held by a
 * marked (black) object, by global data or by a registered root must lead
 * to a marked object.  A black object pointing to a white one means some
 * store was not seen by the collector -- almost always a store that
 * bypassed the write barrier -- and that object would be freed while
 * reachable.  The report names the unmarked object and its type, and the
 * slot that points to it: the object holding it, the offset and that
 * object's type, which is where the missing barrier was.
 *
 * Stacks and registers are not checked: a conservatively scanned stack
 * holds stale words below the live frames, which may point to objects that
 * were already garbage when the cycle began.
 */
#include <stdio.h>

#include "../base/throw.h"
#include "../heap/page_heap.h"
#include "../heap/type.h"
#include "gc.h"
#include "mark.h"
#include "roots.h"

static const char *type_name_of(const span *s, size_t idx)
{
    const tc_type *t = span_slot_type(s, idx);
    if (t == NULL)
        return span_is_noscan(s) ? "(noscan)" : "(conservative)";
    return t->name[0] ? t->name : "(unnamed type)";
}

/* The allocated object holding p, or 0. */
static uintptr_t object_at(uintptr_t p, span **sp, size_t *idx)
{
    *sp = span_find_object(p, idx);
    return *sp != NULL ? span_object_base(*sp, *idx) : 0;
}

typedef struct from {
    uintptr_t holder;          /* the object holding the slot, or 0 for a root range */
    const char *what;          /* for a root range */
} from;

static void check_value(uintptr_t slot, uintptr_t value, void *arg)
{
    from *f = arg;
    if (value < 4096)
        return;
    span *s;
    size_t idx;
    uintptr_t obj = object_at(value, &s, &idx);
    if (obj == 0 || span_is_marked(s, idx))
        return;
    char msg[512];
    if (f->holder != 0) {
        span *hs;
        size_t hidx;
        uintptr_t holder = object_at(f->holder, &hs, &hidx);
        snprintf(msg, sizeof msg,
                 "checkmark: object 0x%lx (%s, %zu bytes) is reachable but was not marked: "
                 "it is pointed to from 0x%lx, offset %ld of the marked object 0x%lx (%s); "
                 "a store into that slot probably bypassed the write barrier (use tc_store)",
                 (unsigned long)obj, type_name_of(s, idx), s->elemsize, (unsigned long)slot,
                 slot ? (long)(slot - holder) : -1L, (unsigned long)holder,
                 holder ? type_name_of(hs, hidx) : "?");
    } else {
        snprintf(msg, sizeof msg,
                 "checkmark: object 0x%lx (%s, %zu bytes) is reachable but was not marked: "
                 "it is pointed to from 0x%lx in %s; a store into it probably bypassed the "
                 "write barrier (use tc_store)",
                 (unsigned long)obj, type_name_of(s, idx), s->elemsize, (unsigned long)slot, f->what);
    }
    throw(msg);
}

__attribute__((no_sanitize("thread", "address"))) static void check_range(uintptr_t lo, uintptr_t hi, const char *what, void *arg)
{
    (void)arg;
    from f = {0, what};
    for (uintptr_t a = (lo + 7) & ~(uintptr_t)7; a + 8 <= hi; a += 8)
        check_value(a, __atomic_load_n((uintptr_t *)a, __ATOMIC_RELAXED), &f);
}

void checkmark_run(void)
{
    roots_for_each_global(check_range, NULL);
    lock_acquire(&heap.lock);
    size_t n = heap.nspans;
    span **all = heap.allspans;
    lock_release(&heap.lock);
    for (size_t k = 0; k < n; k++) {
        span *s = all[k];
        if (atomic_load(&s->state) != SPAN_IN_USE || span_is_noscan(s))
            continue;
        for (size_t i = 0; i < s->nelems; i++) {
            if (!span_slot_allocated(s, i) || !span_is_marked(s, i))
                continue;
            uintptr_t base = span_object_base(s, i);
            from f = {base, NULL};
            mark_object_slots(base, check_value, &f);
        }
    }
}
