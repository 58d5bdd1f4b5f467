/*
 * workbuf.c -- mark work buffers and their global lists.
 *
 * Design (Go's mgcwork.go): grey objects wait in fixed-size workbufs of
 * WORKBUF_OBJS entries.  Each marker (a mutator thread doing assists or
 * flushing its barrier buffer, or a mark worker) keeps two of them: puts
 * and gets work on w1, and swaps with w2 when w1 is full or empty, so it
 * touches the global lists at most once per buffer's worth of work.  Full
 * buffers go to `full`, empty ones to `empty`; both are lock-free stacks
 * (lfstack) whose head packs a node pointer (48 bits) with a 16-bit
 * counter against ABA.  Workbufs are never freed before tc_shutdown (they
 * come from persistent memory), so a node read during a racing pop is
 * always readable.
 *
 * Invariants: a workbuf is on at most one list or in one gcwork; a buffer
 * on `full` has nobj > 0; a buffer on `empty` has nobj == 0.
 * Locking: none; the lists are lock-free, a gcwork belongs to its owner.
 */
#include "workbuf.h"

#include <string.h>

#include "../base/lock.h"
#include "../base/throw.h"
#include "../offheap/persistent_alloc.h"
#include "tricolor.h"

lfstack workbuf_full_list;
static lfstack empty_list;
static lock_t workbuf_grow_lock = LOCK_INIT(LOCK_RANK_FIXALLOC);

static void lf_push(lfstack *s, workbuf *b)
{
    uint64_t old = atomic_load_explicit(&s->head, memory_order_relaxed);
    for (;;) {
        __atomic_store_n(&b->next, (workbuf *)(uintptr_t)(old & LF_PTR_MASK), __ATOMIC_RELAXED);
        uint64_t neu = (uint64_t)(uintptr_t)b | (((old >> LF_PTR_BITS) + 1) << LF_PTR_BITS);
        if (atomic_compare_exchange_weak_explicit(&s->head, &old, neu, memory_order_release,
                                                  memory_order_relaxed))
            return;
    }
}

static workbuf *lf_pop(lfstack *s)
{
    uint64_t old = atomic_load_explicit(&s->head, memory_order_acquire);
    for (;;) {
        workbuf *b = (workbuf *)(uintptr_t)(old & LF_PTR_MASK);
        if (b == NULL)
            return NULL;
        /* b stays readable even if another thread pops it first: workbufs
         * are never unmapped; the counter makes the CAS fail then. */
        workbuf *next = __atomic_load_n(&b->next, __ATOMIC_RELAXED);
        uint64_t neu = (uint64_t)(uintptr_t)next | (((old >> LF_PTR_BITS) + 1) << LF_PTR_BITS);
        if (atomic_compare_exchange_weak_explicit(&s->head, &old, neu, memory_order_acquire,
                                                  memory_order_acquire))
            return b;
    }
}

int workbuf_init(void)
{
    lock_register(&workbuf_grow_lock);
    atomic_store(&workbuf_full_list.head, 0);
    atomic_store(&empty_list.head, 0);
    /* The first cycle should not depend on memory being had mid-cycle. */
    char *chunk = persistent_alloc(WORKBUF_CHUNK_BYTES, 64, MEMSTAT_GC);
    if (chunk == NULL)
        return TC_ENOMEM;
    for (size_t i = 0; i < WORKBUF_CHUNK_BYTES / sizeof(workbuf); i++)
        lf_push(&empty_list, (workbuf *)(chunk + i * sizeof(workbuf)));
    return 0;
}

void workbuf_reset_all(void)
{
    /* The buffers themselves go with persistent memory. */
    atomic_store(&workbuf_full_list.head, 0);
    atomic_store(&empty_list.head, 0);
}

/* An empty workbuf, from the empty list or freshly made. */
static workbuf *workbuf_get_empty(void)
{
    workbuf *b = lf_pop(&empty_list);
    if (b != NULL)
        return b;
    lock_acquire(&workbuf_grow_lock);
    b = lf_pop(&empty_list);
    if (b == NULL) {
        char *chunk = persistent_alloc(WORKBUF_CHUNK_BYTES, 64, MEMSTAT_GC);
        if (chunk == NULL)
            throw("out of memory for mark work buffers");
        size_t n = WORKBUF_CHUNK_BYTES / sizeof(workbuf);
        for (size_t i = 1; i < n; i++)
            lf_push(&empty_list, (workbuf *)(chunk + i * sizeof(workbuf)));
        b = (workbuf *)chunk;
    }
    lock_release(&workbuf_grow_lock);
    b->nobj = 0;
    return b;
}

static void workbuf_put_full(gcwork *gw, workbuf *b)
{
    DCHECK(b->nobj > 0);
    lf_push(&workbuf_full_list, b);
    gw->flushed_work = true;
}

void gcwork_put_slow(gcwork *gw, uintptr_t obj)
{
    workbuf *b = gw->w1;
    if (b == NULL) {
        gw->w1 = b = workbuf_get_empty();
        gw->w2 = workbuf_get_empty();
    } else {
        /* w1 is full: swap with the spare; if it is full too, ship one. */
        gw->w1 = gw->w2;
        gw->w2 = b;
        b = gw->w1;
        if (b->nobj == WORKBUF_OBJS) {
            workbuf_put_full(gw, b);
            gw->w1 = b = workbuf_get_empty();
        }
    }
    b->obj[b->nobj++] = obj;
}

uintptr_t gcwork_get_slow(gcwork *gw)
{
    workbuf *b = gw->w1;
    if (b == NULL) {
        gw->w1 = workbuf_get_empty();
        gw->w2 = workbuf_get_empty();
        b = gw->w1;
    }
    if (gw->w2->nobj > 0) {
        gw->w1 = gw->w2;
        gw->w2 = b;
        b = gw->w1;
        return b->obj[--b->nobj];
    }
    workbuf *f = lf_pop(&workbuf_full_list);
    if (f == NULL)
        return 0;
    lf_push(&empty_list, b);
    gw->w1 = b = f;
    return b->obj[--b->nobj];
}

void gcwork_dispose(gcwork *gw)
{
    workbuf *bufs[2] = {gw->w1, gw->w2};
    for (int i = 0; i < 2; i++) {
        workbuf *b = bufs[i];
        if (b == NULL)
            continue;
        if (b->nobj > 0)
            workbuf_put_full(gw, b);
        else
            lf_push(&empty_list, b);
    }
    gw->w1 = gw->w2 = NULL;
}

void gcwork_balance(gcwork *gw)
{
    if (!workbuf_full_empty() || gw->w1 == NULL)
        return;
    if (gw->w2 != NULL && gw->w2->nobj > 0) {
        workbuf_put_full(gw, gw->w2);
        gw->w2 = workbuf_get_empty();
    } else if (gw->w1->nobj > 4) {
        /* Give away half of w1. */
        workbuf *b = workbuf_get_empty();
        size_t half = gw->w1->nobj / 2;
        memcpy(b->obj, gw->w1->obj + gw->w1->nobj - half, half * sizeof(uintptr_t));
        b->nobj = half;
        gw->w1->nobj -= half;
        workbuf_put_full(gw, b);
    }
}

bool gcwork_empty(const gcwork *gw)
{
    return (gw->w1 == NULL || gw->w1->nobj == 0) && (gw->w2 == NULL || gw->w2->nobj == 0);
}

