/*
 * mark.c -- the tri-color marking of heap objects.
 *
 * Colors (Go's): an object is white while its mark bit is clear, grey once
 * the bit is set and the object waits in a work buffer, black once it has
 * been scanned.  Noscan objects go straight to black.  Marking ends when no
 * grey object is left anywhere (gc.c detects it); white objects are then
 * garbage.
 *
 * mark_pointer accepts any word: it is a heap pointer only if it falls
 * inside an in-use span's objects, in a slot that is allocated (a stale
 * pointer into a free slot is ignored).  Interior pointers mark the whole
 * object.  Scanning reads heap words with relaxed atomic loads, since
 * mutators write them concurrently.
 *
 * How an object is scanned depends on its span and type: noscan spans
 * never; a type with pointer offsets: those words of every element that
 * fits in the slot (tc_new_array); a type with a scan function: the
 * function, which reports pointers to mark_pointer; no type (tc_alloc):
 * every word.
 *
 * Invariants: mark bits only go from 0 to 1 during a cycle; an object is
 * queued at most once per cycle (by the thread that set its bit).
 * Locking: none; mark bits are set with atomic OR.
 */
#include "mark.h"

#include "../base/nopreempt.h"
#include "../heap/arena.h"
#include "../heap/type.h"

const char *const gc_phase_names[GC_PHASE_COUNT] = {"off", "mark", "mark termination"};
_Atomic int gc_phase_now;
_Atomic uint64_t mark_bytes_marked, mark_scan_work;

/* Conservative scanning reads whole stacks and global segments, redzones
 * included, racing with the mutators by design. */
#define NOTSAN __attribute__((no_sanitize("thread", "address")))

/* Greys the object of in-use span s that holds p (p within its objects). */
static inline __attribute__((always_inline)) bool mark_in_span(span *s, uintptr_t p, gcwork *gw)
{
    size_t idx = span_is_large(s) ? 0 : span_object_index(s, p);
    if (span_is_marked(s, idx))
        return true; /* the common case for barrier values: nothing to do */
    if (!span_slot_allocated(s, idx))
        return false;
    if (!span_mark_unchecked(s, idx))
        return true; /* another marker set it meanwhile */
    if (span_is_noscan(s))
        gw->bytes_marked += s->elemsize;
    else
        gcwork_put(gw, span_object_base(s, idx));
    return true;
}

static inline __attribute__((always_inline)) bool mark_pointer_inline(uintptr_t p, gcwork *gw)
{
    span *s = span_of_heap(p);
    return s != NULL && mark_in_span(s, p, gw);
}

bool mark_pointer(uintptr_t p, gcwork *gw)
{
    return mark_pointer_inline(p, gw);
}

/*
 * The batch form, for a flushed write-barrier buffer.  Most values in a
 * buffer are already marked (the common case while a cycle runs), and
 * values stored one after another tend to lie in the same span: objects
 * allocated together are stored together.  So each stream keeps a memo of
 * the last span it resolved -- its object range, divisor and mark bits --
 * and a value inside that range is tested against the mark bits directly,
 * with no arena, page or span lookup: about a dozen instructions instead of
 * the forty of mark_pointer.  Entries alternate between the two streams
 * (tc_store appends the slot's old value, then the new one), and each has
 * its own locality, so each has its own memo.
 *
 * A value outside its stream's memo looks in a small table of memos indexed
 * by page, filled as spans are resolved, so a buffer whose values cycle
 * among a few dozen spans seldom pays for the full lookup; the table is
 * a few instructions away, and its memo replaces the stream's.  Words below
 * 4096 (nulls: a slot's old value before its first store) get a memo of
 * their own that calls them marked.
 *
 * The memos are sound for the length of one call: the caller does not reach
 * a safepoint inside it, and while the collector marks no span is swept or
 * freed, and a span's range, divisor and mark bits do not change.
 */
#define MEMO_MIN_VALUES 32   /* fewer values are shaded one by one */

static const uint64_t all_marked[1] = {~(uint64_t)0};

/* Whether p lies in the memo's span and is marked.  An offset inside a
 * span is below 2^32, so its product with the divisor fits 64 bits. */
static inline bool memo_marked(const span_memo *m, uintptr_t p)
{
    uintptr_t off = p - m->lo;
    if (off >= m->len)
        return false;
    size_t idx = (size_t)((off * m->divmul) >> 32);
    return (__atomic_load_n(&m->bits[idx / 64], __ATOMIC_RELAXED) >> (idx % 64)) & 1;
}

/* A value outside its memo and its table slot: the full lookup.  Shades the
 * object if p is a heap pointer, and makes its span the slot's memo. */
static NOINLINE void memo_resolve(uintptr_t p, gcwork *gw, span_memo *slot)
{
    span *s;
    if (p < 4096) {
        *slot = (span_memo){0, 4096, all_marked, 0};
    } else if ((s = span_of_heap(p)) != NULL) {
        mark_in_span(s, p, gw);
        *slot = (span_memo){s->start, s->limit - s->start, s->mark_bits,
                            span_is_large(s) ? 0 : s->divmul};
    }
}

/* The value p of a stream whose memo is *m: done if the memo or the table
 * says p is marked, shaded otherwise; the table slot's memo becomes the
 * stream's. */
static inline __attribute__((always_inline)) void memo_shade(span_memo *m, span_memo *table,
                                                             uintptr_t p, gcwork *gw)
{
    if (memo_marked(m, p))
        return;
    span_memo *slot = &table[(p >> PAGE_SHIFT) % GCWORK_MEMO_SLOTS];
    if (!memo_marked(slot, p))
        memo_resolve(p, gw, slot);
    *m = *slot;
}

void mark_pointers(void *const *ptrs, size_t n, gcwork *gw)
{
    if (n < MEMO_MIN_VALUES) {
        for (size_t i = 0; i < n; i++)
            mark_pointer_inline((uintptr_t)ptrs[i], gw);
        return;
    }
    span_memo *table = gw->memo_table;
    for (size_t i = 0; i < GCWORK_MEMO_SLOTS; i++)
        table[i] = (span_memo){0, 0, all_marked, 0};
    span_memo m0 = table[0], m1 = table[0];
    void *const *p = ptrs, *const *pairs_end = ptrs + (n & ~(size_t)1);
    for (; p != pairs_end; p += 2) {
        memo_shade(&m0, table, (uintptr_t)p[0], gw);
        memo_shade(&m1, table, (uintptr_t)p[1], gw);
    }
    if (n & 1)
        memo_shade(&m0, table, (uintptr_t)p[0], gw);
}

NOPREEMPT_TEXT void mark_new_object(span *s, size_t idx)
{
    if (span_mark(s, idx))
        atomic_fetch_add_explicit(&mark_bytes_marked, s->elemsize, memory_order_relaxed);
}

NOTSAN void mark_scan_block(uintptr_t lo, uintptr_t hi, gcwork *gw)
{
    lo = (lo + 7) & ~(uintptr_t)7;
    for (uintptr_t a = lo; a + sizeof(uintptr_t) <= hi; a += sizeof(uintptr_t)) {
        uintptr_t v = __atomic_load_n((uintptr_t *)a, __ATOMIC_RELAXED);
        if (v >= 4096)
            mark_pointer(v, gw);
    }
}

typedef struct scan_ctx {
    gcwork *gw;
} scan_ctx;

static void scan_fn_mark(const void *ptr, void *ctx)
{
    mark_pointer((uintptr_t)ptr, ((scan_ctx *)ctx)->gw);
}

/* Inlined into the drain loop, which scans most objects.  Returns the
 * bytes scanned. */
static inline __attribute__((always_inline)) size_t scan_object(uintptr_t base, gcwork *gw)
{
    span *s = span_of(base);
    size_t size = s->elemsize;
    const tc_type *t = span_slot_type(s, span_is_large(s) ? 0 : span_object_index(s, base));
    if (t == NULL) {
        mark_scan_block(base, base + size, gw);
    } else if (t->scan != NULL) {
        scan_ctx ctx = {gw};
        t->scan((const void *)base, size, scan_fn_mark, &ctx);
    } else {
        /* The layout in locals: the atomic loads below would otherwise make
         * the compiler reload it for every field. */
        const size_t tsize = t->size, n_ptrs = t->n_ptrs, *offs = t->ptr_offsets;
        for (uintptr_t elem = base; elem + tsize <= base + size; elem += tsize)
            for (size_t i = 0; i < n_ptrs; i++) {
                uintptr_t v = __atomic_load_n((uintptr_t *)(elem + offs[i]), __ATOMIC_RELAXED);
                if (v >= 4096)
                    mark_pointer_inline(v, gw);
            }
    }
    gw->scan_work += size;
    gw->bytes_marked += size;
    return size;
}

NOTSAN void mark_scan_object(uintptr_t base, gcwork *gw)
{
    (void)scan_object(base, gw);
}

typedef struct slots_ctx {
    void (*fn)(uintptr_t slot, uintptr_t value, void *arg);
    void *arg;
    uintptr_t base;
} slots_ctx;

static void scan_fn_slots(const void *ptr, void *ctx)
{
    slots_ctx *c = ctx;
    c->fn(0, (uintptr_t)ptr, c->arg); /* a scan function does not say where */
}

NOTSAN void mark_object_slots(uintptr_t base, void (*fn)(uintptr_t, uintptr_t, void *), void *arg)
{
    span *s = span_of(base);
    size_t size = s->elemsize;
    const tc_type *t = span_slot_type(s, span_is_large(s) ? 0 : span_object_index(s, base));
    if (span_is_noscan(s))
        return;
    if (t == NULL) {
        for (uintptr_t a = base; a + 8 <= base + size; a += 8)
            fn(a, __atomic_load_n((uintptr_t *)a, __ATOMIC_RELAXED), arg);
    } else if (t->scan != NULL) {
        slots_ctx c = {fn, arg, base};
        t->scan((const void *)base, size, scan_fn_slots, &c);
    } else {
        for (size_t off = 0; off + t->size <= size; off += t->size)
            for (size_t i = 0; i < t->n_ptrs; i++) {
                uintptr_t a = base + off + t->ptr_offsets[i];
                fn(a, __atomic_load_n((uintptr_t *)a, __ATOMIC_RELAXED), arg);
            }
    }
}

void mark_flush_counters(gcwork *gw)
{
    if (gw->bytes_marked)
        atomic_fetch_add_explicit(&mark_bytes_marked, gw->bytes_marked, memory_order_relaxed);
    if (gw->scan_work)
        atomic_fetch_add_explicit(&mark_scan_work, gw->scan_work, memory_order_relaxed);
    gw->bytes_marked = gw->scan_work = 0;
}

/*
 * Draining hides the cache miss of loading each grey object: an object is
 * taken from the work buffers PREFETCH_DEPTH objects before it is scanned,
 * and its first line is prefetched then (the prefetch ring, as OCaml's and
 * bdwgc's markers do).  Scanning an object is then mostly a hit, and the
 * misses of the next objects overlap with it.  Objects in the ring are
 * grey objects held by this drain only: they go back to the work buffers
 * before it returns.
 */
#define PREFETCH_DEPTH 8

NOTSAN int64_t mark_drain(gcwork *gw, int64_t budget)
{
    /* Each turn takes one object from the buffers into the ring and scans
     * the one it displaces, taken PREFETCH_DEPTH turns earlier.  Once the
     * buffers are dry the ring drains (empty slots rotate through), and
     * scanning may refill the buffers. */
    uintptr_t ring[PREFETCH_DEPTH] = {0};
    unsigned head = 0, n = 0;
    int64_t done = 0, limit = budget < 0 ? INT64_MAX : budget;
    while (done < limit) {
        uintptr_t obj = gcwork_get(gw);
        if (obj != 0) {
            __builtin_prefetch((const void *)obj);
            n++;
        } else if (n == 0) {
            break;
        }
        uintptr_t victim = ring[head];
        ring[head] = obj;
        head = (head + 1) % PREFETCH_DEPTH;
        if (victim != 0) {
            n--;
            done += (int64_t)scan_object(victim, gw);
            /* Others (assists, workers) find work only on the global list:
             * share as soon as it runs dry (Go's gcWork.balance). */
            if (workbuf_full_empty())
                gcwork_balance(gw);
        }
    }
    for (unsigned i = 0; i < PREFETCH_DEPTH; i++) /* unscanned: back to the buffers */
        if (ring[i] != 0)
            gcwork_put(gw, ring[i]);
    return done;
}
