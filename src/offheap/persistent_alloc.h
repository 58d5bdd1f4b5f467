/*
 * persistent_alloc.h -- bump allocation of runtime metadata that is never
 * freed (Go's persistentalloc).  See persistent_alloc.c.
 */
#ifndef TC_OFFHEAP_PERSISTENT_ALLOC_H
#define TC_OFFHEAP_PERSISTENT_ALLOC_H

#include <stddef.h>

#include "../sys/sys.h"

/* Zeroed memory of `size` bytes aligned to `align` (a power of two up to
 * PERSISTENT_MAX_ALIGN), charged to `stat`; NULL when the OS refuses.  The
 * memory lives until persistent_free_all (tc_shutdown). */
void *persistent_alloc(size_t size, size_t align, memstat_kind stat);

void persistent_init(void); /* tc_init: registers the lock for fork() */

/* tc_shutdown only: returns every chunk to the OS. */
void persistent_free_all(void);

#define PERSISTENT_CHUNK_SIZE  (256 * 1024) /* bytes obtained from the OS at a time */
#define PERSISTENT_DIRECT_SIZE (64 * 1024)  /* requests this large get their own mapping */
#define PERSISTENT_MAX_ALIGN   64

#endif
