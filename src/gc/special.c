/*
 * special.c -- off-heap records attached to heap objects (Go's specials):
 * finalizers and weak handles.
 *
 * Design: each span keeps its records in a singly linked list sorted by
 * (object index, kind), so what belongs to one object is adjacent and the
 * sweeper walks the list once alongside the mark bits.  Records live in a
 * fixalloc, off the GC heap: the collector never scans them as heap
 * objects, and the pointers they hold are roots that marking visits here
 * (specials_mark_roots), as Go's markrootSpans does:
 *
 *   - a finalizer record keeps alive what its object references, and its
 *     argument, but not the object itself, which must be able to become
 *     unreachable.  So when A references B and both are finalizable, B is
 *     marked through A and only A's finalizer runs in this cycle; an
 *     object on a cycle of references through itself is never collected.
 *   - a weak record keeps its handle object alive (one handle per object,
 *     reused by every tc_weak_new), not the target.
 *
 * Records are created and removed by mutators at any time (tc_set_finalizer,
 * tc_weak_new); the sweeper consumes those of dead objects.  A record added
 * while the collector marks may land in a span that specials_mark_roots
 * already passed, so its creator does the marking itself
 * (special_mark_finalizer; a weak handle is allocated black).
 *
 * Sweeping (specials_sweep) runs before the span's mark bits are read.  For
 * an unmarked object: its weak handles are cleared first (a weak handle
 * never returns an object found unreachable, even one a finalizer later
 * revives); a finalizer record is removed, the object's mark bit set so the
 * span keeps it, and the finalizer queued -- the queue is a root, so the
 * object and what it references stay alive until the finalizer returned.
 * An object whose records are all gone is freed by a later sweep like any
 * other.
 *
 * Locking: one global specials_lock (rank LOCK_RANK_SPECIALS) guards every
 * span's list and the record allocator.  Holders reach no safepoint and
 * allocate nothing in the GC heap.  Span lists are read without the lock
 * only to skip spans with none (span->specials is atomic).
 */
#include "special.h"

#include "../base/lock.h"
#include "../base/throw.h"
#include "../heap/page_heap.h"
#include "../offheap/fixalloc.h"
#include "finalizer.h"
#include "mark.h"

static lock_t specials_lock = LOCK_INIT(LOCK_RANK_SPECIALS);
static fixalloc special_alloc_fa; /* under specials_lock (its own lock is inner) */
_Atomic uint64_t specials_weak_live;

void specials_init(void)
{
    lock_register(&specials_lock);
    fixalloc_init(&special_alloc_fa, sizeof(special), true, MEMSTAT_GC, NULL, NULL);
    atomic_store(&specials_weak_live, 0);
}

void specials_lock_acquire(void) { lock_acquire(&specials_lock); }
void specials_lock_release(void) { lock_release(&specials_lock); }

special *special_alloc(void) { return fixalloc_alloc(&special_alloc_fa); }

special *special_find_locked(span *s, uint32_t idx, special_kind kind)
{
    for (special *sp = atomic_load_explicit(&s->specials, memory_order_relaxed); sp != NULL; sp = sp->next) {
        if (sp->index > idx || (sp->index == idx && sp->kind > kind))
            return NULL;
        if (sp->index == idx && sp->kind == kind)
            return sp;
    }
    return NULL;
}

void special_insert_locked(span *s, special *sp)
{
    special *prev = NULL, *cur = atomic_load_explicit(&s->specials, memory_order_relaxed);
    while (cur != NULL && (cur->index < sp->index || (cur->index == sp->index && cur->kind < sp->kind)))
        prev = cur, cur = cur->next;
    sp->next = cur;
    if (prev == NULL)
        atomic_store_explicit(&s->specials, sp, memory_order_release);
    else
        prev->next = sp;
    if (sp->kind == SPECIAL_WEAK)
        atomic_fetch_add_explicit(&specials_weak_live, 1, memory_order_relaxed);
}

void special_remove_locked(span *s, special *sp)
{
    special *prev = NULL, *cur = atomic_load_explicit(&s->specials, memory_order_relaxed);
    while (cur != NULL && cur != sp)
        prev = cur, cur = cur->next;
    CHECK(cur == sp);
    if (prev == NULL)
        atomic_store_explicit(&s->specials, sp->next, memory_order_release);
    else
        prev->next = sp->next;
    if (sp->kind == SPECIAL_WEAK)
        atomic_fetch_sub_explicit(&specials_weak_live, 1, memory_order_relaxed);
    fixalloc_free(&special_alloc_fa, sp);
}

void special_mark_finalizer(uintptr_t base, span *s, void *arg, gcwork *gw)
{
    if (!span_is_noscan(s)) {
        /* mark_scan_object counts the object as marked; it is not. */
        uint64_t before = gw->bytes_marked;
        mark_scan_object(base, gw);
        gw->bytes_marked = before;
    }
    if ((uintptr_t)arg >= 4096)
        mark_pointer((uintptr_t)arg, gw);
}

size_t specials_mark_roots(gcwork *gw)
{
    size_t n, scanned = 0;
    span *const *all = allspans_begin_read(&n);
    for (size_t k = 0; k < n; k++) {
        span *s = all[k];
        if (atomic_load_explicit(&s->specials, memory_order_acquire) == NULL)
            continue;
        lock_acquire(&specials_lock);
        if (atomic_load_explicit(&s->state, memory_order_acquire) == SPAN_IN_USE) {
            for (special *sp = atomic_load_explicit(&s->specials, memory_order_relaxed); sp != NULL;
                 sp = sp->next) {
                if (sp->kind == SPECIAL_FINALIZER) {
                    special_mark_finalizer(span_object_base(s, sp->index), s, sp->u.fin.arg, gw);
                    scanned += s->elemsize;
                } else {
                    mark_pointer((uintptr_t)sp->u.weak.handle, gw);
                }
            }
        }
        lock_release(&specials_lock);
    }
    allspans_end_read();
    return scanned;
}

void specials_for_each(void (*fn)(span *s, const special *sp, void *arg), void *arg)
{
    size_t n;
    span *const *all = allspans_begin_read(&n);
    for (size_t k = 0; k < n; k++) {
        span *s = all[k];
        if (atomic_load_explicit(&s->specials, memory_order_acquire) == NULL)
            continue;
        lock_acquire(&specials_lock);
        if (atomic_load_explicit(&s->state, memory_order_acquire) == SPAN_IN_USE)
            for (special *sp = atomic_load_explicit(&s->specials, memory_order_relaxed); sp != NULL;
                 sp = sp->next)
                fn(s, sp, arg);
        lock_release(&specials_lock);
    }
    allspans_end_read();
}

void specials_sweep(span *s)
{
    if (atomic_load_explicit(&s->specials, memory_order_acquire) == NULL)
        return;
    lock_acquire(&specials_lock);
    special *sp = atomic_load_explicit(&s->specials, memory_order_relaxed);
    while (sp != NULL) {
        special *next = sp->next;
        uint32_t idx = sp->index;
        if (!span_is_marked(s, idx)) {
            uintptr_t obj = span_object_base(s, idx);
            if (sp->kind == SPECIAL_WEAK) {
                __atomic_store_n(sp->u.weak.handle, NULL, __ATOMIC_RELEASE);
                special_remove_locked(s, sp);
            } else {
                /* Finalizer records sort before weak ones of the same
                 * object, but its handles must read NULL before the object
                 * is revived: clear them first. */
                for (special *w = next; w != NULL && w->index == idx; w = next) {
                    next = w->next;
                    if (w->kind == SPECIAL_WEAK) {
                        __atomic_store_n(w->u.weak.handle, NULL, __ATOMIC_RELEASE);
                        special_remove_locked(s, w);
                    }
                }
                finq_push(sp->u.fin.fn, (void *)obj, sp->u.fin.arg);
                special_remove_locked(s, sp);
                span_mark(s, idx); /* alive until the finalizer has run */
            }
        }
        sp = next;
    }
    lock_release(&specials_lock);
}
