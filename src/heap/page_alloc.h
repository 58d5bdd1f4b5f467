/*
 * page_alloc.h -- the page allocator: which 8 KiB pages of the heap are in
 * use, finding free runs fast, and which free pages were returned to the
 * OS.  See page_alloc.c for the design.
 */
#ifndef TC_HEAP_PAGE_ALLOC_H
#define TC_HEAP_PAGE_ALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "size_class.h"

#define CHUNK_PAGES 512                       /* pages per bitmap chunk */
#define CHUNK_SHIFT (PAGE_SHIFT + 9)          /* 4 MiB */
#define CHUNK_SIZE ((uintptr_t)1 << CHUNK_SHIFT)
#define HEAP_ADDR_BITS 48

/* One chunk's bitmaps, stored in its arena's metadata.  Bit i is page i of
 * the chunk.  alloc: 1 = in use.  scav: 1 = free and returned to the OS
 * (reads as zero).  Invariant: alloc & scav == 0.  Under the heap lock. */
typedef struct palloc_chunk {
    uint64_t alloc[CHUNK_PAGES / 64];
    uint64_t scav[CHUNK_PAGES / 64];
} palloc_chunk;

/* Everything below is called with the heap lock held. */

int  page_alloc_init(void);       /* reserves the summary levels; TC_ENOMEM */
void page_alloc_free_all(void);   /* tc_shutdown: releases them */

/* Commits the summary memory that [base, base + size) will need, before
 * its arenas are registered (so that adding them cannot fail half way).
 * Returns 0 or TC_ENOMEM. */
int page_alloc_commit(uintptr_t base, size_t size);

/* Adds [base, base + size), chunk-aligned, whose arenas are registered, as
 * free pages that were never used (so they count as released and zero).
 * Returns 0, or TC_ENOMEM if page_alloc_commit was not done and fails. */
int page_alloc_grow(uintptr_t base, size_t size);

/* First fit by address, backed pages first: the lowest run of npages free
 * pages that are all backed (for npages <= CHUNK_PAGES, within one chunk),
 * else the lowest run of free pages; marked in use.  Returns its address,
 * or 0 if no run is free; *scav_pages receives how many of its pages had
 * been returned to the OS (and so read as zero). */
uintptr_t page_alloc_alloc(size_t npages, size_t *scav_pages);

/* A page cache (Go's pageCache): one aligned block of PAGE_CACHE_PAGES
 * pages taken from the allocator at once, from which small spans are cut
 * without touching the bitmaps and summaries.  Its pages count as in use
 * for the page allocator.  Under the heap lock like everything here. */
#define PAGE_CACHE_PAGES 64
typedef struct page_cache {
    uintptr_t base;   /* first page of the block (aligned to 64 pages) */
    uint64_t free;    /* bit i: page i is the cache's to hand out */
    uint64_t scav;    /* bit i: page i is free and was returned to the OS */
} page_cache;

/* Refills an empty cache with the aligned block holding the lowest backed
 * free page, else the lowest free page.  Returns false when no page is
 * free. */
bool page_alloc_to_cache(page_cache *pc);

/* The lowest run of npages backed pages in the cache, else the lowest run
 * of npages pages, or 0; *scav_pages as for page_alloc_alloc. */
uintptr_t page_cache_alloc(page_cache *pc, size_t npages, size_t *scav_pages);

/* Marks [base, base + npages pages) free again.  The pages stay backed. */
void page_alloc_free(uintptr_t base, size_t npages);

/* Returns up to max_pages free, backed pages to the OS, highest addresses
 * first; returns how many it released.  The madvise runs under the heap lock: for tests and
 * small amounts (heap/scavenge.c uses take/done below). */
size_t page_alloc_scavenge(size_t max_pages);

/* Releasing without holding the heap lock over the system call: take
 * finds the highest run of free, backed pages (at most max_pages, within
 * one chunk), marks it allocated so nobody else uses it, and returns its
 * length (0: none) and *base; the caller releases the lock, calls
 * sys_unused, retakes the lock and calls done, which frees the run as
 * released.  Between the two the run counts as busy_pages. */
size_t page_alloc_scav_take(size_t max_pages, uintptr_t *base);
void page_alloc_scav_done(uintptr_t base, size_t npages);

/* Pages currently released to the OS, page caches included; lock-free. */
uint64_t page_alloc_released_pages(void);

typedef struct page_alloc_stats {
    uint64_t total_pages;    /* pages handed to the allocator by page_alloc_grow */
    uint64_t inuse_pages;    /* pages allocated */
    uint64_t scav_pages;     /* free pages returned to the OS */
    uint64_t busy_pages;     /* pages taken by a scavenger between take and done */
} page_alloc_stats;
page_alloc_stats page_alloc_read_stats(void);

/* Debug and test support. */
bool page_alloc_is_free(uintptr_t addr);
bool page_alloc_is_scavenged(uintptr_t addr);
/* Recomputes every summary from the bitmaps and counts pages; returns the
 * number of disagreements (0 when consistent). */
size_t page_alloc_verify(void);

#endif
