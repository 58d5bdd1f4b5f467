/*
 * page_alloc.c -- the page allocator (Go 1.14's design, proposal 35112).
 *
 * State: one bit per 8 KiB page (1 = in use), kept per CHUNK_PAGES-page
 * chunk in the owning arena's metadata, plus a second bitmap of pages that
 * are free *and* returned to the OS ("scavenged", which read as zero).
 *
 * Finding a run fast: a radix tree of summaries covers the whole 48-bit
 * address space.  A summary describes a range of pages by three numbers:
 * free pages at its start, the longest free run inside it, free pages at
 * its end.  Level SUM_LEVELS - 1 has one summary per chunk; each level
 * above has one per 2^SUM_FANOUT_BITS summaries below (8: one cache line),
 * and the root level has 2^SUM_ROOT_BITS entries of 16 GiB each.  Each
 * level is one big virtual array, reserved at start and committed a page at
 * a time as arenas arrive; ranges never added to the heap read as "no free
 * pages" (summary 0).
 *
 * alloc(n) walks the tree in address order from the root entry of
 * search_addr.  At each level it scans the entries of one block, carrying
 * the free run that extends across entry boundaries; a run that becomes
 * long enough is the answer (its start is known from the "end" numbers);
 * an entry whose longest run is long enough is entered, and the search goes
 * down one level; at a chunk the bitmap is searched.  The first qualifying
 * run is thus always found (address-ordered first fit) touching O(levels x
 * 8) summaries, independent of heap size.  alloc and free update the
 * bitmaps, then recompute the summaries of the chunks they touched and of
 * their ancestors.
 *
 * Summaries pack into 64 bits as 21-bit fields; the only value that does
 * not fit, a wholly free root entry (2^21 pages), is encoded as bit 63.
 *
 * Backed first: a request of at most CHUNK_PAGES pages (and the page
 * cache's refill) first looks for the lowest run of free pages that are
 * all backed (not released), by the same descent with the chunk bitmaps
 * searched for alloc | scav; only when there is none does it take the
 * lowest free run, released pages included.  Reusing a backed page costs
 * no page fault and does not grow memory_total; a released page costs a
 * fault and a zeroed page from the kernel.  Pure first fit would take
 * fresh arenas placed below the heap (it grows downwards when the space
 * above is taken, always under AddressSanitizer) before the free pages
 * above them.  backed_free_pages() = 0 skips the extra search.
 *
 * Returning pages to the OS (heap/scavenge.c drives it): the scavenger
 * looks for free, backed pages from the top down -- the summary tree is
 * walked from the highest address, skipping subtrees with no free page --
 * while allocation is first fit from the bottom, so the pages the
 * allocator would take next are the last to be released.  A run being
 * released is taken out of the allocator first
 * (page_alloc_scav_take sets its alloc bits, counted as busy_pages, not in
 * use), so the madvise can run without the heap lock; page_alloc_scav_done
 * then frees it as released.
 *
 * Invariants:
 *  - every page below search_addr is in use;
 *  - each summary equals the one computed from the bitmaps below it;
 *  - alloc & scav == 0 in every chunk;
 *  - inuse_pages + busy_pages = set alloc bits; scav_pages = set scav bits;
 *  - released = scav_pages + released pages held by the page cache.
 * Locking: everything here runs under the heap lock, except reading
 * `released` (atomic, relaxed; written under the lock).
 */
#include "page_alloc.h"

#include <string.h>

#include "../base/bits.h"
#include "../base/nopreempt.h"
#include "../base/throw.h"
#include "../sys/sys.h"
#include "arena.h"
#include "tricolor.h"

#define SUM_LEVELS 5
#define SUM_ROOT_BITS 14
#define SUM_FANOUT_BITS 3
#define SUM_FANOUT (1u << SUM_FANOUT_BITS)
#define SUM_FIELD_BITS 21
#define SUM_FIELD_MASK (((uint64_t)1 << SUM_FIELD_BITS) - 1)
#define SUM_ALL_FREE_ROOT ((uint64_t)1 << 63)

typedef uint64_t summary;

/* Address bits covered by one entry at level l: a chunk at the leaves. */
static unsigned level_shift(int l) { return CHUNK_SHIFT + SUM_FANOUT_BITS * (SUM_LEVELS - 1 - l); }
static size_t level_pages(int l) { return (size_t)1 << (level_shift(l) - PAGE_SHIFT); }
static size_t level_entries(int l) { return (size_t)1 << (SUM_ROOT_BITS + SUM_FANOUT_BITS * l); }

static NOGC_DATA struct {
    summary *levels[SUM_LEVELS];          /* reserved virtual arrays */
    uint64_t *committed[SUM_LEVELS];      /* bit per OS page of each level: committed */
    uintptr_t search_addr;                /* every page below is in use */
    size_t root_hi;                       /* root entries >= this were never grown into */
    size_t scav_root_hint;                /* no free backed page in root entries above it */
    bool scav_none;                       /* no free backed page at all (until a free) */
    page_alloc_stats stats;
    /* Pages released to the OS, including those in a page cache: written
     * under the heap lock, read lock-free (atomic, relaxed). */
    _Atomic uint64_t released;
} pa;

static void released_add(int64_t pages)
{
    atomic_fetch_add_explicit(&pa.released, (uint64_t)pages, memory_order_relaxed);
}

/* Committed-page bitmaps, sized for the largest level. */
static uint64_t committed_bits[SUM_LEVELS][((size_t)1 << (SUM_ROOT_BITS + SUM_FANOUT_BITS * (SUM_LEVELS - 1))) * sizeof(summary) / SYS_PAGE_SIZE / 64 + 1];

static summary sum_pack(size_t start, size_t max, size_t end)
{
    if (max == ((size_t)1 << SUM_FIELD_BITS))
        return SUM_ALL_FREE_ROOT;
    return (uint64_t)start | (uint64_t)max << SUM_FIELD_BITS | (uint64_t)end << (2 * SUM_FIELD_BITS);
}

static void sum_unpack(summary s, size_t *start, size_t *max, size_t *end)
{
    if (s & SUM_ALL_FREE_ROOT) {
        *start = *max = *end = (size_t)1 << SUM_FIELD_BITS;
        return;
    }
    *start = s & SUM_FIELD_MASK;
    *max = (s >> SUM_FIELD_BITS) & SUM_FIELD_MASK;
    *end = (s >> (2 * SUM_FIELD_BITS)) & SUM_FIELD_MASK;
}

static palloc_chunk *chunk_of_index(size_t ci)
{
    uintptr_t addr = (uintptr_t)ci << CHUNK_SHIFT;
    arena *a = arena_of(addr);
    DCHECK(a != NULL);
    return &a->chunks[(addr >> CHUNK_SHIFT) & (CHUNKS_PER_ARENA - 1)];
}

/* Free-run statistics of a 512-bit in-use bitmap. */
static summary chunk_summarize(const uint64_t *bits)
{
    size_t start = 0, max = 0, run = 0;
    bool in_prefix = true;
    for (size_t w = 0; w < CHUNK_PAGES / 64; w++) {
        uint64_t x = bits[w];
        if (x == 0) {
            run += 64;
            continue;
        }
        unsigned bit = 0;
        while (bit < 64) {
            uint64_t rest = x >> bit;
            if (rest & 1) {
                if (in_prefix) {
                    start = run;
                    in_prefix = false;
                }
                if (run > max)
                    max = run;
                run = 0;
                uint64_t inv = ~rest;
                bit += inv ? ctz64(inv) : 64 - bit;
            } else {
                unsigned zeros = rest ? ctz64(rest) : 64 - bit;
                run += zeros;
                bit += zeros;
            }
        }
    }
    if (in_prefix)
        start = run;
    if (run > max)
        max = run;
    return sum_pack(start, max, run);
}

/* The summary of 8 consecutive child summaries at level l + 1. */
static summary sum_merge(const summary *child, int child_level)
{
    size_t cpages = level_pages(child_level);
    size_t start = 0, max = 0, run = 0;
    bool in_prefix = true;
    for (unsigned k = 0; k < SUM_FANOUT; k++) {
        size_t s, m, e;
        sum_unpack(child[k], &s, &m, &e);
        if (s == cpages) {
            run += cpages;
            continue;
        }
        if (in_prefix) {
            start = run + s;
            in_prefix = false;
        }
        if (run + s > max)
            max = run + s;
        if (m > max)
            max = m;
        run = e;
    }
    if (in_prefix)
        start = run;
    if (run > max)
        max = run;
    return sum_pack(start, max, run);
}

/* Recomputes the summaries of chunks [c0, c1] and of their ancestors,
 * stopping at the first level where none of them changed (the levels above
 * are then unchanged too). */
static void summaries_update(size_t c0, size_t c1)
{
    summary *leaf = pa.levels[SUM_LEVELS - 1];
    bool changed = false;
    for (size_t c = c0; c <= c1; c++) {
        summary s = chunk_summarize(chunk_of_index(c)->alloc);
        changed |= s != leaf[c];
        leaf[c] = s;
    }
    for (int l = SUM_LEVELS - 2; l >= 0 && changed; l--) {
        c0 >>= SUM_FANOUT_BITS;
        c1 >>= SUM_FANOUT_BITS;
        changed = false;
        for (size_t i = c0; i <= c1; i++) {
            summary s = sum_merge(&pa.levels[l + 1][i << SUM_FANOUT_BITS], l + 1);
            changed |= s != pa.levels[l][i];
            pa.levels[l][i] = s;
        }
    }
}

/* Commits the summary memory of every level for chunks [c0, c1]. */
static int summaries_commit(size_t c0, size_t c1)
{
    for (int l = SUM_LEVELS - 1; l >= 0; l--) {
        unsigned sh = (unsigned)(SUM_FANOUT_BITS * (SUM_LEVELS - 1 - l));
        uintptr_t lo = align_down((uintptr_t)&pa.levels[l][c0 >> sh], SYS_PAGE_SIZE);
        uintptr_t hi = align_up((uintptr_t)&pa.levels[l][(c1 >> sh) + 1], SYS_PAGE_SIZE);
        for (uintptr_t p = lo; p < hi; p += SYS_PAGE_SIZE) {
            size_t bit = (p - (uintptr_t)pa.levels[l]) / SYS_PAGE_SIZE;
            if (bit_get(pa.committed[l], bit))
                continue;
            if (sys_map((void *)p, SYS_PAGE_SIZE, MEMSTAT_GC) != 0)
                return TC_ENOMEM;
            bit_set(pa.committed[l], bit);
        }
    }
    return 0;
}

int page_alloc_init(void)
{
    memset(&pa, 0, sizeof pa);
    memset(committed_bits, 0, sizeof committed_bits);
    for (int l = 0; l < SUM_LEVELS; l++) {
        size_t bytes = level_entries(l) * sizeof(summary);
        pa.levels[l] = sys_reserve(NULL, bytes);
        if (pa.levels[l] == NULL) {
            page_alloc_free_all();
            return TC_ENOMEM;
        }
        pa.committed[l] = committed_bits[l];
    }
    /* The root level is small and scanned across gaps between arenas, so
     * it is committed whole; lower levels are entered only where the heap
     * has grown, and a block of SUM_FANOUT siblings shares one OS page. */
    size_t root_bytes = level_entries(0) * sizeof(summary);
    if (sys_map(pa.levels[0], root_bytes, MEMSTAT_GC) != 0) {
        page_alloc_free_all();
        return TC_ENOMEM;
    }
    for (size_t b = 0; b < root_bytes / SYS_PAGE_SIZE; b++)
        bit_set(pa.committed[0], b);
    return 0;
}

void page_alloc_free_all(void)
{
    for (int l = 0; l < SUM_LEVELS; l++) {
        if (pa.levels[l] == NULL)
            continue;
        size_t bytes = level_entries(l) * sizeof(summary);
        size_t committed = 0;
        for (size_t b = 0; b < bytes / SYS_PAGE_SIZE; b++)
            committed += bit_get(pa.committed[l], b);
        memstat_add(MEMSTAT_GC, -(int64_t)(committed * SYS_PAGE_SIZE));
        sys_release(pa.levels[l], bytes);
        pa.levels[l] = NULL;
    }
    memset(&pa, 0, sizeof pa);
}

int page_alloc_commit(uintptr_t base, size_t size)
{
    CHECK(is_aligned(base, CHUNK_SIZE) && is_aligned(size, CHUNK_SIZE) && size > 0);
    return summaries_commit(base >> CHUNK_SHIFT, ((base + size) >> CHUNK_SHIFT) - 1);
}

int page_alloc_grow(uintptr_t base, size_t size)
{
    CHECK(is_aligned(base, CHUNK_SIZE) && is_aligned(size, CHUNK_SIZE) && size > 0);
    size_t c0 = base >> CHUNK_SHIFT, c1 = ((base + size) >> CHUNK_SHIFT) - 1;
    if (summaries_commit(c0, c1) != 0)
        return TC_ENOMEM;
    for (size_t c = c0; c <= c1; c++) {
        palloc_chunk *ch = chunk_of_index(c);
        memset(ch->alloc, 0, sizeof ch->alloc);
        memset(ch->scav, 0xff, sizeof ch->scav);
    }
    summaries_update(c0, c1);
    size_t root_end = ((base + size - 1) >> level_shift(0)) + 1;
    if (root_end > pa.root_hi)
        pa.root_hi = root_end;
    if (pa.stats.total_pages == 0 || base < pa.search_addr)
        pa.search_addr = base;
    size_t npages = size >> PAGE_SHIFT;
    pa.stats.total_pages += npages;
    pa.stats.scav_pages += npages;
    released_add((int64_t)npages);
    return 0;
}

/* First run of npages clear bits in a chunk's 512-bit map, or -1. */
static long chunk_find(const uint64_t *bits, size_t npages)
{
    size_t run = 0, start = 0;
    for (size_t w = 0; w < CHUNK_PAGES / 64; w++) {
        uint64_t x = bits[w];
        if (x == 0) {
            if (run == 0)
                start = w * 64;
            run += 64;
            if (run >= npages)
                return (long)start;
            continue;
        }
        unsigned bit = 0;
        while (bit < 64) {
            uint64_t rest = x >> bit;
            if (rest & 1) {
                run = 0;
                uint64_t inv = ~rest;
                bit += inv ? ctz64(inv) : 64 - bit;
            } else {
                unsigned zeros = rest ? ctz64(rest) : 64 - bit;
                if (run == 0)
                    start = w * 64 + bit;
                run += zeros;
                if (run >= npages)
                    return (long)start;
                bit += zeros;
            }
        }
    }
    return -1;
}

/* The address of the first free run of npages pages, or 0. */
static uintptr_t page_find(size_t npages)
{
    int l = 0;
    size_t first = pa.search_addr >> level_shift(0), last = pa.root_hi;
    for (;;) {
        size_t run = 0;
        uintptr_t run_start = 0;
        size_t epages = level_pages(l);
        bool entered = false;
        for (size_t i = first; i < last; i++) {
            size_t s, m, e;
            sum_unpack(pa.levels[l][i], &s, &m, &e);
            uintptr_t ebase = (uintptr_t)i << level_shift(l);
            if (run + s >= npages)
                return run > 0 ? run_start : ebase;
            if (m >= npages) {
                if (l == SUM_LEVELS - 1) {
                    long at = chunk_find(chunk_of_index(i)->alloc, npages);
                    CHECK(at >= 0);
                    return ebase + ((uintptr_t)at << PAGE_SHIFT);
                }
                first = i << SUM_FANOUT_BITS;
                last = first + SUM_FANOUT;
                l++;
                entered = true;
                break;
            }
            if (s == epages) {
                if (run == 0)
                    run_start = ebase;
                run += epages;
            } else {
                run = e;
                run_start = ebase + ((epages - e) << PAGE_SHIFT);
            }
        }
        if (!entered)
            return 0;
    }
}

/* Free pages that are still backed (not released), outside page caches
 * and scavengers' hands. */
static uint64_t backed_free_pages(void)
{
    uint64_t used = pa.stats.inuse_pages + pa.stats.busy_pages + pa.stats.scav_pages;
    return pa.stats.total_pages > used ? pa.stats.total_pages - used : 0;
}

/* The lowest run of npages free, backed pages in the subtree of summary i
 * at level l, within one chunk; 0 if none.  Subtrees whose longest free
 * run is shorter are skipped (free runs include released pages, so a
 * subtree may be searched in vain). */
static uintptr_t backed_find_in(int l, size_t i, size_t npages)
{
    size_t s, m, e;
    sum_unpack(pa.levels[l][i], &s, &m, &e);
    if (m < npages)
        return 0;
    if (l == SUM_LEVELS - 1) {
        palloc_chunk *ch = chunk_of_index(i);
        uint64_t unusable[CHUNK_PAGES / 64];
        for (size_t w = 0; w < CHUNK_PAGES / 64; w++)
            unusable[w] = ch->alloc[w] | ch->scav[w];
        long at = chunk_find(unusable, npages);
        return at < 0 ? 0 : ((uintptr_t)i << CHUNK_SHIFT) + ((uintptr_t)at << PAGE_SHIFT);
    }
    for (size_t k = 0; k < SUM_FANOUT; k++) {
        uintptr_t a = backed_find_in(l + 1, (i << SUM_FANOUT_BITS) + k, npages);
        if (a != 0)
            return a;
    }
    return 0;
}

/* The lowest run of npages (at most CHUNK_PAGES) free pages that are all
 * backed, within one chunk; 0 if none. */
static uintptr_t page_find_backed(size_t npages)
{
    if (npages > CHUNK_PAGES || backed_free_pages() < npages)
        return 0;
    for (size_t r = pa.search_addr >> level_shift(0); r < pa.root_hi; r++) {
        uintptr_t a = backed_find_in(0, r, npages);
        if (a != 0)
            return a;
    }
    return 0;
}

/* Applies fn to every chunk slice of [base, base + npages pages). */
#define FOR_CHUNK_RANGE(base, npages, ch, lo, hi, body)                         \
    do {                                                                        \
        uintptr_t a_ = (base), end_ = (base) + ((uintptr_t)(npages) << PAGE_SHIFT); \
        while (a_ < end_) {                                                     \
            uintptr_t cend_ = align_down(a_, CHUNK_SIZE) + CHUNK_SIZE;          \
            if (cend_ > end_)                                                   \
                cend_ = end_;                                                   \
            palloc_chunk *ch = chunk_of_index(a_ >> CHUNK_SHIFT);               \
            size_t lo = (a_ >> PAGE_SHIFT) & (CHUNK_PAGES - 1);                 \
            size_t hi = lo + ((cend_ - a_) >> PAGE_SHIFT);                      \
            body;                                                               \
            a_ = cend_;                                                         \
        }                                                                       \
    } while (0)

bool page_alloc_to_cache(page_cache *pc)
{
    CHECK(pc->free == 0);
    uintptr_t lowest = page_find(1);
    if (lowest == 0)
        return false;
    /* The block of the lowest backed free page, else of the lowest one. */
    uintptr_t first = page_find_backed(1);
    if (first == 0)
        first = lowest;
    uintptr_t base = align_down(first, (uintptr_t)PAGE_CACHE_PAGES << PAGE_SHIFT);
    palloc_chunk *ch = chunk_of_index(base >> CHUNK_SHIFT);
    size_t w = ((base >> PAGE_SHIFT) & (CHUNK_PAGES - 1)) / 64;
    pc->base = base;
    pc->free = ~ch->alloc[w];
    pc->scav = ch->scav[w] & pc->free;
    ch->alloc[w] = ~(uint64_t)0;
    ch->scav[w] &= ~pc->free;
    summaries_update(base >> CHUNK_SHIFT, base >> CHUNK_SHIFT);
    /* If the block holds the lowest free page, every page below its end is
     * in use now. */
    uintptr_t end = base + ((uintptr_t)PAGE_CACHE_PAGES << PAGE_SHIFT);
    if (lowest >= base && lowest < end && end > pa.search_addr)
        pa.search_addr = end;
    pa.stats.inuse_pages += popcount64(pc->free);
    pa.stats.scav_pages -= popcount64(pc->scav);
    return true;
}

uintptr_t page_cache_alloc(page_cache *pc, size_t npages, size_t *scav_pages)
{
    if (npages == 0 || npages > PAGE_CACHE_PAGES)
        return 0;
    /* Bit i of run: pages i .. i + npages - 1 are all the cache's; backed
     * ones first. */
    uint64_t backed = pc->free & ~pc->scav, run = backed;
    for (size_t k = 1; k < npages && run != 0; k++)
        run &= backed >> k;
    if (run == 0) {
        run = pc->free;
        for (size_t k = 1; k < npages && run != 0; k++)
            run &= pc->free >> k;
    }
    if (run == 0)
        return 0;
    unsigned i = ctz64(run);
    uint64_t mask = (npages == 64 ? ~(uint64_t)0 : (((uint64_t)1 << npages) - 1)) << i;
    *scav_pages = popcount64(pc->scav & mask);
    released_add(-(int64_t)*scav_pages);
    pc->free &= ~mask;
    pc->scav &= ~mask;
    return pc->base + ((uintptr_t)i << PAGE_SHIFT);
}

uintptr_t page_alloc_alloc(size_t npages, size_t *scav_pages)
{
    CHECK(npages > 0);
    /* Backed pages first: reusing them costs no fault and no memory_total;
     * released pages then stay released (the scavenger gave them back from
     * the top, where first fit would reach them last anyway). */
    uintptr_t base = page_find_backed(npages);
    bool lowest = base == 0;
    if (base == 0)
        base = page_find(npages);
    if (base == 0)
        return 0;
    size_t scav = 0;
    FOR_CHUNK_RANGE(base, npages, ch, lo, hi, {
        for (size_t i = lo; i < hi; i++) {
            CHECK(!bit_get(ch->alloc, i));
            bit_set(ch->alloc, i);
            if (bit_get(ch->scav, i)) {
                bit_clear(ch->scav, i);
                scav++;
            }
        }
    });
    summaries_update(base >> CHUNK_SHIFT, (base + (npages << PAGE_SHIFT) - 1) >> CHUNK_SHIFT);
    if ((npages == 1 && lowest) || base == pa.search_addr)
        pa.search_addr = base + (npages << PAGE_SHIFT);
    pa.stats.inuse_pages += npages;
    pa.stats.scav_pages -= scav;
    released_add(-(int64_t)scav);
    *scav_pages = scav;
    return base;
}

void page_alloc_free(uintptr_t base, size_t npages)
{
    CHECK(npages > 0 && is_aligned(base, PAGE_SIZE));
    FOR_CHUNK_RANGE(base, npages, ch, lo, hi, {
        for (size_t i = lo; i < hi; i++) {
            if (!bit_get(ch->alloc, i))
                throw_addr("page_alloc_free: page is not in use", (void *)base);
            bit_clear(ch->alloc, i);
        }
    });
    summaries_update(base >> CHUNK_SHIFT, (base + (npages << PAGE_SHIFT) - 1) >> CHUNK_SHIFT);
    if (base < pa.search_addr)
        pa.search_addr = base;
    size_t root = (base + (npages << PAGE_SHIFT) - 1) >> level_shift(0);
    if (pa.scav_none || root > pa.scav_root_hint)
        pa.scav_root_hint = root;
    pa.scav_none = false;
    pa.stats.inuse_pages -= npages;
}

/* Free and backed pages of word w of a chunk: bit i set = page w * 64 + i. */
static inline uint64_t free_backed(const palloc_chunk *ch, size_t w)
{
    return ~(ch->alloc[w] | ch->scav[w]);
}

/* The highest run of free, backed pages in chunk ci, at most max_pages
 * long: its length (0: none) and *base. */
static size_t scav_find_chunk(size_t ci, size_t max_pages, uintptr_t *base)
{
    palloc_chunk *ch = chunk_of_index(ci);
    for (size_t w = CHUNK_PAGES / 64; w-- > 0;) {
        uint64_t m = free_backed(ch, w);
        if (m == 0)
            continue;
        size_t hi = w * 64 + 63 - clz64(m); /* the run's top page */
        size_t lo = hi;
        while (lo > 0 && hi - lo + 1 < max_pages && ((free_backed(ch, (lo - 1) / 64) >> ((lo - 1) % 64)) & 1))
            lo--;
        *base = ((uintptr_t)ci << CHUNK_SHIFT) + (lo << PAGE_SHIFT);
        return hi - lo + 1;
    }
    return 0;
}

/* The same in the subtree of summary i at level l, highest addresses
 * first, skipping subtrees without any free page (the summaries do not
 * tell released from backed, so a subtree whose free pages are all
 * released is searched in vain). */
static size_t scav_find_in(int l, size_t i, size_t max_pages, uintptr_t *base)
{
    size_t s, m, e;
    sum_unpack(pa.levels[l][i], &s, &m, &e);
    if (m == 0)
        return 0;
    if (l == SUM_LEVELS - 1)
        return scav_find_chunk(i, max_pages, base);
    for (size_t k = SUM_FANOUT; k-- > 0;) {
        size_t n = scav_find_in(l + 1, (i << SUM_FANOUT_BITS) + k, max_pages, base);
        if (n > 0)
            return n;
    }
    return 0;
}

/* The highest run of free, backed pages in the heap, at most max_pages
 * long and within one chunk: its length (0: none) and *base.  By address,
 * whatever order the arenas were added in (under AddressSanitizer the heap
 * grows downwards), so that it is always the run first-fit allocation
 * would reach last.  Root entries above scav_root_hint hold no free
 * backed page; the hint is lowered to where a run was found (or to 0 when
 * none was) and raised by page_alloc_free. */
static size_t scav_find(size_t max_pages, uintptr_t *base)
{
    if (pa.scav_none)
        return 0;
    size_t top = pa.scav_root_hint < pa.root_hi ? pa.scav_root_hint + 1 : pa.root_hi;
    for (size_t r = top; r-- > 0;) {
        size_t n = scav_find_in(0, r, max_pages, base);
        if (n > 0) {
            pa.scav_root_hint = r;
            return n;
        }
    }
    pa.scav_root_hint = 0;
    pa.scav_none = true;
    return 0;
}

/* Sets (in_use) or clears the alloc bits of a run inside one chunk. */
static void chunk_set_alloc(uintptr_t base, size_t npages, bool in_use)
{
    palloc_chunk *ch = chunk_of_index(base >> CHUNK_SHIFT);
    size_t lo = (base >> PAGE_SHIFT) & (CHUNK_PAGES - 1);
    for (size_t i = lo; i < lo + npages; i++) {
        if (in_use)
            bit_set(ch->alloc, i);
        else
            bit_clear(ch->alloc, i);
    }
    summaries_update(base >> CHUNK_SHIFT, base >> CHUNK_SHIFT);
}

/* Marks a free run (inside one chunk, alloc bits clear) as released. */
static void chunk_mark_released(uintptr_t base, size_t npages)
{
    palloc_chunk *ch = chunk_of_index(base >> CHUNK_SHIFT);
    size_t lo = (base >> PAGE_SHIFT) & (CHUNK_PAGES - 1);
    for (size_t i = lo; i < lo + npages; i++) {
        DCHECK(!bit_get(ch->alloc, i) && !bit_get(ch->scav, i));
        bit_set(ch->scav, i);
    }
    pa.stats.scav_pages += npages;
    released_add((int64_t)npages);
}

size_t page_alloc_scavenge(size_t max_pages)
{
    size_t n = 0;
    uintptr_t base;
    size_t run;
    while (n < max_pages && (run = scav_find(max_pages - n, &base)) > 0) {
        sys_unused((void *)base, run << PAGE_SHIFT);
        chunk_mark_released(base, run);
        n += run;
    }
    return n;
}

size_t page_alloc_scav_take(size_t max_pages, uintptr_t *base)
{
    if (max_pages == 0)
        return 0;
    size_t run = scav_find(max_pages, base);
    if (run == 0)
        return 0;
    chunk_set_alloc(*base, run, true);
    pa.stats.busy_pages += run;
    return run;
}

void page_alloc_scav_done(uintptr_t base, size_t npages)
{
    CHECK(npages > 0 && pa.stats.busy_pages >= npages);
    pa.stats.busy_pages -= npages;
    chunk_set_alloc(base, npages, false);
    chunk_mark_released(base, npages);
    if (base < pa.search_addr)
        pa.search_addr = base;
}

uint64_t page_alloc_released_pages(void)
{
    return atomic_load_explicit(&pa.released, memory_order_relaxed);
}

page_alloc_stats page_alloc_read_stats(void)
{
    return pa.stats;
}

bool page_alloc_is_free(uintptr_t addr)
{
    arena *a = arena_of(addr);
    if (a == NULL)
        return false;
    palloc_chunk *ch = &a->chunks[(addr >> CHUNK_SHIFT) & (CHUNKS_PER_ARENA - 1)];
    return !bit_get(ch->alloc, (addr >> PAGE_SHIFT) & (CHUNK_PAGES - 1));
}

bool page_alloc_is_scavenged(uintptr_t addr)
{
    arena *a = arena_of(addr);
    if (a == NULL)
        return false;
    palloc_chunk *ch = &a->chunks[(addr >> CHUNK_SHIFT) & (CHUNKS_PER_ARENA - 1)];
    return bit_get(ch->scav, (addr >> PAGE_SHIFT) & (CHUNK_PAGES - 1));
}

size_t page_alloc_verify(void)
{
    size_t bad = 0, nar, inuse = 0, scav = 0, total = 0;
    arena *const *list = arena_list(&nar);
    for (size_t k = 0; k < nar; k++) {
        arena *a = list[k];
        for (size_t c = 0; c < CHUNKS_PER_ARENA; c++) {
            palloc_chunk *ch = &a->chunks[c];
            size_t ci = (a->base >> CHUNK_SHIFT) + c;
            for (size_t w = 0; w < CHUNK_PAGES / 64; w++) {
                inuse += popcount64(ch->alloc[w]);
                scav += popcount64(ch->scav[w]);
                bad += (ch->alloc[w] & ch->scav[w]) != 0;
            }
            total += CHUNK_PAGES;
            if (pa.levels[SUM_LEVELS - 1][ci] != chunk_summarize(ch->alloc))
                bad++;
            /* Every ancestor must equal the merge of its children. */
            size_t i = ci;
            for (int l = SUM_LEVELS - 2; l >= 0; l--) {
                i >>= SUM_FANOUT_BITS;
                if (pa.levels[l][i] != sum_merge(&pa.levels[l + 1][i << SUM_FANOUT_BITS], l + 1))
                    bad++;
            }
            for (size_t p = 0; p < CHUNK_PAGES; p++) {
                uintptr_t addr = a->base + c * CHUNK_SIZE + (p << PAGE_SHIFT);
                if (addr < pa.search_addr && !bit_get(ch->alloc, p)) {
                    bad++;
                    break;
                }
            }
        }
    }
    bad += inuse != pa.stats.inuse_pages + pa.stats.busy_pages;
    bad += scav != pa.stats.scav_pages;
    bad += total != pa.stats.total_pages;
    return bad;
}
