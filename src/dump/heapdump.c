/*
 * heapdump.c -- tc_heap_dump: a snapshot of the whole heap written to a
 * file descriptor (Go's debug.WriteHeapDump).  The format is specified in
 * docs/heapdump-format.md, its numbers in heapdump_format.h, and
 * tools/heapdump/ reads it.
 *
 * What is written: every allocated object (address, usable size, type,
 * and its outgoing pointers: the slot and the object pointed to), the
 * types and their names (a string table), every attached thread with the
 * words of its stack and saved registers that point to objects, the global
 * data segments and the ranges registered with tc_root_add with the same,
 * finalizers (set, and queued to run), weak handles, and tc_stats.
 * Outgoing pointers are found the way marking finds them (mark.c): the
 * type's pointer offsets per array element, its scan function (which does
 * not say where a pointer was, so the slot is the report's ordinal), every
 * word of an untyped object, none for noscan.  Only words that point into
 * an allocated object count, and the edge names that object's base.
 *
 * Consistency.  The snapshot is taken with the world stopped and sweeping
 * finished, so that "allocated" means exactly what the allocation bits say
 * and no object appears, moves from free to allocated, or loses its
 * memory while we read.  The calling thread first finishes sweeping with
 * preemption off (as an allocation's lazy sweep does: a stop cannot
 * complete in the middle), then, as a blocking thread, stops the world and
 * checks that every in-use span is swept (sweepgen h or h + 3).  The
 * collector's thread is not stopped by a stop-the-world and may have begun
 * sweeping a new cycle in between; then the world is restarted and the
 * whole thing retried.  Once every span is swept with the world stopped,
 * nothing can change an allocation bit until the world restarts: the
 * collector would need a stop of its own to end a mark phase, and concurrent
 * marking only touches mark bits.
 *
 * Memory.  The dump allocates nothing in the GC heap and calls no malloc
 * (a thread suspended by the signal may hold malloc's lock): records are
 * built in buffers from sys_alloc, charged to MEMSTAT_OTHER and freed
 * before returning.  Statistics are read before the world stops (reading
 * them takes locks a stop holds); the file is written after the world
 * restarts, holding no lock, as a blocking thread.
 *
 * The calling thread's own stack is recorded from the frame of
 * tc_heap_dump upwards (its callers' callee-saved registers are spilled
 * there), not from the dumper's frames, which hold the addresses it is
 * working on.
 *
 * Locking: registry.lock for the whole stop (stw_start); inside it, in
 * rank order and one at a time, roots_lock, specials_lock, finq_lock and
 * the heap lock, each taken by the iteration helpers of those modules.
 */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include "../base/nopreempt.h"
#include "../base/throw.h"
#include "../gc/finalizer.h"
#include "../gc/mark.h"
#include "../gc/roots.h"
#include "../gc/special.h"
#include "../gc/sweep.h"
#include "../heap/page_heap.h"
#include "../heap/type.h"
#include "../mutator/safepoint.h"
#include "../mutator/thread.h"
#include "../sys/sys.h"
#include "heapdump_format.h"
#include "tricolor.h"

/* Stacks, globals and objects are read while their owners are stopped,
 * redzones included (conservative scanning, as mark.c). */
#define NOTSAN __attribute__((no_sanitize("thread", "address")))

#define BUF_MIN (64 * 1024)        /* first size of a buffer; a multiple of SYS_PAGE_SIZE */
#define STRING_SLOTS (1u << 17)    /* string hash table: twice TYPE_MAX_ID + 1 */
#define SWEPT_RETRY_SLEEP_AFTER 3  /* attempts before backing off between tries */

/* ---- Buffers (sys_alloc memory, doubled as needed) ------------------------ */

typedef struct buf {
    uint8_t *p;
    size_t len, cap;
    bool oom;       /* a growth failed: the dump returns TC_ENOMEM */
} buf;

static bool buf_reserve(buf *b, size_t more)
{
    if (b->oom)
        return false;
    if (b->cap - b->len >= more)
        return true;
    size_t cap = b->cap ? b->cap : BUF_MIN;
    while (cap - b->len < more) {
        if (cap > SIZE_MAX / 4) {
            b->oom = true;
            return false;
        }
        cap *= 2;
    }
    uint8_t *p = sys_alloc(cap, MEMSTAT_OTHER);
    if (p == NULL) {
        b->oom = true;
        return false;
    }
    if (b->len)
        memcpy(p, b->p, b->len);
    if (b->p != NULL)
        sys_free(b->p, b->cap, MEMSTAT_OTHER);
    b->p = p;
    b->cap = cap;
    return true;
}

static void buf_free(buf *b)
{
    if (b->p != NULL)
        sys_free(b->p, b->cap, MEMSTAT_OTHER);
    memset(b, 0, sizeof *b);
}

static void put_bytes(buf *b, const void *p, size_t n)
{
    if (n == 0 || !buf_reserve(b, n))
        return;
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

static void put_u8(buf *b, uint8_t v)
{
    if (b->len < b->cap || buf_reserve(b, 1))
        b->p[b->len++] = v;
}

/* Unsigned LEB128: 7 bits per byte, low bits first, high bit = more. */
static void put_uvarint(buf *b, uint64_t v)
{
    if (b->cap - b->len < 10 && !buf_reserve(b, 10))
        return;
    uint8_t *p = b->p + b->len;
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    b->len = (size_t)(p - b->p);
}

static void put_string(buf *b, const char *s)
{
    size_t n = strlen(s);
    put_uvarint(b, n);
    put_bytes(b, s, n);
}

/* CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), a byte at a
 * time from a table each dump builds for itself (no shared state).  The
 * dump is checksummed as it is written, after the world has restarted. */
typedef struct crc32_state {
    uint32_t table[256];
    uint32_t crc;
} crc32_state;

static void crc32_init(crc32_state *c)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t v = i;
        for (int k = 0; k < 8; k++)
            v = (v >> 1) ^ (0xEDB88320u & (0u - (v & 1)));
        c->table[i] = v;
    }
    c->crc = 0xFFFFFFFFu;
}

static void crc32_update(crc32_state *c, const uint8_t *p, size_t n)
{
    uint32_t crc = c->crc;
    for (size_t i = 0; i < n; i++)
        crc = c->table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    c->crc = crc;
}

static uint32_t crc32_final(const crc32_state *c) { return ~c->crc; }

/* ---- The dumper ------------------------------------------------------------ */

typedef struct string_slot {
    const char *s;   /* NULL: empty slot */
    uint32_t index;
} string_slot;

typedef struct dumper {
    buf head;        /* INFO, STATS */
    buf types;       /* STRING and TYPE records, written before the objects */
    buf body;        /* OBJECT, THREAD, ROOT, FINALIZER, QUEUED_FINALIZER, WEAK */
    buf rec;         /* the payload of the record being built */
    buf edges;       /* the edges of the record being built */
    uint64_t nedges;
    uint64_t nrecords;
    uint32_t *type_index;   /* by type id: the type's index in the dump, 0 = not written yet */
    uint32_t ntypes;
    string_slot *strings;   /* open addressing, STRING_SLOTS entries */
    uint32_t nstrings;
    bool oom;
} dumper;

static void rec_begin(dumper *d)
{
    d->rec.len = 0;
    d->edges.len = 0;
    d->nedges = 0;
}

static void rec_end(dumper *d, buf *to, enum hd_tag tag)
{
    put_u8(to, (uint8_t)tag);
    put_uvarint(to, d->rec.len);
    put_bytes(to, d->rec.p, d->rec.len);
    d->nrecords++;
}

/* Appends the collected edges (count, then each) to the record. */
static void rec_put_edges(dumper *d)
{
    put_uvarint(&d->rec, d->nedges);
    put_bytes(&d->rec, d->edges.p, d->edges.len);
}

static bool dumper_oom(const dumper *d)
{
    return d->oom || d->head.oom || d->types.oom || d->body.oom || d->rec.oom || d->edges.oom;
}

/* The base of the allocated object holding p, or 0. */
static uintptr_t object_at(uintptr_t p)
{
    size_t i;
    span *s = span_find_object(p, &i);
    return s != NULL ? span_object_base(s, i) : 0;
}

/* Records an edge if value points into an object. */
static void edge_add(dumper *d, uint64_t slot, uintptr_t value)
{
    uintptr_t base = object_at(value);
    if (base == 0)
        return;
    put_uvarint(&d->edges, slot);
    put_uvarint(&d->edges, base);
    put_uvarint(&d->edges, value - base);
    d->nedges++;
}

/* Every aligned word of [lo, hi); slots are offsets from lo. */
NOTSAN static void edges_of_range(dumper *d, uintptr_t lo, uintptr_t hi)
{
    for (uintptr_t a = (lo + 7) & ~(uintptr_t)7; a + sizeof(uintptr_t) <= hi && a >= lo;
         a += sizeof(uintptr_t))
        edge_add(d, a - lo, __atomic_load_n((uintptr_t *)a, __ATOMIC_RELAXED));
}

static uint32_t string_ref(dumper *d, const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const char *c = s; *c; c++)
        h = (h ^ (uint8_t)*c) * 16777619u;
    for (uint32_t i = h & (STRING_SLOTS - 1);; i = (i + 1) & (STRING_SLOTS - 1)) {
        string_slot *sl = &d->strings[i];
        if (sl->s == NULL) {
            sl->s = s;
            sl->index = ++d->nstrings;
            rec_begin(d);
            put_uvarint(&d->rec, sl->index);
            put_string(&d->rec, s);
            rec_end(d, &d->types, HD_TAG_STRING);
            return sl->index;
        }
        if (strcmp(sl->s, s) == 0)
            return sl->index;
    }
}

/* The type's index in the dump, writing its records the first time.  Must
 * be called before an object's record is begun (it uses d->rec). */
static uint32_t type_ref(dumper *d, const tc_type *t)
{
    if (t == NULL)
        return 0;
    if (d->type_index[t->id] != 0)
        return d->type_index[t->id];
    uint32_t name = string_ref(d, t->name != NULL ? t->name : "");
    uint32_t index = d->type_index[t->id] = ++d->ntypes;
    rec_begin(d);
    put_uvarint(&d->rec, index);
    put_uvarint(&d->rec, name);
    put_uvarint(&d->rec, t->size);
    put_uvarint(&d->rec, t->scan != NULL ? HD_SCAN_FUNCTION : HD_SCAN_OFFSETS);
    size_t n = t->scan != NULL ? 0 : t->n_ptrs;
    put_uvarint(&d->rec, n);
    for (size_t i = 0; i < n; i++)
        put_uvarint(&d->rec, t->ptr_offsets[i]);
    rec_end(d, &d->types, HD_TAG_TYPE);
    return index;
}

/* ---- Objects --------------------------------------------------------------- */

typedef struct scan_report {
    dumper *d;
    uint64_t ordinal;
} scan_report;

static void scan_fn_edge(const void *ptr, void *ctx)
{
    scan_report *r = ctx;
    edge_add(r->d, r->ordinal++, (uintptr_t)ptr);
}

NOTSAN static void dump_object(dumper *d, span *s, size_t idx)
{
    uintptr_t base = span_object_base(s, idx);
    size_t size = s->elemsize;
    const tc_type *t = span_slot_type(s, idx);
    uint32_t tix = type_ref(d, t);
    enum hd_scan scan = span_is_noscan(s) ? HD_SCAN_NONE
                        : t == NULL       ? HD_SCAN_CONSERVATIVE
                        : t->scan != NULL ? HD_SCAN_FUNCTION
                                          : HD_SCAN_OFFSETS;
    rec_begin(d);
    switch (scan) {
    case HD_SCAN_NONE:
        break;
    case HD_SCAN_CONSERVATIVE:
        edges_of_range(d, base, base + size);
        break;
    case HD_SCAN_FUNCTION: {
        scan_report r = {d, 0};
        t->scan((const void *)base, size, scan_fn_edge, &r);
        break;
    }
    case HD_SCAN_OFFSETS:
        for (size_t off = 0; off + t->size <= size; off += t->size)
            for (size_t i = 0; i < t->n_ptrs; i++) {
                uintptr_t slot = base + off + t->ptr_offsets[i];
                edge_add(d, slot - base, __atomic_load_n((uintptr_t *)slot, __ATOMIC_RELAXED));
            }
        break;
    }
    put_uvarint(&d->rec, base);
    put_uvarint(&d->rec, size);
    put_uvarint(&d->rec, tix);
    put_uvarint(&d->rec, scan);
    rec_put_edges(d);
    rec_end(d, &d->body, HD_TAG_OBJECT);
}

static void dump_objects(dumper *d)
{
    size_t n;
    span *const *all = allspans_begin_read(&n);
    for (size_t k = 0; k < n && !dumper_oom(d); k++) {
        span *s = all[k];
        if (atomic_load_explicit(&s->state, memory_order_acquire) != SPAN_IN_USE)
            continue;
        for (size_t i = 0; i < s->nelems; i++)
            if (span_slot_allocated(s, i))
                dump_object(d, s, i);
    }
    allspans_end_read();
}

/* ---- Roots ------------------------------------------------------------------ */

static void root_record(dumper *d, enum hd_root_kind kind, uint64_t owner, uintptr_t lo, uintptr_t hi)
{
    /* The edges are in d->edges already. */
    d->rec.len = 0;
    put_uvarint(&d->rec, kind);
    put_uvarint(&d->rec, owner);
    put_uvarint(&d->rec, lo);
    put_uvarint(&d->rec, hi);
    rec_put_edges(d);
    rec_end(d, &d->body, HD_TAG_ROOT);
}

static enum hd_thread_state thread_state_of(int st)
{
    switch (st) {
    case THREAD_BLOCKING: return HD_THREAD_BLOCKING;
    case THREAD_PARKED: return HD_THREAD_PARKED;
    case THREAD_SUSPENDED: return HD_THREAD_SUSPENDED;
    default: return HD_THREAD_RUNNING;
    }
}

/* Every attached thread (registry.lock held by the stop). */
static void dump_threads(dumper *d, uintptr_t self_lo)
{
    uint64_t id = 0;
    for (thread_ctx *t = registry.first; t != NULL; t = t->next) {
        id++;
        bool self = t == tls_thread;
        uintptr_t lo = self ? self_lo : t->saved_sp;
        if (lo < t->stack_lo || lo > t->stack_hi)
            lo = t->stack_lo; /* as roots_scan_stw: an sp outside the bounds means all of it */
        size_t nregs = self ? 0 : t->nregs;
        rec_begin(d);
        put_uvarint(&d->rec, id);
        put_uvarint(&d->rec, thread_state_of(atomic_load(&t->state)));
        put_uvarint(&d->rec, self ? HD_THREAD_FLAG_SELF : 0);
        put_uvarint(&d->rec, t->stack_lo);
        put_uvarint(&d->rec, t->stack_hi);
        put_uvarint(&d->rec, lo);
        put_uvarint(&d->rec, nregs);
        rec_end(d, &d->body, HD_TAG_THREAD);

        rec_begin(d);
        edges_of_range(d, lo, t->stack_hi);
        root_record(d, HD_ROOT_STACK, id, lo, t->stack_hi);
        if (nregs > 0) {
            rec_begin(d);
            for (size_t i = 0; i < nregs; i++)
                edge_add(d, i, t->regs[i]);
            root_record(d, HD_ROOT_REGISTERS, id, 0, nregs);
        }
    }
}

static void range_cb(root_range_kind kind, uintptr_t lo, uintptr_t hi, void *arg)
{
    dumper *d = arg;
    rec_begin(d);
    edges_of_range(d, lo, hi);
    root_record(d, kind == ROOT_RANGE_GLOBAL ? HD_ROOT_GLOBAL : HD_ROOT_REGISTERED, 0, lo, hi);
}

/* A finalizer's fields; its argument may point into an object too. */
static void finalizer_record(dumper *d, enum hd_tag tag, uintptr_t obj, uintptr_t fn, uintptr_t arg)
{
    uintptr_t target = object_at(arg);
    rec_begin(d);
    put_uvarint(&d->rec, obj);
    put_uvarint(&d->rec, fn);
    put_uvarint(&d->rec, arg);
    put_uvarint(&d->rec, target);
    put_uvarint(&d->rec, target ? arg - target : 0);
    rec_end(d, &d->body, tag);
}

static void special_cb(span *s, const special *sp, void *arg)
{
    dumper *d = arg;
    uintptr_t obj = span_object_base(s, sp->index);
    if (sp->kind == SPECIAL_FINALIZER) {
        finalizer_record(d, HD_TAG_FINALIZER, obj, (uintptr_t)sp->u.fin.fn, (uintptr_t)sp->u.fin.arg);
    } else if (sp->kind == SPECIAL_WEAK) {
        rec_begin(d);
        put_uvarint(&d->rec, obj);
        put_uvarint(&d->rec, (uintptr_t)sp->u.weak.handle);
        rec_end(d, &d->body, HD_TAG_WEAK);
    }
}

static void finq_cb(void (*fn)(void *, void *), void *obj, void *arg, void *ctx)
{
    finalizer_record(ctx, HD_TAG_QUEUED_FINALIZER, (uintptr_t)obj, (uintptr_t)fn, (uintptr_t)arg);
}

/* ---- Header, information, statistics ------------------------------------- */

static void dump_info(dumper *d, uint64_t now_ns, uint32_t num_gc)
{
    int phase = atomic_load(&gc_phase_now);
    rec_begin(d);
    put_uvarint(&d->rec, now_ns);
    put_uvarint(&d->rec, (uint64_t)getpid());
    put_uvarint(&d->rec, phase == GC_MARK ? HD_PHASE_MARK : phase == GC_MARKTERM ? HD_PHASE_MARKTERM : HD_PHASE_OFF);
    put_uvarint(&d->rec, num_gc);
    rec_end(d, &d->head, HD_TAG_INFO);
}

static void stat_put(dumper *d, const char *name, uint64_t v)
{
    put_string(&d->rec, name);
    put_uvarint(&d->rec, v);
}

static void dump_stats(dumper *d, const tc_stats *st)
{
    static const char *const names[] = {
        "heap_alloc", "heap_objects", "heap_inuse", "heap_idle", "heap_released", "heap_sys",
        "total_alloc", "mallocs", "frees", "sys", "gc_sys", "other_sys", "next_gc", "last_gc_ns",
        "pause_total_ns", "pause_max_ns", "num_gc", "num_forced_gc", "gc_cpu_fraction_ppm",
        "finalizers_queued", "finalizers_run", "weak_handles", "memory_limit", "memory_total",
        "released_total", "limiter_ns", "limit_exceeded_cycles",
    };
    const uint64_t values[] = {
        st->heap_alloc, st->heap_objects, st->heap_inuse, st->heap_idle, st->heap_released,
        st->heap_sys, st->total_alloc, st->mallocs, st->frees, st->sys, st->gc_sys,
        st->other_sys, st->next_gc, st->last_gc_ns, st->pause_total_ns, st->pause_max_ns,
        st->num_gc, st->num_forced_gc, (uint64_t)(st->gc_cpu_fraction * 1e6 + 0.5),
        st->finalizers_queued, st->finalizers_run, st->weak_handles, st->memory_limit,
        st->memory_total, st->released_total, st->limiter_ns, st->limit_exceeded_cycles,
    };
    _Static_assert(sizeof names / sizeof names[0] == sizeof values / sizeof values[0],
                   "a name per statistic");
    rec_begin(d);
    put_uvarint(&d->rec, sizeof values / sizeof values[0]);
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++)
        stat_put(d, names[i], values[i]);
    rec_end(d, &d->head, HD_TAG_STATS);
}

/* ---- Stopping the world on a swept heap ------------------------------------ */

/* With the world stopped: whether every in-use span is swept for this
 * cycle (sweepgen h, or h + 3: swept and cached). */
static bool heap_swept_stw(void)
{
    uint32_t h = atomic_load(&heap.sweepgen);
    size_t n;
    span *const *all = allspans_begin_read(&n);
    bool swept = true;
    for (size_t k = 0; k < n && swept; k++) {
        span *s = all[k];
        if (atomic_load_explicit(&s->state, memory_order_acquire) != SPAN_IN_USE)
            continue;
        uint32_t sg = atomic_load_explicit(&s->sweepgen, memory_order_acquire);
        swept = sg == h || sg == h + 3;
    }
    allspans_end_read();
    return swept;
}

/* Returns with the world stopped, the heap swept and the caller blocking. */
static void stop_swept_world(thread_ctx *self)
{
    for (int attempt = 0;; attempt++) {
        self->cache.nopreempt++;
        sweep_finish();
        self->cache.nopreempt--;
        runtime_wait_begin(self);
        stw_start();
        if (heap_swept_stw())
            return;
        stw_end();
        runtime_wait_end(self, true);
        if (attempt >= SWEPT_RETRY_SLEEP_AFTER)
            usleep(1000);
        else
            sched_yield();
    }
}

/* ---- Writing ---------------------------------------------------------------- */

static int write_all(int fd, const uint8_t *p, size_t n, crc32_state *crc)
{
    crc32_update(crc, p, n);
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return TC_EIO;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int write_dump(int fd, dumper *d)
{
    uint8_t header[HD_HEADER_SIZE] = {HD_MAGIC[0], HD_MAGIC[1], HD_MAGIC[2], HD_MAGIC[3],
                                      HD_VERSION & 0xff, HD_VERSION >> 8, HD_PTR_SIZE, 0};
    crc32_state crc;
    crc32_init(&crc);
    int rc = write_all(fd, header, sizeof header, &crc);
    const buf *parts[] = {&d->head, &d->types, &d->body};
    for (size_t i = 0; i < 3 && rc == 0; i++)
        rc = write_all(fd, parts[i]->p, parts[i]->len, &crc);
    if (rc != 0)
        return rc;
    /* END: the count of the records before it, and the CRC of every byte
     * before its tag (fixed-width, little-endian). */
    uint8_t end[16];
    size_t n = 0;
    uint8_t payload[14];
    size_t pn = 0;
    uint64_t v = d->nrecords;
    while (v >= 0x80) {
        payload[pn++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    payload[pn++] = (uint8_t)v;
    uint32_t sum = crc32_final(&crc);
    for (int i = 0; i < 4; i++)
        payload[pn++] = (uint8_t)(sum >> (8 * i));
    end[n++] = HD_TAG_END;
    end[n++] = (uint8_t)pn;
    memcpy(end + n, payload, pn);
    n += pn;
    return write_all(fd, end, n, &crc);
}

/* ---- tc_heap_dump ------------------------------------------------------------ */

static void dumper_free(dumper *d)
{
    buf_free(&d->head);
    buf_free(&d->types);
    buf_free(&d->body);
    buf_free(&d->rec);
    buf_free(&d->edges);
    if (d->type_index != NULL)
        sys_free(d->type_index, (TYPE_MAX_ID + 1) * sizeof(uint32_t), MEMSTAT_OTHER);
    if (d->strings != NULL)
        sys_free(d->strings, STRING_SLOTS * sizeof(string_slot), MEMSTAT_OTHER);
}

/* self_lo: the lowest address of tc_heap_dump's frame, where the caller's
 * registers were spilled. */
static NOINLINE int dump_main(int fd, thread_ctx *self)
{
    uintptr_t self_lo = (uintptr_t)__builtin_frame_address(0) + 2 * sizeof(void *);
    tc_stats st;
    tc_read_stats(&st);
    uint64_t now = sys_walltime();

    dumper d;
    memset(&d, 0, sizeof d);
    d.type_index = sys_alloc((TYPE_MAX_ID + 1) * sizeof(uint32_t), MEMSTAT_OTHER);
    d.strings = sys_alloc(STRING_SLOTS * sizeof(string_slot), MEMSTAT_OTHER);
    /* Room for what the heap probably needs (about 20 bytes an object),
     * faulted in now rather than while the world is stopped. */
    size_t guess = (size_t)st.heap_objects * 24 + BUF_MIN;
    if (!buf_reserve(&d.body, guess))
        d.body.oom = false; /* start small; it grows as needed */
    if (d.type_index == NULL || d.strings == NULL || !buf_reserve(&d.body, BUF_MIN)) {
        dumper_free(&d);
        return TC_ENOMEM;
    }
    for (size_t off = 0; off < d.body.cap; off += SYS_PAGE_SIZE)
        ((volatile uint8_t *)d.body.p)[off] = 0;
    dump_info(&d, now, st.num_gc);
    dump_stats(&d, &st);

    roots_find_globals(); /* libraries loaded since the last cycle */
    stop_swept_world(self);
    dump_objects(&d);
    dump_threads(&d, self_lo);
    roots_for_each_range(range_cb, &d);
    specials_for_each(special_cb, &d);
    finq_for_each(finq_cb, &d);
    stw_end();

    int rc = dumper_oom(&d) ? TC_ENOMEM : write_dump(fd, &d);
    runtime_wait_end(self, true); /* blocking while writing: no stop waits for us */
    dumper_free(&d);
    return rc;
}

TC_API int tc_heap_dump(int fd)
{
    thread_ctx *self = tls_thread;
    if (self == NULL || atomic_load(&self->state) != THREAD_RUNNING)
        return TC_ESTATE;
    if (fd < 0)
        return TC_EINVAL;
    __builtin_unwind_init(); /* the caller's callee-saved registers into this frame */
    int rc = dump_main(fd, self);
    __asm__ volatile("" ::: "memory"); /* no tail call: the frame must stay */
    return rc;
}
