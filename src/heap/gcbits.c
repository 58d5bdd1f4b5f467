/*
 * gcbits.c -- bitmaps for spans, by epoch.
 *
 * Design (Go's gcBits arenas): sweeping a span makes its mark bits the new
 * allocation bits and gives it fresh, zeroed mark bits.  Freeing the old
 * allocation bits at once would be unsafe: tc_base, the heap walker and
 * conservative scanning read a span's bits without locks.  So bitmaps are
 * bump-allocated from GCBITS_ARENA_BYTES arenas grouped by epoch, an epoch
 * being one GC cycle.  Bits allocated in epoch e are mark bits during cycle
 * e + 1, allocation bits until the sweep of cycle e + 2, and unreferenced
 * after it; the arenas of an epoch are recycled GCBITS_EPOCHS cycles later,
 * with the world stopped, when no reader can be mid-read (tc_base runs in
 * NOPREEMPT_TEXT; heap walks hold gcbits_walkers).
 *
 * Invariants: every arena is on exactly one list (an epoch's or free).
 * Locking: gcbits_lock (rank LOCK_RANK_FIXALLOC) for arena changes; the
 * bump pointer of the current arena is atomic.
 */
#include "gcbits.h"

#include <stdatomic.h>
#include <string.h>

#include "../base/lock.h"
#include "../base/throw.h"
#include "../offheap/persistent_alloc.h"

typedef struct gcbits_arena {
    struct gcbits_arena *next;
    _Atomic size_t used;   /* bytes of data handed out */
    char pad[48];
    char data[GCBITS_ARENA_BYTES - 64];
} gcbits_arena;

static lock_t gcbits_lock = LOCK_INIT(LOCK_RANK_FIXALLOC);
static gcbits_arena *epochs[GCBITS_EPOCHS]; /* under gcbits_lock */
static unsigned cur;                        /* under gcbits_lock */
static _Atomic(gcbits_arena *) current;     /* the arena being bumped */
static gcbits_arena *free_arenas;           /* under gcbits_lock */
_Atomic int gcbits_walkers;

void gcbits_init(void)
{
    lock_register(&gcbits_lock);
    memset(epochs, 0, sizeof epochs);
    cur = 0;
    atomic_store(&current, NULL);
    free_arenas = NULL;
    atomic_store(&gcbits_walkers, 0);
}

static uint64_t *arena_bump(gcbits_arena *a, size_t bytes)
{
    if (a == NULL)
        return NULL;
    size_t at = atomic_fetch_add_explicit(&a->used, bytes, memory_order_relaxed);
    if (at + bytes > sizeof a->data)
        return NULL;
    return (uint64_t *)(a->data + at);
}

uint64_t *gcbits_alloc(size_t nwords)
{
    size_t bytes = nwords * sizeof(uint64_t);
    CHECK(bytes > 0 && bytes <= sizeof(((gcbits_arena *)0)->data));
    uint64_t *p = arena_bump(atomic_load_explicit(&current, memory_order_acquire), bytes);
    if (p != NULL)
        return p;
    lock_acquire(&gcbits_lock);
    p = arena_bump(atomic_load(&current), bytes);
    if (p == NULL) {
        gcbits_arena *a = free_arenas;
        if (a != NULL) {
            free_arenas = a->next;
            memset(a->data, 0, sizeof a->data);
        } else {
            a = persistent_alloc(sizeof *a, 64, MEMSTAT_GC);
        }
        if (a != NULL) {
            atomic_store(&a->used, 0);
            a->next = epochs[cur];
            epochs[cur] = a;
            atomic_store_explicit(&current, a, memory_order_release);
            p = arena_bump(a, bytes);
        }
    }
    lock_release(&gcbits_lock);
    return p;
}

void gcbits_next_epoch(void)
{
    if (atomic_load(&gcbits_walkers) > 0)
        return;
    lock_acquire(&gcbits_lock);
    cur = (cur + 1) % GCBITS_EPOCHS;
    /* The epoch this slot held is GCBITS_EPOCHS cycles old. */
    while (epochs[cur] != NULL) {
        gcbits_arena *a = epochs[cur];
        epochs[cur] = a->next;
        a->next = free_arenas;
        free_arenas = a;
    }
    atomic_store(&current, NULL);
    lock_release(&gcbits_lock);
}
