/*
 * heap_verify.c -- checking the heap's invariants (see heap_verify.h).
 *
 * Expensive (it visits every span, page and arena) and meant for tests and
 * debugging: the test suite calls it after every scenario.
 */
#include "heap_verify.h"

#include <stdio.h>

#include "../base/throw.h"
#include "arena.h"
#include "mcentral.h"
#include "page_heap.h"

static size_t report(const char *what, uintptr_t addr)
{
    fprintf(stderr, "tricolor: heap_verify: %s (0x%llx)\n", what, (unsigned long long)addr);
    return 1;
}

static size_t verify_centrals(void)
{
    size_t bad = 0;
    for (unsigned sc = 0; sc < NUM_SPAN_CLASSES; sc++) {
        mcentral *c = &central[sc];
        lock_acquire(&c->lock);
        for (int half = 0; half < 2; half++) {
            for (int full = 0; full < 2; full++) {
                span_list *l = full ? &c->full[half] : &c->partial[half];
                size_t n = 0;
                for (span *s = l->first; s != NULL; s = s->next, n++) {
                    if (atomic_load(&s->state) != SPAN_IN_USE)
                        bad += report("mcentral lists a span that is not in use", s->start);
                    if (s->spanclass != sc)
                        bad += report("mcentral lists a span of another class", s->start);
                    if (s->list != l)
                        bad += report("span's list field disagrees with its list", s->start);
                    bool is_full = atomic_load(&s->alloc_count) == s->nelems;
                    if (!span_is_large(s) && is_full != (full != 0))
                        bad += report("span on the wrong list for its fullness", s->start);
                }
                if (n != l->n)
                    bad += report("mcentral list length is wrong", sc);
            }
        }
        lock_release(&c->lock);
    }
    return bad;
}

size_t heap_verify(heap_census *census)
{
    heap_census cs = {0};
    size_t bad = verify_centrals();
    lock_acquire(&heap.lock);
    size_t nar;
    arena *const *arenas = arena_list(&nar);
    for (size_t k = 0; k < nar; k++)
        if (arena_of(arenas[k]->base) != arenas[k])
            bad += report("listed arena is not in the arena index", arenas[k]->base);
    size_t records = 0;
    for (size_t k = 0; k < heap.nspans; k++) {
        span *s = heap.allspans[k];
        if (atomic_load(&s->state) != SPAN_IN_USE)
            continue;
        records++;
        cs.spans_in_use++;
        cs.pages_in_use += s->npages;
        cs.objects += atomic_load(&s->alloc_count);
        cs.object_bytes += (uint64_t)atomic_load(&s->alloc_count) * s->elemsize;
        if (span_verify(s) != 0)
            bad += report("span's bits disagree with its counts", s->start);
        for (size_t i = 0; i < s->npages; i++)
            if (span_of(s->start + (i << PAGE_SHIFT)) != s) {
                bad += report("page of an in-use span does not map to it", s->start);
                break;
            }
        if (!bit_get(arena_of(s->start)->page_in_use, arena_page_index(s->start)))
            bad += report("span's first page lacks its page_in_use bit", s->start);
    }
    /* Pages that map to a span must belong to that in-use span. */
    for (size_t k = 0; k < nar; k++) {
        arena *a = arenas[k];
        for (size_t p = 0; p < PAGES_PER_ARENA; p++) {
            span *s = atomic_load(&a->spans[p]);
            uintptr_t addr = a->base + (p << PAGE_SHIFT);
            if (s != NULL && (atomic_load(&s->state) != SPAN_IN_USE || addr < s->start ||
                              addr >= s->start + (s->npages << PAGE_SHIFT))) {
                bad += report("page maps to a span that does not hold it", addr);
                break;
            }
        }
    }
    /* Each in-use record appears once: as many as spanalloc has out. */
    if (records != heap.spanalloc.inuse)
        bad += report("in-use spans in allspans differ from records handed out", records);
    page_alloc_stats ps = page_alloc_read_stats();
    if (ps.inuse_pages != cs.pages_in_use + popcount64(heap.pcache.free))
        bad += report("pages in use over allspans differ from the page allocator's count", cs.pages_in_use);
    if (page_alloc_verify() != 0)
        bad += report("page allocator summaries or counters disagree with its bitmaps", 0);
    lock_release(&heap.lock);
    if (census != NULL)
        *census = cs;
    return bad;
}
