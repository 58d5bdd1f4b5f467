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

struct span;

/* Nonzero (read relaxed after each object is published) sends the object
 * to malloc_post_hook.  Written by the collector (gc/mark.h names the
 * bits).  The hook must be NOPREEMPT_TEXT. */
extern int alloc_flags;
extern void (*malloc_post_hook)(struct span *s, size_t idx);

#endif
