/*
 * fixalloc.h -- a free-list allocator of fixed-size off-heap records
 * (spans, thread caches, span bitmaps), as Go's fixalloc.  See fixalloc.c.
 */
#ifndef TC_OFFHEAP_FIXALLOC_H
#define TC_OFFHEAP_FIXALLOC_H

#include <stdbool.h>
#include <stddef.h>

#include "../base/lock.h"
#include "../sys/sys.h"

#define FIXALLOC_CHUNK_SIZE (16 * 1024)

typedef struct fixalloc_link {
    struct fixalloc_link *next;
} fixalloc_link;

typedef struct fixalloc {
    size_t size;            /* record size, a multiple of 8, at least sizeof(fixalloc_link) */
    /* Called, with `lock` held, the first time a record is handed out (never
     * when a freed one is reused): the all-spans list hooks in here. */
    void (*first)(void *arg, void *rec);
    void *first_arg;
    bool zero;              /* zero records on reuse; false keeps fields such as sweepgen */
    memstat_kind stat;
    lock_t lock;            /* rank LOCK_RANK_FIXALLOC; guards everything below */
    fixalloc_link *free;    /* records given back */
    char *chunk;            /* unused part of the current chunk */
    size_t nchunk;          /* its length in bytes */
    size_t inuse;           /* records handed out and not freed */
} fixalloc;

void  fixalloc_init(fixalloc *f, size_t size, bool zero, memstat_kind stat,
                    void (*first)(void *arg, void *rec), void *first_arg);
void *fixalloc_alloc(fixalloc *f);      /* NULL when out of memory */
void  fixalloc_free(fixalloc *f, void *rec);

/* Size-bucketed records for per-span metadata whose size depends on the
 * span (mark bits, alloc bits, type ids): powers of two from 8 bytes to
 * BLOCKALLOC_MAX bytes, zeroed. */
#define BLOCKALLOC_MAX 2048
void  blockalloc_init(void);
void *blockalloc_alloc(size_t size);
void  blockalloc_free(void *p, size_t size);

#endif
