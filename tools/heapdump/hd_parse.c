/*
 * hd_parse.c -- the heap dump reader.
 *
 * Parsing runs in two passes over memory that is already loaded:
 *
 *  1. Records.  Check the header, then read records one at a time: a tag
 *     byte, a length varint, a payload that must fit in the file.  Each
 *     known payload is decoded through a cursor bounded by the payload's
 *     end, so no field can be read past its record, let alone past the
 *     file; bytes after the fields a record kind defines are ignored (a
 *     newer writer may append fields), unknown tags are skipped whole.
 *     Counts are checked against the bytes left before anything is
 *     allocated for them (every edge takes at least three bytes), so a
 *     forged count cannot make the reader allocate more than a small
 *     multiple of the file's size.  The END record must come last and
 *     agree on the record count and the CRC-32 of everything before it.
 *  2. Resolution.  Objects are sorted by address and must not overlap;
 *     every reference -- a type's name, an object's type, each edge's
 *     target, finalizers' and weak handles' objects -- must name something
 *     the dump defines, and each is replaced by an index.
 *
 * Every failure returns -1 with "offset N: ..." in d->error, N being the
 * file offset of the byte (or record) at fault, and frees whatever was
 * allocated.  The reader never trusts a length, count or index from the
 * file before checking it, and uses no recursion.
 */
#include "hd_parse.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dump/heapdump_format.h"

/* ---- Errors and cursors ------------------------------------------------------ */

typedef struct cursor {
    const uint8_t *base;  /* start of the file: offsets are relative to it */
    const uint8_t *p, *end;
    hd_dump *d;
    bool failed;
} cursor;

static void __attribute__((format(printf, 3, 4))) fail_at(hd_dump *d, uint64_t off, const char *fmt, ...)
{
    if (d->error[0] != '\0')
        return; /* the first error is the one reported */
    int n = snprintf(d->error, sizeof d->error, "offset %llu: ", (unsigned long long)off);
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof d->error)
        vsnprintf(d->error + n, sizeof d->error - (size_t)n, fmt, ap);
    va_end(ap);
}

static uint64_t cur_off(const cursor *c) { return (uint64_t)(c->p - c->base); }

static bool get_u8(cursor *c, uint8_t *v, const char *what)
{
    if (c->failed)
        return false;
    if (c->p >= c->end) {
        fail_at(c->d, cur_off(c), "truncated %s: the record ends first", what);
        c->failed = true;
        return false;
    }
    *v = *c->p++;
    return true;
}

static bool get_uvarint(cursor *c, uint64_t *v, const char *what)
{
    if (c->failed)
        return false;
    uint64_t start = cur_off(c), x = 0;
    for (unsigned shift = 0;; shift += 7) {
        if (c->p >= c->end) {
            fail_at(c->d, start, "truncated varint (%s): the record ends first", what);
            c->failed = true;
            return false;
        }
        uint8_t b = *c->p++;
        if (shift == 63 && (b & 0x7e) != 0) {
            fail_at(c->d, start, "varint (%s) does not fit in 64 bits", what);
            c->failed = true;
            return false;
        }
        x |= (uint64_t)(b & 0x7f) << shift;
        if ((b & 0x80) == 0)
            break;
        if (shift == 63) {
            fail_at(c->d, start, "varint (%s) longer than 10 bytes", what);
            c->failed = true;
            return false;
        }
    }
    *v = x;
    return true;
}

static size_t cur_left(const cursor *c) { return (size_t)(c->end - c->p); }

/* A count of items each at least min_bytes long that must fit in what is left. */
static bool get_count(cursor *c, uint64_t *n, size_t min_bytes, const char *what)
{
    uint64_t start = cur_off(c);
    if (!get_uvarint(c, n, what))
        return false;
    if (*n > cur_left(c) / min_bytes) {
        fail_at(c->d, start, "%s count %llu exceeds what the record holds (%zu bytes left)", what,
                (unsigned long long)*n, cur_left(c));
        c->failed = true;
        return false;
    }
    return true;
}

/* A length-prefixed string, copied and NUL-terminated. */
static char *get_string(cursor *c, const char *what)
{
    uint64_t start = cur_off(c), n;
    if (!get_uvarint(c, &n, what))
        return NULL;
    if (n > cur_left(c)) {
        fail_at(c->d, start, "%s of %llu bytes runs past the end of its record", what, (unsigned long long)n);
        c->failed = true;
        return NULL;
    }
    if (memchr(c->p, 0, (size_t)n) != NULL) {
        fail_at(c->d, start, "%s holds a NUL byte", what);
        c->failed = true;
        return NULL;
    }
    char *s = malloc((size_t)n + 1);
    if (s == NULL) {
        fail_at(c->d, start, "out of memory");
        c->failed = true;
        return NULL;
    }
    memcpy(s, c->p, (size_t)n);
    s[n] = '\0';
    c->p += n;
    return s;
}

/* ---- Growable arrays ------------------------------------------------------------ */

/* Makes room for one more element in *arr (count *n, capacity *cap). */
static bool grow(void **arr, size_t *cap, size_t n, size_t elem, size_t more, hd_dump *d, uint64_t off)
{
    if (*cap - n >= more)
        return true;
    size_t want = *cap ? *cap : 16;
    while (want - n < more) {
        if (want > SIZE_MAX / 2 / elem) {
            fail_at(d, off, "too many items");
            return false;
        }
        want *= 2;
    }
    void *p = realloc(*arr, want * elem);
    if (p == NULL) {
        fail_at(d, off, "out of memory");
        return false;
    }
    *arr = p;
    *cap = want;
    return true;
}

typedef struct caps {
    size_t strings, types, objects, edges, threads, roots, finalizers, weaks, stats, offsets;
} caps;

#define GROW(d, cp, field, capfield, more, off)                                                \
    grow((void **)&(d)->field, &(cp)->capfield, (d)->n##field, sizeof *(d)->field, (more), (d), (off))

/* ---- Records --------------------------------------------------------------------- */

/* Reads `n` edges (count already read) into d->edges. */
static bool read_edges(cursor *c, caps *cp, uint64_t n, size_t *first)
{
    hd_dump *d = c->d;
    *first = d->nedges;
    if (!GROW(d, cp, edges, edges, (size_t)n, cur_off(c)))
        return c->failed = true, false;
    for (uint64_t i = 0; i < n; i++) {
        hd_edge e = {0, 0, 0, HD_NONE};
        if (!get_uvarint(c, &e.slot, "edge slot") || !get_uvarint(c, &e.target, "edge target") ||
            !get_uvarint(c, &e.target_off, "edge target offset"))
            return false;
        d->edges[d->nedges++] = e;
    }
    return true;
}

static bool rec_info(cursor *c)
{
    hd_dump *d = c->d;
    if (d->has_info) {
        fail_at(d, cur_off(c), "a second INFO record");
        return false;
    }
    d->has_info = true;
    return get_uvarint(c, &d->time_ns, "time") && get_uvarint(c, &d->pid, "pid") &&
           get_uvarint(c, &d->phase, "phase") && get_uvarint(c, &d->num_gc, "num_gc");
}

static bool rec_stats(cursor *c, caps *cp)
{
    hd_dump *d = c->d;
    uint64_t n;
    if (!get_count(c, &n, 2, "statistics"))
        return false;
    if (!GROW(d, cp, stats, stats, (size_t)n, cur_off(c)))
        return false;
    for (uint64_t i = 0; i < n; i++) {
        char *name = get_string(c, "statistic name");
        if (name == NULL)
            return false;
        d->stats[d->nstats].name = name;
        d->stats[d->nstats].value = 0;
        d->nstats++;
        if (!get_uvarint(c, &d->stats[d->nstats - 1].value, "statistic value"))
            return false;
    }
    return true;
}

static bool rec_string(cursor *c, caps *cp)
{
    hd_dump *d = c->d;
    uint64_t off = cur_off(c), index;
    if (!get_uvarint(c, &index, "string index"))
        return false;
    if (index != d->nstrings + 1) {
        fail_at(d, off, "string index %llu out of sequence (expected %zu)", (unsigned long long)index,
                d->nstrings + 1);
        return false;
    }
    if (!GROW(d, cp, strings, strings, 1, off))
        return false;
    char *s = get_string(c, "string");
    if (s == NULL)
        return false;
    d->strings[d->nstrings++] = s;
    return true;
}

static bool rec_type(cursor *c, caps *cp)
{
    hd_dump *d = c->d;
    uint64_t off = cur_off(c), index, name, size, scan, n;
    if (!get_uvarint(c, &index, "type index"))
        return false;
    if (index != d->ntypes + 1) {
        fail_at(d, off, "type index %llu out of sequence (expected %zu)", (unsigned long long)index,
                d->ntypes + 1);
        return false;
    }
    if (!get_uvarint(c, &name, "type name") || !get_uvarint(c, &size, "type size") ||
        !get_uvarint(c, &scan, "type scan") || !get_count(c, &n, 1, "pointer offset"))
        return false;
    if (name == 0 || name > d->nstrings) {
        /* Strings are numbered in order, so a writer emits a name first. */
        fail_at(d, off, "type %llu names string %llu, which is not defined before it",
                (unsigned long long)index, (unsigned long long)name);
        return false;
    }
    if (scan != HD_SCAN_OFFSETS && scan != HD_SCAN_FUNCTION) {
        fail_at(d, off, "type %llu has scan kind %llu (1 or 2 expected)", (unsigned long long)index,
                (unsigned long long)scan);
        return false;
    }
    if (!GROW(d, cp, types, types, 1, off))
        return false;
    hd_type *t = &d->types[d->ntypes++];
    memset(t, 0, sizeof *t);
    t->name = d->strings[name - 1];
    t->size = size;
    t->scan = (unsigned)scan;
    if (n > 0) {
        t->offsets = malloc((size_t)n * sizeof *t->offsets);
        if (t->offsets == NULL) {
            fail_at(d, off, "out of memory");
            return false;
        }
    }
    for (uint64_t i = 0; i < n; i++) {
        uint64_t o;
        if (!get_uvarint(c, &o, "pointer offset"))
            return false;
        if (size < 8 || o > size - 8) {
            fail_at(d, off, "type %llu: pointer offset %llu outside its %llu bytes",
                    (unsigned long long)index, (unsigned long long)o, (unsigned long long)size);
            return false;
        }
        t->offsets[t->noffsets++] = o;
    }
    return true;
}

static bool rec_object(cursor *c, caps *cp, uint64_t rec_off)
{
    hd_dump *d = c->d;
    hd_object o;
    memset(&o, 0, sizeof o);
    uint64_t type, scan, n;
    if (!get_uvarint(c, &o.addr, "object address") || !get_uvarint(c, &o.size, "object size") ||
        !get_uvarint(c, &type, "object type") || !get_uvarint(c, &scan, "object scan") ||
        !get_count(c, &n, 3, "edge"))
        return false;
    if (o.size == 0 || o.addr == 0 || o.addr + o.size < o.addr) {
        fail_at(d, rec_off, "object 0x%llx of %llu bytes: empty, null or wrapping around",
                (unsigned long long)o.addr, (unsigned long long)o.size);
        return false;
    }
    if (type > UINT32_MAX) {
        fail_at(d, rec_off, "object 0x%llx: type index %llu too large", (unsigned long long)o.addr,
                (unsigned long long)type);
        return false;
    }
    if (scan > HD_SCAN_CONSERVATIVE) {
        fail_at(d, rec_off, "object 0x%llx: unknown scan kind %llu", (unsigned long long)o.addr,
                (unsigned long long)scan);
        return false;
    }
    if (scan == HD_SCAN_NONE && n != 0) {
        fail_at(d, rec_off, "object 0x%llx: noscan, yet it has %llu edges", (unsigned long long)o.addr,
                (unsigned long long)n);
        return false;
    }
    o.type = (uint32_t)type;
    o.scan = (uint8_t)scan;
    o.rec_off = rec_off;
    o.nedges = (size_t)n;
    if (!read_edges(c, cp, n, &o.edge_first))
        return false;
    if (scan == HD_SCAN_OFFSETS || scan == HD_SCAN_CONSERVATIVE)
        for (size_t i = 0; i < o.nedges; i++)
            if (o.size < 8 || d->edges[o.edge_first + i].slot > o.size - 8) {
                fail_at(d, rec_off, "object 0x%llx: edge slot %llu outside its %llu bytes",
                        (unsigned long long)o.addr, (unsigned long long)d->edges[o.edge_first + i].slot,
                        (unsigned long long)o.size);
                return false;
            }
    if (!GROW(d, cp, objects, objects, 1, rec_off))
        return false;
    d->objects[d->nobjects++] = o;
    d->total_bytes += o.size;
    return true;
}

static bool rec_thread(cursor *c, caps *cp)
{
    hd_dump *d = c->d;
    hd_thread t;
    if (!get_uvarint(c, &t.id, "thread id") || !get_uvarint(c, &t.state, "thread state") ||
        !get_uvarint(c, &t.flags, "thread flags") || !get_uvarint(c, &t.stack_lo, "stack low") ||
        !get_uvarint(c, &t.stack_hi, "stack high") || !get_uvarint(c, &t.scan_lo, "scan low") ||
        !get_uvarint(c, &t.nregs, "registers"))
        return false;
    if (!GROW(d, cp, threads, threads, 1, cur_off(c)))
        return false;
    d->threads[d->nthreads++] = t;
    return true;
}

static bool rec_root(cursor *c, caps *cp, uint64_t rec_off)
{
    hd_dump *d = c->d;
    hd_root r;
    memset(&r, 0, sizeof r);
    uint64_t n;
    if (!get_uvarint(c, &r.kind, "root kind") || !get_uvarint(c, &r.owner, "root owner") ||
        !get_uvarint(c, &r.lo, "root low") || !get_uvarint(c, &r.hi, "root high") ||
        !get_count(c, &n, 3, "edge"))
        return false;
    if (r.hi < r.lo) {
        fail_at(d, rec_off, "root range 0x%llx..0x%llx ends before it starts", (unsigned long long)r.lo,
                (unsigned long long)r.hi);
        return false;
    }
    r.nedges = (size_t)n;
    r.rec_off = rec_off;
    if (!read_edges(c, cp, n, &r.edge_first))
        return false;
    if (r.kind != HD_ROOT_REGISTERS)
        for (size_t i = 0; i < r.nedges; i++)
            if (r.hi - r.lo < 8 || d->edges[r.edge_first + i].slot > r.hi - r.lo - 8) {
                fail_at(d, rec_off, "root edge slot %llu outside the range's %llu bytes",
                        (unsigned long long)d->edges[r.edge_first + i].slot,
                        (unsigned long long)(r.hi - r.lo));
                return false;
            }
    if (!GROW(d, cp, roots, roots, 1, rec_off))
        return false;
    d->roots[d->nroots++] = r;
    return true;
}

static bool rec_finalizer(cursor *c, caps *cp, bool queued, uint64_t rec_off)
{
    hd_dump *d = c->d;
    hd_finalizer f;
    memset(&f, 0, sizeof f);
    if (!get_uvarint(c, &f.obj, "finalizer object") || !get_uvarint(c, &f.fn, "finalizer function") ||
        !get_uvarint(c, &f.arg, "finalizer argument") ||
        !get_uvarint(c, &f.arg_target, "finalizer argument target") ||
        !get_uvarint(c, &f.arg_off, "finalizer argument offset"))
        return false;
    f.queued = queued;
    f.rec_off = rec_off;
    f.obj_index = f.arg_index = HD_NONE;
    if (!GROW(d, cp, finalizers, finalizers, 1, cur_off(c)))
        return false;
    d->finalizers[d->nfinalizers++] = f;
    return true;
}

static bool rec_weak(cursor *c, caps *cp, uint64_t rec_off)
{
    hd_dump *d = c->d;
    hd_weak w = {0, 0, HD_NONE, HD_NONE, rec_off};
    if (!get_uvarint(c, &w.obj, "weak object") || !get_uvarint(c, &w.handle, "weak handle"))
        return false;
    if (!GROW(d, cp, weaks, weaks, 1, cur_off(c)))
        return false;
    d->weaks[d->nweaks++] = w;
    return true;
}

/* ---- CRC-32 (IEEE, reflected), table-driven --------------------------------------- */

static uint32_t crc_table[256];

static void crc_init(void)
{
    if (crc_table[1] != 0)
        return;
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
        crc_table[i] = c;
    }
}

static uint32_t crc32_of(const uint8_t *p, size_t n)
{
    crc_init();
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++)
        c = crc_table[(c ^ p[i]) & 0xff] ^ (c >> 8);
    return ~c;
}

/* ---- Resolution ------------------------------------------------------------------ */

static int cmp_object(const void *a, const void *b)
{
    const hd_object *x = a, *y = b;
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

size_t hd_object_find(const hd_dump *d, uint64_t a)
{
    size_t lo = 0, hi = d->nobjects;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (d->objects[mid].addr <= a)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return HD_NONE;
    const hd_object *o = &d->objects[lo - 1];
    return a - o->addr < o->size ? lo - 1 : HD_NONE;
}

/* The object based at `base` that holds base + off, or HD_NONE. */
static size_t object_exact(const hd_dump *d, uint64_t base, uint64_t off)
{
    size_t i = hd_object_find(d, base);
    if (i == HD_NONE || d->objects[i].addr != base || off >= d->objects[i].size)
        return HD_NONE;
    return i;
}

static bool resolve_edges(hd_dump *d, size_t first, size_t n, uint64_t rec_off, const char *holder,
                          uint64_t holder_addr)
{
    for (size_t i = first; i < first + n; i++) {
        hd_edge *e = &d->edges[i];
        e->to = object_exact(d, e->target, e->target_off);
        if (e->to == HD_NONE) {
            fail_at(d, rec_off, "%s 0x%llx: edge at slot %llu to 0x%llx+%llu, which is no object of the dump",
                    holder, (unsigned long long)holder_addr, (unsigned long long)e->slot,
                    (unsigned long long)e->target, (unsigned long long)e->target_off);
            return false;
        }
    }
    return true;
}

static bool resolve(hd_dump *d)
{
    if (d->nobjects > 1)
        qsort(d->objects, d->nobjects, sizeof *d->objects, cmp_object);
    for (size_t i = 0; i < d->nobjects; i++) {
        hd_object *o = &d->objects[i];
        if (i > 0 && o->addr - d->objects[i - 1].addr < d->objects[i - 1].size) {
            fail_at(d, o->rec_off, "object 0x%llx overlaps object 0x%llx", (unsigned long long)o->addr,
                    (unsigned long long)d->objects[i - 1].addr);
            return false;
        }
        if (o->type > d->ntypes) {
            fail_at(d, o->rec_off, "object 0x%llx has type %u, which the dump does not define",
                    (unsigned long long)o->addr, o->type);
            return false;
        }
    }
    for (size_t i = 0; i < d->nobjects; i++)
        if (!resolve_edges(d, d->objects[i].edge_first, d->objects[i].nedges, d->objects[i].rec_off,
                           "object", d->objects[i].addr))
            return false;
    for (size_t i = 0; i < d->nroots; i++)
        if (!resolve_edges(d, d->roots[i].edge_first, d->roots[i].nedges, d->roots[i].rec_off, "root range",
                           d->roots[i].lo))
            return false;
    for (size_t i = 0; i < d->nfinalizers; i++) {
        hd_finalizer *f = &d->finalizers[i];
        f->obj_index = object_exact(d, f->obj, 0);
        if (f->obj_index == HD_NONE) {
            fail_at(d, f->rec_off, "finalizer for 0x%llx, which is no object of the dump", (unsigned long long)f->obj);
            return false;
        }
        if (f->arg_target != 0) {
            f->arg_index = object_exact(d, f->arg_target, f->arg_off);
            if (f->arg_index == HD_NONE) {
                fail_at(d, f->rec_off, "finalizer argument points to 0x%llx+%llu, which is no object of the dump",
                        (unsigned long long)f->arg_target, (unsigned long long)f->arg_off);
                return false;
            }
        }
    }
    for (size_t i = 0; i < d->nweaks; i++) {
        hd_weak *w = &d->weaks[i];
        w->obj_index = object_exact(d, w->obj, 0);
        w->handle_index = object_exact(d, w->handle, 0);
        if (w->obj_index == HD_NONE || w->handle_index == HD_NONE) {
            fail_at(d, w->rec_off, "weak handle 0x%llx for 0x%llx: not both objects of the dump",
                    (unsigned long long)w->handle, (unsigned long long)w->obj);
            return false;
        }
    }
    return true;
}

/* ---- The file ---------------------------------------------------------------------- */

static const char *tag_name(unsigned tag)
{
    switch (tag) {
    case HD_TAG_INFO: return "INFO";
    case HD_TAG_STATS: return "STATS";
    case HD_TAG_STRING: return "STRING";
    case HD_TAG_TYPE: return "TYPE";
    case HD_TAG_OBJECT: return "OBJECT";
    case HD_TAG_THREAD: return "THREAD";
    case HD_TAG_ROOT: return "ROOT";
    case HD_TAG_FINALIZER: return "FINALIZER";
    case HD_TAG_QUEUED_FINALIZER: return "QUEUED_FINALIZER";
    case HD_TAG_WEAK: return "WEAK";
    case HD_TAG_END: return "END";
    default: return "unknown";
    }
}

static bool parse_records(const uint8_t *data, size_t len, unsigned flags, hd_dump *d)
{
    caps cp;
    memset(&cp, 0, sizeof cp);
    size_t pos = HD_HEADER_SIZE;
    for (;;) {
        if (pos == len) {
            fail_at(d, pos, "truncated: the file ends without an END record (after %llu records)",
                    (unsigned long long)d->nrecords);
            return false;
        }
        uint64_t rec_off = pos;
        unsigned tag = data[pos];
        cursor c = {data, data + pos + 1, data + len, d, false};
        uint64_t plen;
        if (!get_uvarint(&c, &plen, "record length"))
            return false;
        if (plen > cur_left(&c)) {
            fail_at(d, rec_off, "truncated: %s record of %llu bytes, but only %zu bytes follow",
                    tag_name(tag), (unsigned long long)plen, cur_left(&c));
            return false;
        }
        c.end = c.p + plen;
        bool ok = true;
        switch (tag) {
        case HD_TAG_INFO: ok = rec_info(&c); break;
        case HD_TAG_STATS: ok = rec_stats(&c, &cp); break;
        case HD_TAG_STRING: ok = rec_string(&c, &cp); break;
        case HD_TAG_TYPE: ok = rec_type(&c, &cp); break;
        case HD_TAG_OBJECT: ok = rec_object(&c, &cp, rec_off); break;
        case HD_TAG_THREAD: ok = rec_thread(&c, &cp); break;
        case HD_TAG_ROOT: ok = rec_root(&c, &cp, rec_off); break;
        case HD_TAG_FINALIZER: ok = rec_finalizer(&c, &cp, false, rec_off); break;
        case HD_TAG_QUEUED_FINALIZER: ok = rec_finalizer(&c, &cp, true, rec_off); break;
        case HD_TAG_WEAK: ok = rec_weak(&c, &cp, rec_off); break;
        case HD_TAG_END: {
            uint64_t count;
            uint8_t b[4];
            if (!get_uvarint(&c, &count, "record count") || !get_u8(&c, &b[0], "checksum") ||
                !get_u8(&c, &b[1], "checksum") || !get_u8(&c, &b[2], "checksum") ||
                !get_u8(&c, &b[3], "checksum"))
                return false;
            if (count != d->nrecords) {
                fail_at(d, rec_off, "END says %llu records, the file holds %llu", (unsigned long long)count,
                        (unsigned long long)d->nrecords);
                return false;
            }
            uint32_t want = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
            uint32_t got = crc32_of(data, (size_t)rec_off);
            if (want != got && !(flags & HD_PARSE_NO_CHECKSUM)) {
                fail_at(d, rec_off, "checksum mismatch: END says %08x, the bytes before it give %08x", want, got);
                return false;
            }
            size_t after = (size_t)(c.end - data);
            if (after != len) {
                fail_at(d, after, "%zu bytes after the END record", len - after);
                return false;
            }
            return true;
        }
        default:
            break; /* a kind this reader does not know: skipped whole */
        }
        if (!ok) {
            if (d->error[0] == '\0')
                fail_at(d, rec_off, "bad %s record", tag_name(tag));
            return false;
        }
        d->nrecords++;
        pos = (size_t)(c.end - data);
    }
}

int hd_parse(const uint8_t *data, size_t len, unsigned flags, hd_dump *d)
{
    memset(d, 0, sizeof *d);
    if (len < HD_HEADER_SIZE) {
        fail_at(d, 0, "truncated: %zu bytes, shorter than the %d-byte header", len, HD_HEADER_SIZE);
        return -1;
    }
    if (memcmp(data, HD_MAGIC, 4) != 0) {
        fail_at(d, 0, "not a tricolor heap dump (the file does not start with \"%s\")", HD_MAGIC);
        return -1;
    }
    d->version = (unsigned)data[4] | (unsigned)data[5] << 8;
    if (d->version != HD_VERSION) {
        fail_at(d, 4, "format version %u; this reader knows version %d", d->version, HD_VERSION);
        return -1;
    }
    if (data[6] != HD_PTR_SIZE) {
        fail_at(d, 6, "pointer size %u; this reader knows %d", data[6], HD_PTR_SIZE);
        return -1;
    }
    if (!parse_records(data, len, flags, d) || !resolve(d)) {
        char msg[sizeof d->error];
        memcpy(msg, d->error, sizeof msg);
        hd_free(d);
        memcpy(d->error, msg, sizeof msg);
        return -1;
    }
    return 0;
}

int hd_load(const char *path, unsigned flags, hd_dump *d)
{
    memset(d, 0, sizeof *d);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(d->error, sizeof d->error, "%s: %s", path, strerror(errno));
        return -1;
    }
    size_t cap = 1 << 16, len = 0;
    uint8_t *buf = malloc(cap);
    for (;;) {
        if (buf == NULL) {
            fclose(f);
            snprintf(d->error, sizeof d->error, "%s: out of memory", path);
            return -1;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (len < cap) {
            if (ferror(f)) {
                snprintf(d->error, sizeof d->error, "%s: read error: %s", path, strerror(errno));
                free(buf);
                fclose(f);
                return -1;
            }
            break;
        }
        uint8_t *more = cap <= SIZE_MAX / 2 ? realloc(buf, cap * 2) : NULL;
        if (more == NULL)
            free(buf);
        buf = more;
        cap *= 2;
    }
    fclose(f);
    int rc = hd_parse(buf, len, flags, d);
    free(buf);
    if (rc != 0) {
        /* "PATH: offset N: ...", cut to fit. */
        char msg[sizeof d->error];
        size_t pl = strlen(path), el = strlen(d->error), n = 0;
        for (size_t i = 0; i < pl && n + 1 < sizeof msg; i++)
            msg[n++] = path[i];
        for (size_t i = 0; i < 2 && n + 1 < sizeof msg; i++)
            msg[n++] = ": "[i];
        for (size_t i = 0; i < el && n + 1 < sizeof msg; i++)
            msg[n++] = d->error[i];
        msg[n] = '\0';
        memcpy(d->error, msg, sizeof msg);
    }
    return rc;
}

void hd_free(hd_dump *d)
{
    for (size_t i = 0; i < d->nstrings; i++)
        free(d->strings[i]);
    for (size_t i = 0; i < d->ntypes; i++)
        free(d->types[i].offsets);
    for (size_t i = 0; i < d->nstats; i++)
        free(d->stats[i].name);
    free(d->strings);
    free(d->types);
    free(d->objects);
    free(d->edges);
    free(d->threads);
    free(d->roots);
    free(d->finalizers);
    free(d->weaks);
    free(d->stats);
    memset(d, 0, sizeof *d);
}

const char *hd_object_type_name(const hd_dump *d, const hd_object *o)
{
    if (o->type == 0)
        return o->scan == HD_SCAN_NONE ? "(tc_alloc_noscan)" : "(tc_alloc)";
    const char *n = d->types[o->type - 1].name;
    return n[0] != '\0' ? n : "(unnamed type)";
}

uint64_t hd_stat_value(const hd_dump *d, const char *name, uint64_t dflt)
{
    for (size_t i = 0; i < d->nstats; i++)
        if (strcmp(d->stats[i].name, name) == 0)
            return d->stats[i].value;
    return dflt;
}
