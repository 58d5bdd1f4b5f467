/*
 * malloc.h -- the allocation entry points below the API.  See malloc.c.
 */
#ifndef TC_HEAP_MALLOC_H
#define TC_HEAP_MALLOC_H

#include <stdbool.h>
#include <stddef.h>

#include "tricolor.h"

/* Allocates size bytes (zeroed); t is the element type or NULL (scanned
 * conservatively unless noscan).  NULL when memory cannot be had. */
void *malloc_gc(size_t size, const tc_type *t, bool noscan);

/* Where a size-0 request points: a valid, never-dereferenced address
 * outside the heap. */
extern char zerobase[16];

#endif
