/*
 * tr_parse.h -- reading a tricolor execution trace, format version 1
 * (docs/trace-format.md) into memory.
 *
 * tr_parse takes the whole file as one buffer and either fills a tr_trace
 * or fails with a tr_error naming the problem and the byte offset where it
 * was found.  It never reads outside the buffer and never trusts a count or
 * a length before checking it against the bytes that remain, so any input
 * -- truncated, corrupt or hostile -- ends in one of those two outcomes
 * (tools/trace/tr_fuzz.c holds it to that).
 *
 * What it checks is the format's syntax and the rules a reader needs to
 * decode the file: the header, record tags, uvarints, event types and their
 * arguments, batch lengths, times that never decrease within a batch,
 * string references that the footer's table defines, and nothing after the
 * footer's end byte.  What events mean -- BEGIN/END pairing, edges of the
 * trace -- is tr_analyze.c's business, and it copes with whatever the
 * parser accepted.
 */
#ifndef TR_PARSE_H
#define TR_PARSE_H

#include <stddef.h>
#include <stdint.h>

#define TR_VERSION 1
#define TR_HEADER_SIZE 16
#define TR_TAG_BATCH 0x01
#define TR_TAG_FOOTER 0x02
#define TR_TAG_END 0x03

/* Event types, as the format's table numbers them. */
enum tr_ev_type {
    TR_GC_BEGIN = 0x10,          /* arg[0] cycle, arg[1] forced */
    TR_GC_END = 0x11,            /* arg[0] cycle */
    TR_STW_BEGIN = 0x12,         /* str reason */
    TR_STW_END = 0x13,
    TR_PHASE = 0x14,             /* str phase */
    TR_MARK_WORKER_BEGIN = 0x15,
    TR_MARK_WORKER_END = 0x16,   /* arg[0] bytes scanned */
    TR_ASSIST_BEGIN = 0x17,
    TR_ASSIST_END = 0x18,        /* arg[0] bytes scanned */
    TR_SWEEP_BEGIN = 0x19,
    TR_SWEEP_END = 0x1a,         /* arg[0] pages swept, arg[1] pages freed */
    TR_HEAP_ALLOC = 0x1b,        /* arg[0] bytes */
    TR_HEAP_GOAL = 0x1c,         /* arg[0] bytes */
    TR_THREAD_ATTACH = 0x1d,
    TR_THREAD_DETACH = 0x1e,
    TR_BLOCKING_BEGIN = 0x1f,
    TR_BLOCKING_END = 0x20,
    TR_TASK_BEGIN = 0x21,        /* arg[0] task id, str name */
    TR_TASK_END = 0x22,          /* arg[0] task id */
    TR_REGION_BEGIN = 0x23,      /* str name */
    TR_REGION_END = 0x24,        /* str name */
    TR_LOG = 0x25,               /* str category, message: tr_log_message */
    TR_THREAD_NAME = 0x26,       /* str name */
    TR_EV_FIRST = TR_GC_BEGIN,
    TR_EV_LAST = TR_THREAD_NAME,
};

/* One decoded event.  Times are ticks from the trace's start. */
typedef struct tr_event {
    uint64_t time;
    uint64_t offset;   /* of the event's type byte in the file */
    uint64_t arg[2];   /* numeric arguments; for LOG, the message's offset and length */
    uint32_t thread;   /* index into tr_trace.threads */
    uint32_t str;      /* index into tr_trace.strings of the string argument; 0 if none */
    uint8_t type;      /* enum tr_ev_type */
} tr_event;

typedef struct tr_string {
    const char *s;     /* NUL-terminated copy; may also hold NULs, see len */
    size_t len;
} tr_string;

typedef struct tr_thread {
    uint64_t id;       /* the trace's thread id (1, 2, ...) */
    uint32_t name;     /* index into strings from THREAD_NAME; 0 if unnamed */
    uint64_t nevents;
} tr_thread;

typedef struct tr_trace {
    const uint8_t *data;  /* the file, borrowed: LOG messages point into it */
    size_t size;
    uint32_t version;
    uint64_t frequency;   /* ticks per second */
    uint64_t start_wall;  /* ns since the Unix epoch */
    uint64_t duration;    /* ticks, from the footer */
    uint64_t end;         /* max(duration, the last event's time) */
    uint64_t nbatches;
    tr_event *events;     /* sorted by (time, offset) */
    size_t nevents;
    tr_thread *threads;   /* in order of first appearance */
    size_t nthreads;
    tr_string *strings;   /* strings[0] is the empty string */
    size_t nstrings;
} tr_trace;

typedef struct tr_error {
    uint64_t offset;
    char msg[192];
} tr_error;

/* Decodes size bytes at data (which must outlive the trace).  Returns 0 and
 * fills *t, or -1 and fills *err, leaving *t empty (tr_free is harmless). */
int tr_parse(const uint8_t *data, size_t size, tr_trace *t, tr_error *err);

/* Reads a whole file into memory; -1 with err->msg set on failure.  The
 * buffer is the caller's to free. */
int tr_read_file(const char *path, uint8_t **data, size_t *size, tr_error *err);

void tr_free(tr_trace *t);

/* The event type's name from the format's table ("GC_BEGIN"), or NULL. */
const char *tr_ev_name(unsigned type);

static inline const char *tr_str(const tr_trace *t, uint32_t i) { return t->strings[i].s; }

static inline const char *tr_thread_name(const tr_trace *t, uint32_t thread)
{
    return t->strings[t->threads[thread].name].s;
}

/* A LOG event's message bytes (not NUL-terminated). */
static inline const uint8_t *tr_log_message(const tr_trace *t, const tr_event *e, size_t *len)
{
    *len = (size_t)e->arg[1];
    return t->data + e->arg[0];
}

/* Ticks to nanoseconds. */
static inline double tr_ns(const tr_trace *t, uint64_t ticks)
{
    return (double)ticks * (1e9 / (double)t->frequency);
}

/* Nanoseconds to ticks, at least 1, saturating. */
static inline uint64_t tr_ticks(const tr_trace *t, double ns)
{
    double v = ns * ((double)t->frequency / 1e9);
    if (!(v >= 1))
        return 1;
    if (v >= 1.8e19)
        return UINT64_MAX;
    return (uint64_t)(v + 0.5);
}

#endif
