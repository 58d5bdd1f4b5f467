/*
 * workbuf.h -- mark work buffers (Go's gcWork and workbufs).  See
 * workbuf.c.
 */
#ifndef TC_GC_WORKBUF_H
#define TC_GC_WORKBUF_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WORKBUF_BYTES 2048
#define WORKBUF_OBJS ((WORKBUF_BYTES - 2 * sizeof(void *)) / sizeof(uintptr_t))
#define WORKBUF_CHUNK_BYTES (64 * 1024) /* workbufs are made this many bytes at a time */

/* A fixed-size buffer of grey object addresses, off-heap.  While on a
 * global list it belongs to the list; otherwise to one gcwork. */
typedef struct workbuf {
    struct workbuf *next;           /* link on a global list */
    size_t nobj;                    /* entries in use */
    uintptr_t obj[WORKBUF_OBJS];
} workbuf;

/* What the batch marking of a barrier buffer (mark.c, mark_pointers)
 * remembers of a span: its object range, divisor and mark bits. */
typedef struct span_memo {
    uintptr_t lo, len;       /* [lo, lo + len): the span's object range */
    const uint64_t *bits;    /* its mark bits */
    uintptr_t divmul;        /* 0 for a large span: one object */
} span_memo;
#define GCWORK_MEMO_SLOTS 32

/* A marker's local work: two buffers used as one stack, with one buffer
 * of hysteresis before the global lists are touched (Go's wbuf1/wbuf2).
 * Owned by one thread (a mutator's context or a mark worker). */
typedef struct gcwork {
    workbuf *w1, *w2;               /* NULL until first use */
    uint64_t bytes_marked;          /* bytes of objects this worker blackened, not yet flushed */
    uint64_t scan_work;             /* bytes scanned, not yet flushed */
    bool flushed_work;              /* put a non-empty buffer on the full list since last asked */
    /* mark_pointers' table of span memos, valid during one call only: kept
     * here rather than in its 1 KiB stack frame (a barrier slow path may
     * run deep in a program's recursion), after the fields every marker
     * touches. */
    span_memo memo_table[GCWORK_MEMO_SLOTS];
} gcwork;

int  workbuf_init(void);            /* tc_init: one chunk made up front; TC_ENOMEM */
void workbuf_reset_all(void);       /* tc_shutdown: forget the lists */

/* The global lists: Treiber stacks whose head packs a pointer (low 48
 * bits) with a counter against ABA. */
typedef struct lfstack {
    _Atomic uint64_t head;
} lfstack;
#define LF_PTR_BITS 48
#define LF_PTR_MASK (((uint64_t)1 << LF_PTR_BITS) - 1)
extern lfstack workbuf_full_list;

void gcwork_put_slow(gcwork *gw, uintptr_t obj);
uintptr_t gcwork_get_slow(gcwork *gw);

/* Pushes a grey object.  Never fails: aborts if no workbuf memory.  The
 * fast path (room in w1) is inline: markers push every object they grey. */
static inline void gcwork_put(gcwork *gw, uintptr_t obj)
{
    workbuf *b = gw->w1;
    if (__builtin_expect(b != NULL && b->nobj < WORKBUF_OBJS, 1)) {
        b->obj[b->nobj++] = obj;
        return;
    }
    gcwork_put_slow(gw, obj);
}

/* Pops a grey object, taking a full buffer from the global list when the
 * local ones are empty; 0 when there is none anywhere. */
static inline uintptr_t gcwork_get(gcwork *gw)
{
    workbuf *b = gw->w1;
    if (__builtin_expect(b != NULL && b->nobj > 0, 1))
        return b->obj[--b->nobj];
    return gcwork_get_slow(gw);
}

/* Gives the local buffers back: non-empty ones to the full list, empty
 * ones to the empty list. */
void gcwork_dispose(gcwork *gw);
/* If the global list is empty and this worker has spare work, shares it. */
void gcwork_balance(gcwork *gw);
bool gcwork_empty(const gcwork *gw);

/* Whether no full buffer waits on the global list. */
static inline bool workbuf_full_empty(void)
{
    return (atomic_load_explicit(&workbuf_full_list.head, memory_order_acquire) & LF_PTR_MASK) == 0;
}

#endif
