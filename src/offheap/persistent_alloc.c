/*
 * persistent_alloc.c -- never-freed metadata memory.
 *
 * Design: memory comes from the OS in chunks of PERSISTENT_CHUNK_SIZE and
 * is handed out by bumping an offset; requests of PERSISTENT_DIRECT_SIZE or
 * more get a mapping of their own so they do not waste a chunk's tail.  Each
 * mapping starts with a header that links it into `mappings`, so that
 * tc_shutdown can give every byte back.
 *
 * Accounting: a mapping is charged to MEMSTAT_OTHER when it is made; each
 * allocation then moves its bytes to the caller's statistic (as Go does), so
 * the chunk's unused tail stays "other".  `moved` remembers the moves so
 * that persistent_free_all can undo them exactly.
 *
 * Invariant: for every stat k != OTHER, moved[k] = sum of sizes allocated
 * with stat k since the last persistent_free_all.
 * Locking: all state is under persistent_lock (rank LOCK_RANK_PERSISTENT,
 * the innermost lock: nothing is called while it is held but sys_alloc).
 */
#include "persistent_alloc.h"

#include <stdint.h>

#include "../base/bits.h"
#include "../base/lock.h"
#include "../base/throw.h"

typedef struct mapping_header {
    struct mapping_header *next;
    size_t size;
} __attribute__((aligned(PERSISTENT_MAX_ALIGN))) mapping_header;

static lock_t persistent_lock = LOCK_INIT(LOCK_RANK_PERSISTENT);
static mapping_header *mappings; /* under persistent_lock */
static char *chunk_pos;          /* under persistent_lock: next free byte of the current chunk */
static char *chunk_end;          /* under persistent_lock */
static uint64_t moved[MEMSTAT_COUNT];

static mapping_header *mapping_new(size_t size)
{
    size = align_up(size, SYS_PAGE_SIZE);
    mapping_header *h = sys_alloc(size, MEMSTAT_OTHER);
    if (h == NULL)
        return NULL;
    h->size = size;
    h->next = mappings;
    mappings = h;
    return h;
}

static void charge(size_t size, memstat_kind stat)
{
    if (stat == MEMSTAT_OTHER)
        return;
    memstat_add(MEMSTAT_OTHER, -(int64_t)size);
    memstat_add(stat, (int64_t)size);
    moved[stat] += size;
}

void *persistent_alloc(size_t size, size_t align, memstat_kind stat)
{
    CHECK(align != 0 && (align & (align - 1)) == 0 && align <= PERSISTENT_MAX_ALIGN);
    if (size == 0)
        size = 1;
    if (size > SIZE_MAX - sizeof(mapping_header) - SYS_PAGE_SIZE)
        return NULL;
    void *p = NULL;
    lock_acquire(&persistent_lock);
    if (size >= PERSISTENT_DIRECT_SIZE) {
        mapping_header *h = mapping_new(sizeof(mapping_header) + size);
        if (h != NULL) {
            p = h + 1;
            charge(h->size - sizeof *h, stat);
        }
    } else {
        char *at = (char *)align_up((uintptr_t)chunk_pos, align);
        if (chunk_pos == NULL || at + size > chunk_end) {
            mapping_header *h = mapping_new(PERSISTENT_CHUNK_SIZE);
            if (h == NULL)
                goto out;
            chunk_pos = (char *)(h + 1);
            chunk_end = (char *)h + h->size;
            at = (char *)align_up((uintptr_t)chunk_pos, align);
        }
        chunk_pos = at + size;
        p = at;
        charge(size, stat);
    }
out:
    lock_release(&persistent_lock);
    return p;
}

void persistent_init(void)
{
    lock_register(&persistent_lock);
}

void persistent_free_all(void)
{
    lock_acquire(&persistent_lock);
    for (int k = 0; k < MEMSTAT_COUNT; k++) {
        if (k == MEMSTAT_OTHER)
            continue;
        memstat_add((memstat_kind)k, -(int64_t)moved[k]);
        memstat_add(MEMSTAT_OTHER, (int64_t)moved[k]);
        moved[k] = 0;
    }
    while (mappings != NULL) {
        mapping_header *h = mappings;
        mappings = h->next;
        sys_free(h, h->size, MEMSTAT_OTHER);
    }
    chunk_pos = chunk_end = NULL;
    lock_release(&persistent_lock);
}
