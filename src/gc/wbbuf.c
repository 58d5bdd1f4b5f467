/*
 * wbbuf.c -- the buffered write barrier (seed 002, Go's mwbbuf.go).
 *
 * The fast path is tc_store in tricolor.h, inlined into the program: while
 * tc__wb_enabled is set it appends the slot's old value and the new value
 * to the thread's buffer of WBBUF_ENTRIES entries and stores.  Only a full
 * buffer calls tc__wb_slow, which shades every heap pointer in the buffer
 * (marks it grey in the thread's own work buffers, published to the global
 * list at once so mark workers see it), then does the store.  Shading both
 * the old and the new value is Go's hybrid barrier: with stacks scanned
 * once at the start of the cycle and objects allocated black, no reachable
 * object can be hidden from the collector.
 *
 * checkptr mode (Go's cgocheck=2) gives every buffer no room, so every
 * barriered store arrives here, and the slot is checked: a heap pointer
 * stored where the collector never looks (not the heap, a registered root,
 * global data or a thread's stack) is reported with both addresses.
 *
 * Ownership: a buffer belongs to its thread; the collector flushes every
 * buffer with the world stopped before marking can end.
 */
#include "wbbuf.h"

#include <stdio.h>
#include <string.h>

#include "../base/options.h"
#include "../base/throw.h"
#include "../heap/span.h"
#include "../mutator/safepoint.h"
#include "mark.h"
#include "roots.h"
#include "tricolor.h"

TC_API int tc__wb_enabled;

void wbbuf_set_enabled(int on)
{
    __atomic_store_n(&tc__wb_enabled, on || options.checkptr, __ATOMIC_RELAXED);
}

void wbbuf_flush(thread_ctx *t, gcwork *gw)
{
    if (t->wb.next != t->wb_entries &&
        atomic_load_explicit(&gc_phase_now, memory_order_relaxed) != GC_OFF) {
        mark_pointers(t->wb_entries, (size_t)(t->wb.next - t->wb_entries), gw);
    }
    thread_wbuf_reset(t);
}

static COLD void checkptr_fail(uintptr_t slot, uintptr_t value)
{
    char msg[200];
    snprintf(msg, sizeof msg,
             "checkptr: heap pointer 0x%lx stored at 0x%lx, which is not in the GC heap, a registered "
             "root, global data or a thread's stack: the collector would never see it",
             (unsigned long)value, (unsigned long)slot);
    throw(msg);
}

static void checkptr_check(void *slot, const void *value)
{
    if (span_of_heap((uintptr_t)value) == NULL)
        return; /* not a heap pointer */
    if (span_of_heap((uintptr_t)slot) != NULL || roots_contains((uintptr_t)slot))
        return;
    checkptr_fail((uintptr_t)slot, (uintptr_t)value);
}

TC_API void tc__wb_slow(void *slot, const void *value)
{
    thread_ctx *t = tls_thread;
    if (t == NULL)
        throw("barriered store from a thread that is not attached (call tc_thread_attach first)");
    if (options.checkptr)
        checkptr_check(slot, value);
    t->cache.nopreempt++;
    if (atomic_load_explicit(&gc_phase_now, memory_order_relaxed) != GC_OFF) {
        wbbuf_flush(t, &t->work);
        uintptr_t old = __atomic_load_n((uintptr_t *)slot, __ATOMIC_RELAXED);
        if (old >= 4096)
            mark_pointer(old, &t->work);
        if ((uintptr_t)value >= 4096)
            mark_pointer((uintptr_t)value, &t->work);
        /* Publish the grey objects so that mark workers can take them. */
        gcwork_dispose(&t->work);
    } else {
        thread_wbuf_reset(t);
    }
    __atomic_store_n((void **)slot, (void *)value, __ATOMIC_RELAXED);
    t->cache.nopreempt--;
    tc_safepoint();
}

TC_API void tc_memmove(void *dst, const void *src, size_t n)
{
    if (__atomic_load_n(&tc__wb_enabled, __ATOMIC_RELAXED)) {
        thread_ctx *t = tls_thread;
        if (t == NULL)
            throw("tc_memmove: the calling thread is not attached");
        /* Shade what the destination loses and what it gains, a word at a
         * time (the bulk form of the barrier), then copy. */
        uintptr_t d = (uintptr_t)dst, s = (uintptr_t)src;
        size_t words = n / sizeof(void *);
        t->cache.nopreempt++;
        if (atomic_load_explicit(&gc_phase_now, memory_order_relaxed) != GC_OFF &&
            (d % sizeof(void *)) == 0 && (s % sizeof(void *)) == 0) {
            for (size_t i = 0; i < words; i++) {
                uintptr_t old = __atomic_load_n((uintptr_t *)d + i, __ATOMIC_RELAXED);
                uintptr_t neu = __atomic_load_n((uintptr_t *)s + i, __ATOMIC_RELAXED);
                if (old >= 4096)
                    mark_pointer(old, &t->work);
                if (neu >= 4096)
                    mark_pointer(neu, &t->work);
            }
            gcwork_dispose(&t->work);
        }
        if (options.checkptr)
            for (size_t i = 0; i < words; i++)
                checkptr_check((void **)dst + i, ((void *const *)src)[i]);
        memmove(dst, src, n);
        t->cache.nopreempt--;
        tc_safepoint();
        return;
    }
    memmove(dst, src, n);
}

TC_API int tc_cas(void *slot, const void *expected, const void *desired)
{
    if (__atomic_load_n(&tc__wb_enabled, __ATOMIC_RELAXED)) {
        thread_ctx *t = tls_thread;
        if (t == NULL)
            throw("tc_cas: the calling thread is not attached");
        if (options.checkptr)
            checkptr_check(slot, desired);
        t->cache.nopreempt++;
        if (atomic_load_explicit(&gc_phase_now, memory_order_relaxed) != GC_OFF) {
            /* Whichever value the slot loses is shaded: the expected one if
             * the swap happens, nothing otherwise (the slot keeps its value). */
            if ((uintptr_t)expected >= 4096)
                mark_pointer((uintptr_t)expected, &t->work);
            if ((uintptr_t)desired >= 4096)
                mark_pointer((uintptr_t)desired, &t->work);
            gcwork_dispose(&t->work);
        }
        void *e = (void *)expected;
        int ok = __atomic_compare_exchange_n((void **)slot, &e, (void *)desired, false,
                                             __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
        t->cache.nopreempt--;
        return ok;
    }
    void *e = (void *)expected;
    return __atomic_compare_exchange_n((void **)slot, &e, (void *)desired, false, __ATOMIC_SEQ_CST,
                                       __ATOMIC_SEQ_CST);
}
