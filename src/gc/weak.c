/*
 * weak.c -- weak references (Go's weak.Pointer and its handles).
 *
 * A weak handle is a one-word heap object of the noscan type
 * "tc_weak_handle" holding its target's address; being noscan, it does not
 * keep the target alive.  A weak record on the target's span (special.c)
 * points to the handle, so tc_weak_new returns the same handle for the
 * same object every time, and the record keeps the handle alive as long as
 * the target lives.  When a sweep finds the target unmarked it stores NULL
 * into the handle and drops the record; the handle itself is then an
 * ordinary object, freed once the program drops it.
 *
 * tc_weak_get must never return an object that marking found unreachable,
 * though sweeping -- which clears handles -- runs lazily after the cycle.
 * So, with preemption off (no cycle can begin or end meanwhile):
 *   - collector idle: the target's span is swept first if it has not been
 *     (sweep_ensure), then the handle read again: a dead target reads NULL;
 *   - collector marking: the target is shaded, because the program may now
 *     store it where marking has already looked (a stack): it lives.
 * Every span is swept before marking starts, so while marking a non-NULL
 * handle always names an object that was alive at the last cycle.
 */
#include <stdatomic.h>
#include <stddef.h>

#include "../base/throw.h"
#include "../heap/span.h"
#include "../heap/type.h"
#include "../mutator/safepoint.h"
#include "../mutator/thread.h"
#include "mark.h"
#include "special.h"
#include "sweep.h"
#include "weak.h"
#include "tricolor.h"

static const tc_type *handle_type; /* set by tc_init, read-only after */

int weak_init(void)
{
    handle_type = tc_type_new("tc_weak_handle", sizeof(void *), NULL, 0);
    return handle_type != NULL ? 0 : TC_ENOMEM;
}

TC_API void *tc_weak_new(void *obj)
{
    thread_ctx *t = tls_thread;
    if (t == NULL)
        throw("tc_weak_new: the calling thread is not attached");
    span *s = span_of_heap((uintptr_t)obj);
    if (s == NULL)
        return NULL;
    size_t idx = span_is_large(s) ? 0 : span_object_index(s, (uintptr_t)obj);
    if (!span_slot_allocated(s, idx))
        return NULL;
    uintptr_t base = span_object_base(s, idx);
    /* Allocate first: no allocation under specials_lock.  If the object has
     * a handle already, this one is garbage. */
    void **fresh = tc_new(handle_type);
    if (fresh == NULL)
        return NULL;
    *fresh = (void *)base;
    t->cache.nopreempt++;
    specials_lock_acquire();
    void **handle = NULL;
    special *sp = special_find_locked(s, (uint32_t)idx, SPECIAL_WEAK);
    if (sp != NULL) {
        handle = sp->u.weak.handle;
    } else if ((sp = special_alloc()) != NULL) {
        sp->index = (uint32_t)idx;
        sp->kind = SPECIAL_WEAK;
        sp->u.weak.handle = fresh;
        special_insert_locked(s, sp);
        handle = fresh;
    }
    specials_lock_release();
    t->cache.nopreempt--;
    return handle;
}

TC_API void *tc_weak_get(const void *weak)
{
    thread_ctx *t = tls_thread;
    if (t == NULL)
        throw("tc_weak_get: the calling thread is not attached");
    if (weak == NULL || tc_base(weak) != weak || tc_type_of(weak) != handle_type)
        throw_addr("tc_weak_get: not a weak handle from tc_weak_new", weak);
    void *const *h = weak;
    t->cache.nopreempt++;
    void *p = __atomic_load_n(h, __ATOMIC_ACQUIRE);
    if (p != NULL) {
        if (atomic_load_explicit(&gc_phase_now, memory_order_relaxed) != GC_OFF) {
            mark_pointer((uintptr_t)p, &t->work);
            gcwork_dispose(&t->work);
        } else {
            span *s = span_of_heap((uintptr_t)p);
            if (s != NULL)
                sweep_ensure(s);
            p = __atomic_load_n(h, __ATOMIC_ACQUIRE);
        }
    }
    t->cache.nopreempt--;
    tc_safepoint();
    return p;
}
