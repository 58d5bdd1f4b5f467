/*
 * trace.c -- the execution tracer (seed 003, Go's legacy trace.go): event
 * buffers off the GC heap, the queue between writers and the reader, and
 * the encoding of docs/trace-format.md.
 *
 * Buffers are 64 KiB records from sys_alloc, never in the GC heap, never
 * scanned, holding no heap pointer.  Every attached thread owns one while
 * tracing (trace_thread_begin) and writes it without a lock; threads with
 * no buffer of their own -- the collector's threads, unattached callers --
 * write one shared buffer under trace_lock.  A buffer holds batches: a
 * header (thread, base time, length) and that thread's events, each timed
 * as a delta from the batch's base.  A full buffer goes to the tail of the
 * full queue and its writer takes one from the stack of empty buffers (or
 * a new one).  The reader (trace_read) takes buffers from the head of the
 * queue one at a time and gives each back to the empty stack on its next
 * call; its first call returns the header, its last the footer (frequency
 * and string table), then NULL.
 *
 * Stopping: trace_stop clears trace_on, waits until no thread is inside an
 * event (each owned buffer has a `busy` flag, set before trace_on is
 * checked: a Dekker handshake on two seq_cst atomics, so a writer either
 * sees trace_on clear or is waited for), then queues every thread's buffer
 * and the shared one.  trace_wait_drained waits for the reader to reach the
 * end, then checks that no buffer is left anywhere but the empty stack --
 * a buffer left behind is a bug and aborts -- and frees the empties.
 *
 * Writing an event never reaches a safepoint and holds locks_held, so the
 * collector's suspension signal never stops a thread inside one.  A thread
 * that enters the tracer again while writing (a signal handler, say) is
 * caught: it aborts with a message instead of corrupting its buffer.
 * Strings are interned once per trace in a table off the GC heap; event
 * arguments refer to them by id.
 *
 * Locking: trace_lock (LOCK_RANK_TRACE) guards the queue, the empty stack,
 * the shared buffer, the thread list and the reader's state; str_lock
 * (LOCK_RANK_TRACE_STR, innermost: interning happens under trace_lock when
 * the shared buffer is written) guards the string table.
 */
#include "trace.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "../base/lock.h"
#include "../base/throw.h"
#include "../offheap/fixalloc.h"
#include "../sys/sys.h"
#include "tricolor.h"

int trace_on;

/* ---- Buffers -------------------------------------------------------------- */

typedef struct trace_buf {
    struct trace_buf *link;  /* in the full queue or the empty stack */
    size_t pos;              /* bytes of data used */
    size_t batch_len_at;     /* offset of the open batch's length field; 0: none */
    uint64_t batch_base;     /* the open batch's base time */
    uint32_t batch_tid;      /* its thread */
    uint8_t data[];
} trace_buf;

#define BUF_DATA (TRACE_BUF_SIZE - sizeof(trace_buf))
#define EVENT_MAX (1 + 10 + 3 * 10 + 10 + TRACE_LOG_MAX + 32) /* the largest event */
#define BATCH_HEADER_MAX (1 + 10 + 10 + 3)

/* An owned buffer, one per attached thread. */
typedef struct trace_tstate {
    struct trace_tstate *next, *prev; /* all_states, under trace_lock */
    _Atomic int busy;                 /* the owner is inside an event */
    trace_buf *buf;                   /* the owner's, or stop's under trace_lock once trace_on is clear */
} trace_tstate;

static lock_t trace_lock = LOCK_INIT(LOCK_RANK_TRACE);
static pthread_cond_t reader_cv = PTHREAD_COND_INITIALIZER;  /* with trace_lock.mu */
static pthread_cond_t drained_cv = PTHREAD_COND_INITIALIZER; /* with trace_lock.mu */

/* Under trace_lock: */
static trace_tstate *all_states;
static trace_buf *empty_stack, *full_head, *full_tail;
static trace_buf *shared_buf;
static void *reading;             /* what the reader holds (a buffer or the footer) */
static size_t reading_size;       /* the footer's mapping size, 0 for a buffer */
static bool active;               /* started, not yet drained */
static bool stopping;             /* trace_stop ran: the footer comes next */
static bool header_sent, footer_sent, drained;
static bool reader_inside;        /* a reader is in trace_read */
static uint64_t start_ns, start_wall, duration;
static uint64_t epoch;            /* +1 per trace: threads name themselves once per trace */
static uint64_t nbufs;            /* buffers allocated in this trace */

static __thread trace_tstate *tls_state __attribute__((tls_model("initial-exec")));
static __thread uint32_t tls_tid;
static __thread const char *tls_name;
static __thread uint64_t tls_named_epoch;
static __thread int tls_in_shared;  /* reentrancy guard for the shared buffer */
static _Atomic uint32_t next_tid;

/* ---- Strings ----------------------------------------------------------------- */

#define STR_SLOTS 4096               /* distinct strings per trace */
#define STR_FULL_ID 1                /* "<string table full>" */

typedef struct str_entry {
    const char *s;                   /* a copy in str_bytes */
    uint32_t len, id;
} str_entry;

static lock_t str_lock = LOCK_INIT(LOCK_RANK_TRACE_STR);
static str_entry *str_table;         /* STR_SLOTS, open addressing; under str_lock */
static char *str_bytes;              /* STR_BYTES of copies */
static size_t str_used, str_count;
#define STR_BYTES (1024 * 1024)

static uint64_t str_hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

/* The id of s in this trace's table (0 for the empty string or NULL). */
static uint32_t intern(const char *s)
{
    if (s == NULL || *s == '\0')
        return 0;
    size_t n = strnlen(s, 1024);
    uint32_t id = STR_FULL_ID;
    lock_acquire(&str_lock);
    if (str_table != NULL) {
        for (uint64_t h = str_hash(s, n), k = 0; k < STR_SLOTS; k++) {
            str_entry *e = &str_table[(h + k) % STR_SLOTS];
            if (e->s == NULL) {
                if (str_count + 1 >= STR_SLOTS * 3 / 4 || str_used + n > STR_BYTES)
                    break; /* full: STR_FULL_ID, which the footer names */
                memcpy(str_bytes + str_used, s, n);
                e->s = str_bytes + str_used;
                e->len = (uint32_t)n;
                e->id = (uint32_t)(str_count++ + 2);
                str_used += n;
                id = e->id;
                break;
            }
            if (e->len == n && memcmp(e->s, s, n) == 0) {
                id = e->id;
                break;
            }
        }
    }
    lock_release(&str_lock);
    return id;
}

/* ---- Encoding -------------------------------------------------------------------- */

static inline size_t put_uvarint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

static uint64_t now_ticks(void) { return sys_nanotime() - start_ns; }

static void batch_close(trace_buf *b)
{
    if (b->batch_len_at == 0)
        return;
    size_t len = b->pos - (b->batch_len_at + 3);
    CHECK(len < (1u << 21));
    uint8_t *p = b->data + b->batch_len_at;
    p[0] = (uint8_t)(len | 0x80);
    p[1] = (uint8_t)((len >> 7) | 0x80);
    p[2] = (uint8_t)(len >> 14);
    b->batch_len_at = 0;
}

static void batch_open(trace_buf *b, uint32_t tid, uint64_t now)
{
    uint8_t *p = b->data + b->pos;
    size_t n = 0;
    p[n++] = TRACE_EV_BATCH;
    n += put_uvarint(p + n, tid);
    n += put_uvarint(p + n, now);
    b->batch_len_at = b->pos + n;
    n += 3;
    b->pos += n;
    b->batch_base = now;
    b->batch_tid = tid;
}

/* Under trace_lock: an empty buffer. */
static trace_buf *buf_get(void)
{
    trace_buf *b = empty_stack;
    if (b != NULL) {
        empty_stack = b->link;
    } else {
        b = sys_alloc(TRACE_BUF_SIZE, MEMSTAT_OTHER);
        if (b == NULL)
            throw("out of memory for a trace buffer");
        nbufs++;
    }
    b->link = NULL;
    b->pos = 0;
    b->batch_len_at = 0;
    return b;
}

/* Under trace_lock: b (closed) to the full queue. */
static void buf_queue(trace_buf *b)
{
    batch_close(b);
    if (b->pos == 0) {
        b->link = empty_stack;
        empty_stack = b;
        return;
    }
    b->link = NULL;
    if (full_tail != NULL)
        full_tail->link = b;
    else
        full_head = b;
    full_tail = b;
    pthread_cond_broadcast(&reader_cv);
}

static uint32_t my_tid(void)
{
    if (tls_tid == 0)
        tls_tid = atomic_fetch_add(&next_tid, 1) + 1;
    return tls_tid;
}

/* Makes room for `need` bytes in *bp (a batch of this thread open), or
 * replaces the buffer. */
static trace_buf *room(trace_buf **bp, size_t need, uint64_t now, bool locked)
{
    trace_buf *b = *bp;
    uint32_t tid = my_tid();
    if (b != NULL && b->pos + need + BATCH_HEADER_MAX <= BUF_DATA) {
        if (b->batch_len_at == 0 || b->batch_tid != tid) {
            batch_close(b);
            batch_open(b, tid, now);
        }
        return b;
    }
    if (!locked)
        lock_acquire(&trace_lock);
    if (b != NULL)
        buf_queue(b);
    b = buf_get();
    if (!locked)
        lock_release(&trace_lock);
    batch_open(b, tid, now);
    *bp = b;
    return b;
}

/* Writes one event into *bp.  args: nargs integers; then, if bytes is not
 * NULL, a length and the bytes. */
static void write_event(trace_buf **bp, bool locked, uint8_t type, int nargs, const uint64_t *args,
                        const char *bytes, size_t blen)
{
    uint64_t now = now_ticks();
    if (tls_named_epoch != epoch && type != TRACE_EV_THREAD_NAME) {
        tls_named_epoch = epoch;
        char fallback[32];
        const char *name = tls_name;
        if (name == NULL) {
            snprintf(fallback, sizeof fallback, "thread %u", my_tid());
            name = fallback;
        }
        uint64_t id = intern(name);
        write_event(bp, locked, TRACE_EV_THREAD_NAME, 1, &id, NULL, 0);
    }
    size_t need = 1 + 10 + (size_t)nargs * 10 + (bytes != NULL ? 10 + blen : 0);
    CHECK(need <= EVENT_MAX);
    trace_buf *b = room(bp, need, now, locked);
    if (now < b->batch_base)
        now = b->batch_base; /* another thread's clock read in the shared buffer */
    uint8_t *p = b->data + b->pos;
    size_t n = 0;
    p[n++] = type;
    n += put_uvarint(p + n, now - b->batch_base);
    for (int i = 0; i < nargs; i++)
        n += put_uvarint(p + n, args[i]);
    if (bytes != NULL) {
        n += put_uvarint(p + n, blen);
        memcpy(p + n, bytes, blen);
        n += blen;
    }
    b->pos += n;
    if (b->pos > BUF_DATA)
        throw("trace: an event overflowed its buffer");
}

/* Enters the tracer for one event: true if tracing (then the caller writes
 * and calls leave). */
static void emit(uint8_t type, int nargs, const uint64_t *args, const char *bytes, size_t blen)
{
    trace_tstate *ts = tls_state;
    if (ts != NULL) {
        if (atomic_exchange(&ts->busy, 1) != 0)
            throw("trace: event written while this thread was already writing one (a signal handler?)");
        locks_held++; /* no suspension inside an event */
        if (__atomic_load_n(&trace_on, __ATOMIC_SEQ_CST))
            write_event(&ts->buf, false, type, nargs, args, bytes, blen);
        locks_held--;
        atomic_store(&ts->busy, 0);
        return;
    }
    if (tls_in_shared)
        throw("trace: event written while this thread was already writing one (a signal handler?)");
    tls_in_shared = 1;
    lock_acquire(&trace_lock);
    if (__atomic_load_n(&trace_on, __ATOMIC_SEQ_CST))
        write_event(&shared_buf, true, type, nargs, args, bytes, blen);
    lock_release(&trace_lock);
    tls_in_shared = 0;
}

void trace_event(uint8_t type, int nargs, uint64_t a, uint64_t b, uint64_t c)
{
    uint64_t args[3] = {a, b, c};
    emit(type, nargs, args, NULL, 0);
}

void trace_event_str(uint8_t type, const char *s)
{
    uint64_t id = intern(s);
    emit(type, 1, &id, NULL, 0);
}

void trace_event_task(uint64_t id, const char *name)
{
    uint64_t args[2] = {id, intern(name)};
    emit(TRACE_EV_TASK_BEGIN, 2, args, NULL, 0);
}

void trace_event_log(const char *category, const char *message)
{
    static const char cut[] = " [cut: longer than the trace's log limit]";
    char tmp[TRACE_LOG_MAX];
    uint64_t id = intern(category);
    size_t n = message != NULL ? strlen(message) : 0;
    const char *m = message != NULL ? message : "";
    if (n > TRACE_LOG_MAX) {
        /* Cut visibly, never silently. */
        memcpy(tmp, message, TRACE_LOG_MAX - sizeof cut + 1);
        memcpy(tmp + TRACE_LOG_MAX - sizeof cut + 1, cut, sizeof cut - 1);
        m = tmp;
        n = TRACE_LOG_MAX;
    }
    emit(TRACE_EV_LOG, 1, &id, m, n);
}

static _Atomic uint64_t last_heap_sample;

void trace_heap_sample(uint64_t live)
{
    uint64_t last = atomic_load_explicit(&last_heap_sample, memory_order_relaxed);
    uint64_t d = live > last ? live - last : last - live;
    uint64_t step = last / 64 > (256u << 10) ? last / 64 : (256u << 10);
    if (d < step)
        return;
    if (atomic_compare_exchange_strong(&last_heap_sample, &last, live))
        trace_event(TRACE_EV_HEAP_ALLOC, 1, live, 0, 0);
}

/* ---- Threads -------------------------------------------------------------------- */

static fixalloc state_alloc;

void trace_thread_begin(void)
{
    if (tls_state != NULL)
        return;
    trace_tstate *ts = fixalloc_alloc(&state_alloc);
    if (ts == NULL)
        return; /* this thread writes the shared buffer instead */
    ts->buf = NULL;
    atomic_store(&ts->busy, 0);
    lock_acquire(&trace_lock);
    ts->prev = NULL;
    ts->next = all_states;
    if (all_states != NULL)
        all_states->prev = ts;
    all_states = ts;
    lock_release(&trace_lock);
    tls_state = ts;
}

void trace_thread_end(void)
{
    trace_tstate *ts = tls_state;
    if (ts == NULL)
        return;
    /* Out of the list and the buffer queued in one step under the lock:
     * trace_stop either flushed it already or will not see it. */
    lock_acquire(&trace_lock);
    if (ts->prev != NULL)
        ts->prev->next = ts->next;
    else
        all_states = ts->next;
    if (ts->next != NULL)
        ts->next->prev = ts->prev;
    if (ts->buf != NULL) {
        buf_queue(ts->buf);
        ts->buf = NULL;
    }
    lock_release(&trace_lock);
    tls_state = NULL;
    fixalloc_free(&state_alloc, ts);
}

void trace_thread_name(const char *name) { tls_name = name; }

void trace_fork_child(void)
{
    /* The child has none of the parent's other threads, nor its reader:
     * the trace (if any) ends here without a footer, and its buffers are
     * left to the parent.  This thread keeps its state, emptied. */
    __atomic_store_n(&trace_on, 0, __ATOMIC_SEQ_CST);
    all_states = NULL;
    empty_stack = full_head = full_tail = shared_buf = NULL;
    reading = NULL;
    active = false;
    reader_inside = false;
    trace_tstate *ts = tls_state;
    if (ts != NULL) {
        ts->buf = NULL;
        atomic_store(&ts->busy, 0);
        ts->next = ts->prev = NULL;
        all_states = ts;
    }
    pthread_cond_init(&reader_cv, NULL);
    pthread_cond_init(&drained_cv, NULL);
}

/* ---- Lifecycle ------------------------------------------------------------------------ */

void trace_init(void)
{
    lock_register(&trace_lock);
    lock_register(&str_lock);
    fixalloc_init(&state_alloc, sizeof(trace_tstate), true, MEMSTAT_OTHER, NULL, NULL);
    lock_acquire(&trace_lock);
    all_states = NULL;
    active = false;
    lock_release(&trace_lock);
}

bool trace_active(void)
{
    lock_acquire(&trace_lock);
    bool a = active;
    lock_release(&trace_lock);
    return a;
}

int trace_start(void)
{
    lock_acquire(&trace_lock);
    if (active) {
        lock_release(&trace_lock);
        return TC_EBUSY;
    }
    active = true; /* reserved: a second trace_start is TC_EBUSY from here */
    lock_release(&trace_lock);

    lock_acquire(&str_lock);
    CHECK(str_table == NULL); /* the last trace's was freed when it drained */
    str_table = sys_alloc(STR_SLOTS * sizeof(str_entry), MEMSTAT_OTHER);
    str_bytes = sys_alloc(STR_BYTES, MEMSTAT_OTHER);
    bool ok = str_table != NULL && str_bytes != NULL;
    if (!ok) {
        if (str_table != NULL)
            sys_free(str_table, STR_SLOTS * sizeof(str_entry), MEMSTAT_OTHER);
        if (str_bytes != NULL)
            sys_free(str_bytes, STR_BYTES, MEMSTAT_OTHER);
        str_table = NULL;
        str_bytes = NULL;
    }
    str_used = str_count = 0;
    lock_release(&str_lock);

    lock_acquire(&trace_lock);
    if (!ok) {
        active = false;
        lock_release(&trace_lock);
        return TC_ENOMEM;
    }
    stopping = header_sent = footer_sent = drained = false;
    reading = NULL;
    reading_size = 0;
    nbufs = 0;
    epoch++;
    start_ns = sys_nanotime();
    start_wall = sys_walltime();
    atomic_store(&last_heap_sample, 0);
    __atomic_store_n(&trace_on, 1, __ATOMIC_SEQ_CST);
    lock_release(&trace_lock);
    return 0;
}

void trace_stop(void)
{
    __atomic_store_n(&trace_on, 0, __ATOMIC_SEQ_CST);
    lock_acquire(&trace_lock);
    duration = sys_nanotime() - start_ns;
    /* A writer that set busy before trace_on went clear finishes its event
     * (it may need trace_lock for a new buffer, so let go of the lock
     * between rounds); one that sets busy later sees trace_on clear and
     * writes nothing. */
    for (;;) {
        bool again = false;
        for (trace_tstate *ts = all_states; ts != NULL; ts = ts->next) {
            if (atomic_load(&ts->busy)) {
                again = true;
            } else if (ts->buf != NULL) {
                buf_queue(ts->buf);
                ts->buf = NULL;
            }
        }
        if (!again)
            break;
        lock_release(&trace_lock);
        sched_yield();
        lock_acquire(&trace_lock);
    }
    if (shared_buf != NULL) {
        buf_queue(shared_buf);
        shared_buf = NULL;
    }
    stopping = true;
    pthread_cond_broadcast(&reader_cv);
    lock_release(&trace_lock);
}

void trace_wait_drained(void)
{
    lock_acquire(&trace_lock);
    while (!drained)
        pthread_cond_wait(&drained_cv, &trace_lock.mu);
    /* Nothing may be left anywhere but on the empty stack. */
    size_t empties = 0;
    for (trace_buf *b = empty_stack; b != NULL; b = b->link)
        empties++;
    bool owned = shared_buf != NULL;
    for (trace_tstate *ts = all_states; ts != NULL; ts = ts->next)
        owned |= ts->buf != NULL;
    if (full_head != NULL || reading != NULL || owned || empties != nbufs)
        throw("trace: a buffer was left behind when the trace stopped");
    while (empty_stack != NULL) {
        trace_buf *b = empty_stack;
        empty_stack = b->link;
        sys_free(b, TRACE_BUF_SIZE, MEMSTAT_OTHER);
    }
    nbufs = 0;
    active = false;
    lock_release(&trace_lock);
    lock_acquire(&str_lock);
    if (str_table != NULL) {
        sys_free(str_table, STR_SLOTS * sizeof(str_entry), MEMSTAT_OTHER);
        sys_free(str_bytes, STR_BYTES, MEMSTAT_OTHER);
        str_table = NULL;
        str_bytes = NULL;
    }
    lock_release(&str_lock);
}

/* ---- The reader -------------------------------------------------------------------- */

static const uint8_t header[16] = {'T', 'C', 'T', 'R', 'A', 'C', 'E', 0, TRACE_VERSION, 0, 0, 0, 0, 0, 0, 0};

/* Under trace_lock: the footer, in its own mapping. */
static void *make_footer(size_t *len, size_t *mapped)
{
    lock_acquire(&str_lock);
    size_t cap = 64 + 20 * (str_count + 1) + str_used + sizeof "<string table full>";
    cap = (cap + SYS_PAGE_SIZE - 1) & ~(size_t)(SYS_PAGE_SIZE - 1);
    uint8_t *p = sys_alloc(cap, MEMSTAT_OTHER);
    if (p == NULL)
        throw("out of memory for the trace footer");
    size_t n = 0;
    p[n++] = TRACE_EV_FOOTER;
    n += put_uvarint(p + n, 1000000000u);
    n += put_uvarint(p + n, start_wall);
    n += put_uvarint(p + n, duration);
    n += put_uvarint(p + n, str_count + 1);
    static const char full[] = "<string table full>";
    n += put_uvarint(p + n, STR_FULL_ID);
    n += put_uvarint(p + n, sizeof full - 1);
    memcpy(p + n, full, sizeof full - 1);
    n += sizeof full - 1;
    for (size_t i = 0; i < STR_SLOTS && str_table != NULL; i++) {
        str_entry *e = &str_table[i];
        if (e->s == NULL)
            continue;
        n += put_uvarint(p + n, e->id);
        n += put_uvarint(p + n, e->len);
        memcpy(p + n, e->s, e->len);
        n += e->len;
    }
    p[n++] = TRACE_EV_END;
    CHECK(n <= cap);
    lock_release(&str_lock);
    *len = n;
    *mapped = cap;
    return p;
}

const void *trace_read(size_t *len)
{
    const void *out = NULL;
    *len = 0;
    lock_acquire(&trace_lock);
    if (reader_inside)
        throw("tc_trace_read: called by two threads at once; the trace has one reader");
    reader_inside = true;
    /* Give back what the previous call returned. */
    if (reading != NULL) {
        if (reading_size != 0) {
            sys_free(reading, reading_size, MEMSTAT_OTHER);
        } else {
            trace_buf *b = reading;
            b->pos = 0;
            b->link = empty_stack;
            empty_stack = b;
        }
        reading = NULL;
        reading_size = 0;
    }
    if (!active || drained) {
        /* Nothing to read (no trace, or its end was returned already). */
    } else if (!header_sent) {
        header_sent = true;
        out = header;
        *len = sizeof header;
    } else {
        while (full_head == NULL && !stopping)
            pthread_cond_wait(&reader_cv, &trace_lock.mu);
        if (full_head != NULL) {
            trace_buf *b = full_head;
            full_head = b->link;
            if (full_head == NULL)
                full_tail = NULL;
            reading = b;
            out = b->data;
            *len = b->pos;
        } else if (!footer_sent) {
            footer_sent = true;
            size_t mapped;
            reading = make_footer(len, &mapped);
            reading_size = mapped;
            out = reading;
        } else {
            drained = true;
            pthread_cond_broadcast(&drained_cv);
        }
    }
    reader_inside = false;
    lock_release(&trace_lock);
    return out;
}
