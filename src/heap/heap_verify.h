/*
 * heap_verify.h -- the whole-heap invariant checker.  See heap_verify.c.
 */
#ifndef TC_HEAP_HEAP_VERIFY_H
#define TC_HEAP_HEAP_VERIFY_H

#include <stddef.h>
#include <stdint.h>

typedef struct heap_census {
    uint64_t spans_in_use, pages_in_use, objects, object_bytes;
} heap_census;

/* Checks, under the heap lock, with no thread allocating:
 *  - pages in use summed over the all-spans list, plus the pages in the
 *    page cache, = the page allocator's count;
 *  - every span record appears in allspans once; every in-use span passes
 *    span_verify, owns the page map entries of its pages and has its
 *    page_in_use bit; no other page maps to a span;
 *  - every listed arena is in the index at its address;
 *  - the page allocator's summaries and counters match its bitmaps;
 *  - every span on an mcentral list is in use, of that class, and on the
 *    list of the right fullness.
 * Prints each violation on stderr; returns how many were found.  *census
 * (may be NULL) receives what was counted. */
size_t heap_verify(heap_census *census);

#endif
