/*
 * trace_writer.h -- a small writer of execution traces (format version 1,
 * docs/trace-format.md) for the tests: it builds hand-made traces whose
 * figures can be computed by hand, and shows the format by example.
 *
 *     tw w;
 *     tw_init(&w);                                  header: "TCTRACE\0", version 1
 *     tw_batch(&w, 1, 0);                           a batch of thread 1, base time 0
 *     tw_str_ev(&w, TW_THREAD_NAME, 0, "main");     type, delta from base, string ref
 *     tw_ev2(&w, TW_GC_BEGIN, 100, 1, 0);           type, delta, cycle, forced
 *     tw_ev(&w, TW_STW_END, 250);
 *     tw_finish(&w, 1000);                          the footer: frequency, start,
 *                                                   duration, string table, 0x03
 *     ... w.buf, w.len ...
 *     tw_free(&w);
 *
 * Times are absolute ticks (ns); each helper writes them as a delta from
 * the open batch's base.  A batch is closed by the next tw_batch or by
 * tw_finish, which then patches its 3-byte length.  Strings are interned:
 * each distinct one gets an id (1, 2, ...) and a footer entry.  Nothing
 * here checks that the trace makes sense: tests use that to write broken
 * ones.
 */
#ifndef TRACE_WRITER_H
#define TRACE_WRITER_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum {
    TW_GC_BEGIN = 0x10, TW_GC_END, TW_STW_BEGIN, TW_STW_END, TW_PHASE, TW_MARK_WORKER_BEGIN,
    TW_MARK_WORKER_END, TW_ASSIST_BEGIN, TW_ASSIST_END, TW_SWEEP_BEGIN, TW_SWEEP_END, TW_HEAP_ALLOC,
    TW_HEAP_GOAL, TW_THREAD_ATTACH, TW_THREAD_DETACH, TW_BLOCKING_BEGIN, TW_BLOCKING_END,
    TW_TASK_BEGIN, TW_TASK_END, TW_REGION_BEGIN, TW_REGION_END, TW_LOG, TW_THREAD_NAME,
};

typedef struct tw {
    uint8_t *buf;
    size_t len, cap;
    int in_batch;
    size_t batch_len_at; /* where the open batch's 3-byte length goes */
    uint64_t base;
    char **strs;         /* strs[i] has id i + 1 */
    size_t nstrs;
    uint64_t start_wall; /* the footer's start; tw_init sets 2026-01-01 */
    uint64_t frequency;  /* the footer's ticks per second; tw_init sets 1e9 */
} tw;

static inline void tw_byte(tw *w, uint8_t b)
{
    if (w->len == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 4096;
        w->buf = realloc(w->buf, w->cap);
        if (w->buf == NULL)
            abort();
    }
    w->buf[w->len++] = b;
}

static inline void tw_bytes(tw *w, const void *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        tw_byte(w, ((const uint8_t *)p)[i]);
}

static inline void tw_uvarint(tw *w, uint64_t v)
{
    while (v >= 0x80) {
        tw_byte(w, (uint8_t)(v | 0x80));
        v >>= 7;
    }
    tw_byte(w, (uint8_t)v);
}

static inline void tw_init(tw *w)
{
    memset(w, 0, sizeof *w);
    w->start_wall = 1767225600000000000ull; /* 2026-01-01 00:00:00 UTC */
    w->frequency = 1000000000;
    tw_bytes(w, "TCTRACE\0", 8);
    tw_bytes(w, "\x01\x00\x00\x00", 4); /* version 1, little-endian */
    tw_bytes(w, "\0\0\0\0", 4);         /* reserved */
}

static inline uint64_t tw_string(tw *w, const char *s)
{
    if (s[0] == '\0')
        return 0;
    for (size_t i = 0; i < w->nstrs; i++)
        if (strcmp(w->strs[i], s) == 0)
            return i + 1;
    w->strs = realloc(w->strs, (w->nstrs + 1) * sizeof *w->strs);
    size_t n = strlen(s);
    w->strs[w->nstrs] = malloc(n + 1);
    if (w->strs == NULL || w->strs[w->nstrs] == NULL)
        abort();
    memcpy(w->strs[w->nstrs], s, n + 1);
    return ++w->nstrs;
}

static inline void tw_end_batch(tw *w)
{
    if (!w->in_batch)
        return;
    size_t n = w->len - w->batch_len_at - 3;
    w->buf[w->batch_len_at] = (uint8_t)(n | 0x80);          /* exactly 3 bytes: */
    w->buf[w->batch_len_at + 1] = (uint8_t)(n >> 7 | 0x80); /* padded uvarint */
    w->buf[w->batch_len_at + 2] = (uint8_t)(n >> 14 & 0x7f);
    w->in_batch = 0;
}

static inline void tw_batch(tw *w, uint64_t thread, uint64_t base)
{
    tw_end_batch(w);
    tw_byte(w, 0x01);
    tw_uvarint(w, thread);
    tw_uvarint(w, base);
    w->batch_len_at = w->len;
    tw_bytes(w, "\0\0\0", 3);
    w->in_batch = 1;
    w->base = base;
}

/* The type byte and the time delta, which every event starts with. */
static inline void tw_head(tw *w, uint8_t type, uint64_t time)
{
    tw_byte(w, type);
    tw_uvarint(w, time - w->base);
}

static inline void tw_ev(tw *w, uint8_t type, uint64_t time)
{
    tw_head(w, type, time);
}

static inline void tw_ev1(tw *w, uint8_t type, uint64_t time, uint64_t a)
{
    tw_head(w, type, time);
    tw_uvarint(w, a);
}

static inline void tw_ev2(tw *w, uint8_t type, uint64_t time, uint64_t a, uint64_t b)
{
    tw_head(w, type, time);
    tw_uvarint(w, a);
    tw_uvarint(w, b);
}

/* STW_BEGIN, PHASE, REGION_BEGIN/END, THREAD_NAME: one string argument. */
static inline void tw_str_ev(tw *w, uint8_t type, uint64_t time, const char *s)
{
    tw_head(w, type, time);
    tw_uvarint(w, tw_string(w, s));
}

static inline void tw_task_begin(tw *w, uint64_t time, uint64_t id, const char *name)
{
    tw_head(w, TW_TASK_BEGIN, time);
    tw_uvarint(w, id);
    tw_uvarint(w, tw_string(w, name));
}

static inline void tw_log(tw *w, uint64_t time, const char *category, const char *msg)
{
    tw_head(w, TW_LOG, time);
    tw_uvarint(w, tw_string(w, category));
    tw_uvarint(w, strlen(msg));
    tw_bytes(w, msg, strlen(msg));
}

static inline void tw_finish(tw *w, uint64_t duration)
{
    tw_end_batch(w);
    tw_byte(w, 0x02);
    tw_uvarint(w, w->frequency); /* ticks per second */
    tw_uvarint(w, w->start_wall);
    tw_uvarint(w, duration);
    tw_uvarint(w, w->nstrs);
    for (size_t i = 0; i < w->nstrs; i++) {
        tw_uvarint(w, i + 1);
        tw_uvarint(w, strlen(w->strs[i]));
        tw_bytes(w, w->strs[i], strlen(w->strs[i]));
    }
    tw_byte(w, 0x03);
}

static inline void tw_free(tw *w)
{
    for (size_t i = 0; i < w->nstrs; i++)
        free(w->strs[i]);
    free(w->strs);
    free(w->buf);
    memset(w, 0, sizeof *w);
}

#endif
