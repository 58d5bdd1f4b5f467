/*
 * fixalloc.c -- fixed-size off-heap records.
 *
 * Design: records are carved from FIXALLOC_CHUNK_SIZE chunks of persistent
 * memory (so they are never returned to the OS before tc_shutdown) and
 * recycled through an intrusive free list.  A record's first word is the
 * free-list link while it is free.
 *
 * Span records are allocated with zero = false: a recycled span keeps its
 * sweep generation, so a sweeper holding a stale pointer cannot mistake it
 * for a span needing sweeping (the same reason as Go's spanalloc).
 *
 * Invariant: inuse = records handed out - records freed.
 * Locking: each fixalloc has its own lock (rank LOCK_RANK_FIXALLOC); the
 * `first` hook runs under it and may take only the persistent lock.
 */
#include "fixalloc.h"

#include <string.h>

#include "../base/bits.h"
#include "../base/throw.h"
#include "persistent_alloc.h"

void fixalloc_init(fixalloc *f, size_t size, bool zero, memstat_kind stat,
                   void (*first)(void *arg, void *rec), void *first_arg)
{
    CHECK(size >= sizeof(fixalloc_link) && size <= FIXALLOC_CHUNK_SIZE);
    memset(f, 0, sizeof *f);
    f->size = align_up(size, 8);
    f->zero = zero;
    f->stat = stat;
    f->first = first;
    f->first_arg = first_arg;
    lock_init(&f->lock, LOCK_RANK_FIXALLOC);
}

void *fixalloc_alloc(fixalloc *f)
{
    void *rec;
    lock_acquire(&f->lock);
    if (f->free != NULL) {
        rec = f->free;
        f->free = f->free->next;
        if (f->zero)
            memset(rec, 0, f->size);
        else
            ((fixalloc_link *)rec)->next = NULL;
        f->inuse++;
        lock_release(&f->lock);
        return rec;
    }
    if (f->nchunk < f->size) {
        size_t n = FIXALLOC_CHUNK_SIZE / f->size * f->size;
        char *c = persistent_alloc(n, 64, f->stat);
        if (c == NULL) {
            lock_release(&f->lock);
            return NULL;
        }
        f->chunk = c;
        f->nchunk = n;
    }
    rec = f->chunk; /* fresh persistent memory: already zero */
    f->chunk += f->size;
    f->nchunk -= f->size;
    if (f->first != NULL)
        f->first(f->first_arg, rec);
    f->inuse++;
    lock_release(&f->lock);
    return rec;
}

void fixalloc_free(fixalloc *f, void *rec)
{
    lock_acquire(&f->lock);
    CHECK(f->inuse > 0);
    f->inuse--;
    fixalloc_link *l = rec;
    l->next = f->free;
    f->free = l;
    lock_release(&f->lock);
}

/* ---- blockalloc: power-of-two buckets over fixalloc ---------------------- */

#define BLOCK_BUCKETS 9 /* 8, 16, ..., BLOCKALLOC_MAX bytes */
static fixalloc block_buckets[BLOCK_BUCKETS];

static unsigned block_bucket(size_t size)
{
    unsigned b = 0;
    while (((size_t)8 << b) < size)
        b++;
    CHECK(b < BLOCK_BUCKETS);
    return b;
}

void blockalloc_init(void)
{
    for (unsigned b = 0; b < BLOCK_BUCKETS; b++)
        fixalloc_init(&block_buckets[b], (size_t)8 << b, true, MEMSTAT_GC, NULL, NULL);
}

void *blockalloc_alloc(size_t size)
{
    return fixalloc_alloc(&block_buckets[block_bucket(size)]);
}

void blockalloc_free(void *p, size_t size)
{
    fixalloc_free(&block_buckets[block_bucket(size)], p);
}
