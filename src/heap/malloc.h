/*
 * malloc.h -- the allocation entry points below the API.  See malloc.c.
 */
#ifndef TC_HEAP_MALLOC_H
#define TC_HEAP_MALLOC_H

#include <stdbool.h>
#include <stddef.h>

#include "tricolor.h"

/* Where a size-0 request points: a valid, never-dereferenced address
 * outside the heap. */
extern char zerobase[16];

#endif
