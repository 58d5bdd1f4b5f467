/*
 * tr_parse.c -- the trace decoder (format: docs/trace-format.md).
 *
 * One pass over the file in order: the header, then records until the
 * footer.  Batches are decoded as they come, each event into one tr_event
 * with its absolute time (batch base + delta) and its string reference kept
 * as a raw id in a side array, because the string table only arrives with
 * the footer.  After the footer, every raw id is resolved (an id the table
 * lacks is an error at the referring event's offset), threads get their
 * names from THREAD_NAME, and the events are sorted by (time, offset): time
 * order across threads, file order -- which within one thread is write
 * order -- among equal times.
 *
 * Safety rules, held by every read below:
 *  - a read is bounded by a limit: the file's end, or the current batch's
 *    end for the events inside it; crossing it is an error, never a read;
 *  - counts and lengths from the file are compared with the bytes that
 *    remain before anything is allocated for them, so memory grows with the
 *    input's size, not with the numbers written in it;
 *  - arithmetic on file values is checked for overflow (base + delta).
 */
#include "tr_parse.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const ev_names[TR_EV_LAST - TR_EV_FIRST + 1] = {
    "GC_BEGIN",      "GC_END",        "STW_BEGIN",         "STW_END",          "PHASE",
    "MARK_WORKER_BEGIN", "MARK_WORKER_END", "ASSIST_BEGIN", "ASSIST_END",      "SWEEP_BEGIN",
    "SWEEP_END",     "HEAP_ALLOC",    "HEAP_GOAL",         "THREAD_ATTACH",    "THREAD_DETACH",
    "BLOCKING_BEGIN", "BLOCKING_END", "TASK_BEGIN",        "TASK_END",         "REGION_BEGIN",
    "REGION_END",    "LOG",           "THREAD_NAME",
};

const char *tr_ev_name(unsigned type)
{
    if (type < TR_EV_FIRST || type > TR_EV_LAST)
        return NULL;
    return ev_names[type - TR_EV_FIRST];
}

/* How many numeric arguments each type has, and whether a string reference
 * comes first.  LOG's message is decoded by hand. */
static const struct {
    uint8_t nargs;
    bool str;
} ev_shape[TR_EV_LAST - TR_EV_FIRST + 1] = {
    [TR_GC_BEGIN - TR_EV_FIRST] = {2, false},
    [TR_GC_END - TR_EV_FIRST] = {1, false},
    [TR_STW_BEGIN - TR_EV_FIRST] = {0, true},
    [TR_STW_END - TR_EV_FIRST] = {0, false},
    [TR_PHASE - TR_EV_FIRST] = {0, true},
    [TR_MARK_WORKER_BEGIN - TR_EV_FIRST] = {0, false},
    [TR_MARK_WORKER_END - TR_EV_FIRST] = {1, false},
    [TR_ASSIST_BEGIN - TR_EV_FIRST] = {0, false},
    [TR_ASSIST_END - TR_EV_FIRST] = {1, false},
    [TR_SWEEP_BEGIN - TR_EV_FIRST] = {0, false},
    [TR_SWEEP_END - TR_EV_FIRST] = {2, false},
    [TR_HEAP_ALLOC - TR_EV_FIRST] = {1, false},
    [TR_HEAP_GOAL - TR_EV_FIRST] = {1, false},
    [TR_THREAD_ATTACH - TR_EV_FIRST] = {0, false},
    [TR_THREAD_DETACH - TR_EV_FIRST] = {0, false},
    [TR_BLOCKING_BEGIN - TR_EV_FIRST] = {0, false},
    [TR_BLOCKING_END - TR_EV_FIRST] = {0, false},
    [TR_TASK_BEGIN - TR_EV_FIRST] = {1, true}, /* task id, then the name */
    [TR_TASK_END - TR_EV_FIRST] = {1, false},
    [TR_REGION_BEGIN - TR_EV_FIRST] = {0, true},
    [TR_REGION_END - TR_EV_FIRST] = {0, true},
    [TR_LOG - TR_EV_FIRST] = {0, true},
    [TR_THREAD_NAME - TR_EV_FIRST] = {0, true},
};

/* ---- A uint64 -> uint32 map (thread ids, string ids) -------------------- */

typedef struct idmap {
    uint64_t *keys;
    uint32_t *vals; /* UINT32_MAX: empty slot */
    size_t cap;     /* a power of two, or 0 */
    size_t n;
} idmap;

static size_t idmap_slot(const idmap *m, uint64_t key)
{
    uint64_t h = key * 0x9e3779b97f4a7c15ull;
    size_t i = (size_t)(h >> 17) & (m->cap - 1);
    while (m->vals[i] != UINT32_MAX && m->keys[i] != key)
        i = (i + 1) & (m->cap - 1);
    return i;
}

static uint32_t idmap_get(const idmap *m, uint64_t key)
{
    if (m->cap == 0)
        return UINT32_MAX;
    return m->vals[idmap_slot(m, key)];
}

/* Returns false when out of memory. */
static bool idmap_put(idmap *m, uint64_t key, uint32_t val)
{
    if ((m->n + 1) * 2 > m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 16;
        idmap bigger = {malloc(ncap * sizeof(uint64_t)), malloc(ncap * sizeof(uint32_t)), ncap, 0};
        if (bigger.keys == NULL || bigger.vals == NULL) {
            free(bigger.keys);
            free(bigger.vals);
            return false;
        }
        memset(bigger.vals, 0xff, ncap * sizeof(uint32_t));
        for (size_t i = 0; i < m->cap; i++)
            if (m->vals[i] != UINT32_MAX) {
                size_t s = idmap_slot(&bigger, m->keys[i]);
                bigger.keys[s] = m->keys[i];
                bigger.vals[s] = m->vals[i];
                bigger.n++;
            }
        free(m->keys);
        free(m->vals);
        *m = bigger;
    }
    size_t s = idmap_slot(m, key);
    if (m->vals[s] == UINT32_MAX)
        m->n++;
    m->keys[s] = key;
    m->vals[s] = val;
    return true;
}

static void idmap_free(idmap *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

/* ---- The decoder --------------------------------------------------------- */

typedef struct parser {
    const uint8_t *data;
    size_t size;
    size_t pos;
    tr_error *err;
    tr_trace *t;
    uint64_t *sids;     /* raw string id per event, parallel to t->events */
    size_t cap;         /* of events and sids */
    idmap threads;      /* thread id -> index */
    idmap strings;      /* string id -> index */
    size_t threads_cap;
    size_t strings_cap;
} parser;

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int fail(parser *p, uint64_t offset, const char *fmt, ...)
{
    p->err->offset = offset;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err->msg, sizeof p->err->msg, fmt, ap);
    va_end(ap);
    return -1;
}

static int oom(parser *p)
{
    return fail(p, p->pos, "out of memory");
}

/* Reads a uvarint ending before limit.  `what` names the field for errors;
 * `in_batch` says whether limit is the batch's end rather than the file's. */
static int read_uvarint(parser *p, size_t limit, bool in_batch, const char *what, uint64_t *out)
{
    size_t start = p->pos;
    uint64_t v = 0;
    for (unsigned i = 0;; i++) {
        if (p->pos >= limit) {
            if (in_batch)
                return fail(p, start, "%s runs past the end of its batch (at offset %zu)", what, limit);
            return fail(p, start, "truncated: the file ends inside %s", what);
        }
        uint8_t b = p->data[p->pos++];
        if (i == 9 && b > 1)
            return fail(p, start, "%s: uvarint longer than 10 bytes or over 64 bits", what);
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80))
            break;
    }
    *out = v;
    return 0;
}

static int add_thread(parser *p, uint64_t id, uint32_t *index)
{
    uint32_t i = idmap_get(&p->threads, id);
    if (i != UINT32_MAX) {
        *index = i;
        return 0;
    }
    tr_trace *t = p->t;
    if (t->nthreads == p->threads_cap) {
        size_t ncap = p->threads_cap ? p->threads_cap * 2 : 8;
        tr_thread *n = realloc(t->threads, ncap * sizeof *n);
        if (n == NULL)
            return oom(p);
        t->threads = n;
        p->threads_cap = ncap;
    }
    i = (uint32_t)t->nthreads;
    t->threads[t->nthreads++] = (tr_thread){.id = id};
    if (!idmap_put(&p->threads, id, i))
        return oom(p);
    *index = i;
    return 0;
}

static tr_event *new_event(parser *p)
{
    tr_trace *t = p->t;
    if (t->nevents == p->cap) {
        size_t ncap = p->cap ? p->cap * 2 : 256;
        tr_event *e = realloc(t->events, ncap * sizeof *e);
        if (e == NULL)
            return NULL;
        t->events = e;
        uint64_t *s = realloc(p->sids, ncap * sizeof *s);
        if (s == NULL)
            return NULL;
        p->sids = s;
        p->cap = ncap;
    }
    p->sids[t->nevents] = 0;
    tr_event *e = &t->events[t->nevents++];
    memset(e, 0, sizeof *e);
    return e;
}

static int parse_batch(parser *p)
{
    size_t tag_at = p->pos++;
    uint64_t tid, base, length;
    if (read_uvarint(p, p->size, false, "a batch's thread id", &tid) < 0 ||
        read_uvarint(p, p->size, false, "a batch's base time", &base) < 0 ||
        read_uvarint(p, p->size, false, "a batch's length", &length) < 0)
        return -1;
    if (tid == 0)
        return fail(p, tag_at, "batch for thread id 0 (thread ids start at 1)");
    if (length > p->size - p->pos)
        return fail(p, tag_at, "truncated: the batch needs %llu bytes of events, the file has %zu left",
                    (unsigned long long)length, p->size - p->pos);
    uint32_t thread = 0;
    if (add_thread(p, tid, &thread) < 0)
        return -1;
    p->t->nbatches++;
    size_t end = p->pos + (size_t)length;
    uint64_t last_delta = 0;
    while (p->pos < end) {
        size_t at = p->pos;
        uint8_t type = p->data[p->pos++];
        const char *name = tr_ev_name(type);
        if (name == NULL)
            return fail(p, at, "unknown event type 0x%02x", type);
        uint64_t delta;
        if (read_uvarint(p, end, true, "an event's time", &delta) < 0)
            return -1;
        if (delta < last_delta)
            return fail(p, at, "%s goes back in time within its batch (delta %llu after %llu)", name,
                        (unsigned long long)delta, (unsigned long long)last_delta);
        last_delta = delta;
        if (delta > UINT64_MAX - base)
            return fail(p, at, "%s: time overflows 64 bits (base %llu + delta %llu)", name,
                        (unsigned long long)base, (unsigned long long)delta);
        tr_event *e = new_event(p);
        if (e == NULL)
            return oom(p);
        e->time = base + delta;
        e->offset = at;
        e->thread = thread;
        e->type = type;
        p->t->threads[thread].nevents++;
        uint64_t sid = 0;
        char field[64];
        if (ev_shape[type - TR_EV_FIRST].str && type != TR_TASK_BEGIN) {
            snprintf(field, sizeof field, "%s's string", name);
            if (read_uvarint(p, end, true, field, &sid) < 0)
                return -1;
        }
        for (unsigned i = 0; i < ev_shape[type - TR_EV_FIRST].nargs; i++) {
            snprintf(field, sizeof field, "%s's argument %u", name, i + 1);
            if (read_uvarint(p, end, true, field, &e->arg[i]) < 0)
                return -1;
        }
        if (type == TR_TASK_BEGIN) {
            snprintf(field, sizeof field, "%s's name", name);
            if (read_uvarint(p, end, true, field, &sid) < 0)
                return -1;
        }
        if (type == TR_GC_BEGIN && e->arg[1] > 1)
            return fail(p, at, "GC_BEGIN's forced flag is %llu, not 0 or 1", (unsigned long long)e->arg[1]);
        if (type == TR_LOG) {
            uint64_t len;
            if (read_uvarint(p, end, true, "LOG's message length", &len) < 0)
                return -1;
            if (len > end - p->pos)
                return fail(p, at, "LOG's message of %llu bytes runs past the end of its batch (at offset %zu)",
                            (unsigned long long)len, end);
            e->arg[0] = p->pos;
            e->arg[1] = len;
            p->pos += (size_t)len;
        }
        p->sids[p->t->nevents - 1] = sid;
    }
    return 0;
}

static int add_string(parser *p, size_t at, uint64_t id, const uint8_t *bytes, size_t len)
{
    tr_trace *t = p->t;
    if (id == 0) {
        if (len != 0)
            return fail(p, at, "string id 0 is the empty string, but the table gives it %zu bytes", len);
        return 0;
    }
    if (idmap_get(&p->strings, id) != UINT32_MAX)
        return fail(p, at, "string id %llu is defined twice", (unsigned long long)id);
    if (t->nstrings == p->strings_cap) {
        size_t ncap = p->strings_cap * 2;
        tr_string *n = realloc(t->strings, ncap * sizeof *n);
        if (n == NULL)
            return oom(p);
        t->strings = n;
        p->strings_cap = ncap;
    }
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return oom(p);
    memcpy(copy, bytes, len);
    copy[len] = '\0';
    uint32_t index = (uint32_t)t->nstrings;
    t->strings[t->nstrings++] = (tr_string){copy, len};
    if (!idmap_put(&p->strings, id, index))
        return oom(p);
    return 0;
}

static int parse_footer(parser *p)
{
    tr_trace *t = p->t;
    p->pos++;
    size_t at = p->pos;
    uint64_t count;
    if (read_uvarint(p, p->size, false, "the footer's frequency", &t->frequency) < 0)
        return -1;
    if (t->frequency == 0)
        return fail(p, at, "the footer's frequency is 0 ticks per second");
    if (read_uvarint(p, p->size, false, "the footer's start time", &t->start_wall) < 0 ||
        read_uvarint(p, p->size, false, "the footer's duration", &t->duration) < 0 ||
        read_uvarint(p, p->size, false, "the string table's count", &count) < 0)
        return -1;
    for (uint64_t i = 0; i < count; i++) {
        at = p->pos;
        uint64_t id, len;
        if (read_uvarint(p, p->size, false, "a string's id", &id) < 0 ||
            read_uvarint(p, p->size, false, "a string's length", &len) < 0)
            return -1;
        if (len > p->size - p->pos)
            return fail(p, at, "truncated: string id %llu needs %llu bytes, the file has %zu left",
                        (unsigned long long)id, (unsigned long long)len, p->size - p->pos);
        if (add_string(p, at, id, p->data + p->pos, (size_t)len) < 0)
            return -1;
        p->pos += (size_t)len;
    }
    if (p->pos >= p->size)
        return fail(p, p->pos, "truncated: the file ends before the footer's end byte");
    if (p->data[p->pos] != TR_TAG_END)
        return fail(p, p->pos, "expected the footer's end byte 0x03, found 0x%02x", p->data[p->pos]);
    p->pos++;
    if (p->pos != p->size)
        return fail(p, p->pos, "%zu bytes of trailing data after the footer", p->size - p->pos);
    return 0;
}

/* After the footer: string ids to indexes, thread names. */
static int resolve(parser *p)
{
    tr_trace *t = p->t;
    for (size_t i = 0; i < t->nevents; i++) {
        tr_event *e = &t->events[i];
        uint64_t sid = p->sids[i];
        if (sid == 0)
            continue;
        uint32_t index = idmap_get(&p->strings, sid);
        if (index == UINT32_MAX)
            return fail(p, e->offset, "%s refers to string id %llu, which the footer's table lacks",
                        tr_ev_name(e->type), (unsigned long long)sid);
        e->str = index;
    }
    /* File order: the first THREAD_NAME of a thread names it. */
    for (size_t i = 0; i < t->nevents; i++) {
        tr_event *e = &t->events[i];
        if (e->type == TR_THREAD_NAME && t->threads[e->thread].name == 0)
            t->threads[e->thread].name = e->str;
    }
    return 0;
}

static int event_order(const void *a, const void *b)
{
    const tr_event *x = a, *y = b;
    if (x->time != y->time)
        return x->time < y->time ? -1 : 1;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

int tr_parse(const uint8_t *data, size_t size, tr_trace *t, tr_error *err)
{
    memset(t, 0, sizeof *t);
    memset(err, 0, sizeof *err);
    parser p = {.data = data, .size = size, .err = err, .t = t};
    t->data = data;
    t->size = size;
    int rc = -1;
    if (size < TR_HEADER_SIZE) {
        fail(&p, size, "truncated: %zu bytes, a trace header alone has %d", size, TR_HEADER_SIZE);
        goto out;
    }
    if (memcmp(data, "TCTRACE\0", 8) != 0) {
        fail(&p, 0, "not a tricolor trace (the file does not start with \"TCTRACE\\0\")");
        goto out;
    }
    t->version = (uint32_t)data[8] | (uint32_t)data[9] << 8 | (uint32_t)data[10] << 16 |
                 (uint32_t)data[11] << 24;
    if (t->version != TR_VERSION) {
        fail(&p, 8, "trace format version %u; this reader knows version %d", t->version, TR_VERSION);
        goto out;
    }
    p.strings_cap = 16;
    t->strings = malloc(p.strings_cap * sizeof *t->strings);
    if (t->strings == NULL) {
        oom(&p);
        goto out;
    }
    t->strings[0] = (tr_string){"", 0};
    t->nstrings = 1;
    p.pos = TR_HEADER_SIZE;
    for (;;) {
        if (p.pos >= size) {
            fail(&p, size, "truncated: the file ends after %zu bytes without a footer", size);
            goto out;
        }
        uint8_t tag = data[p.pos];
        if (tag == TR_TAG_BATCH) {
            if (parse_batch(&p) < 0)
                goto out;
        } else if (tag == TR_TAG_FOOTER) {
            if (parse_footer(&p) < 0)
                goto out;
            break;
        } else {
            fail(&p, p.pos, "unknown record tag 0x%02x (expected a batch 0x01 or the footer 0x02)", tag);
            goto out;
        }
    }
    if (resolve(&p) < 0)
        goto out;
    if (t->nevents > 1)
        qsort(t->events, t->nevents, sizeof *t->events, event_order);
    t->end = t->duration;
    if (t->nevents > 0 && t->events[t->nevents - 1].time > t->end)
        t->end = t->events[t->nevents - 1].time;
    rc = 0;
out:
    free(p.sids);
    idmap_free(&p.threads);
    idmap_free(&p.strings);
    if (rc < 0) {
        tr_free(t);
        t->data = data;
        t->size = size;
    }
    return rc;
}

void tr_free(tr_trace *t)
{
    for (size_t i = 1; i < t->nstrings; i++)
        free((void *)t->strings[i].s);
    free(t->strings);
    free(t->events);
    free(t->threads);
    memset(t, 0, sizeof *t);
}

int tr_read_file(const char *path, uint8_t **data, size_t *size, tr_error *err)
{
    memset(err, 0, sizeof *err);
    bool std = strcmp(path, "-") == 0;
    FILE *f = std ? stdin : fopen(path, "rb");
    if (f == NULL) {
        snprintf(err->msg, sizeof err->msg, "cannot open: %s", strerror(errno));
        return -1;
    }
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    while (buf != NULL) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        uint8_t *bigger = cap > SIZE_MAX / 2 ? NULL : realloc(buf, cap * 2);
        if (bigger == NULL) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    int rc = 0;
    if (buf == NULL) {
        snprintf(err->msg, sizeof err->msg, "out of memory reading the file");
        rc = -1;
    } else if (ferror(f)) {
        snprintf(err->msg, sizeof err->msg, "read error: %s", strerror(errno));
        free(buf);
        rc = -1;
    }
    if (!std)
        fclose(f);
    if (rc == 0) {
        *data = buf;
        *size = n;
    }
    return rc;
}
