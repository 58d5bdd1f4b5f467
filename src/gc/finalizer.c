/*
 * finalizer.c -- finalizers: tc_set_finalizer, the queue of finalizers
 * found ready by the sweeper, and the thread that runs them (Go's
 * SetFinalizer, finq and fing).
 *
 * A finalizer is a record attached to its object's span (special.c).  When
 * a sweep finds the object unmarked, the record becomes an entry of this
 * queue {fn, obj, arg} and the object is kept.  The queue lives off-heap in
 * blocks of FINQ_BLOCK_ENTRIES and is a root: marking visits every entry
 * (finq_mark_roots), so the object and everything it references survive
 * until its finalizer has returned.  After that nothing but the program
 * refers to it, and if the program dropped it, a later cycle frees it.
 *
 * The finalizer thread is an attached thread, started by the first
 * tc_set_finalizer (and again after fork() in the child, on demand).  It
 * takes entries one at a time and calls them in queue order, outside every
 * runtime lock, so a finalizer may allocate, set finalizers and call
 * tc_collect.  Taking an entry moves the object from a root (the queue) to
 * the thread's stack, which marking may have scanned already; so a taker
 * shades the entry while the collector marks (the deletion half of the
 * hybrid barrier).  While the queue is empty the thread waits in a blocking
 * region, counting as stopped.
 *
 * Locking: finq_lock (rank LOCK_RANK_FINQ, inside specials_lock: the
 * sweeper queues while holding it) guards the queue; fin_mu, a plain
 * mutex taken under no runtime lock but finq_lock, guards the thread's
 * state and its wake-up condition.
 */
#include "finalizer.h"

#include <pthread.h>
#include <string.h>

#include "../base/lock.h"
#include "../base/throw.h"
#include "../heap/span.h"
#include "../mutator/safepoint.h"
#include "../mutator/thread.h"
#include "../offheap/fixalloc.h"
#include "../trace/trace.h"
#include "mark.h"
#include "special.h"
#include "tricolor.h"

#define FINQ_BLOCK_ENTRIES 168 /* a block is just under 4 KiB */

typedef struct fin_entry {
    void (*fn)(void *obj, void *arg);
    void *obj;
    void *arg;
} fin_entry;

typedef struct fin_block {
    struct fin_block *next;
    uint32_t head, tail; /* entries [head, tail) are queued */
    fin_entry e[FINQ_BLOCK_ENTRIES];
} fin_block;

_Atomic uint64_t finalizers_queued, finalizers_run;

static lock_t finq_lock = LOCK_INIT(LOCK_RANK_FINQ);
static fixalloc block_alloc;            /* under finq_lock */
static fin_block *q_first, *q_last;     /* under finq_lock; FIFO */
static _Atomic size_t q_len;            /* entries queued; written under finq_lock */

static pthread_mutex_t fin_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t fin_cv = PTHREAD_COND_INITIALIZER;
static int fin_running;                 /* under fin_mu: the thread exists */
static int fin_stop;                    /* under fin_mu: shutdown asked */
static int fin_wake;                    /* under fin_mu: work was queued */
static pthread_t fin_thread;            /* under fin_mu */

void finalizer_init(void)
{
    lock_register(&finq_lock);
    lock_acquire(&finq_lock);
    fixalloc_init(&block_alloc, sizeof(fin_block), false, MEMSTAT_GC, NULL, NULL);
    q_first = q_last = NULL;
    atomic_store(&q_len, 0);
    lock_release(&finq_lock);
    atomic_store(&finalizers_queued, 0);
    atomic_store(&finalizers_run, 0);
    pthread_mutex_lock(&fin_mu);
    fin_stop = fin_wake = 0;
    pthread_mutex_unlock(&fin_mu);
}

void finq_push(void (*fn)(void *, void *), void *obj, void *arg)
{
    lock_acquire(&finq_lock);
    if (q_last == NULL || q_last->tail == FINQ_BLOCK_ENTRIES) {
        fin_block *b = fixalloc_alloc(&block_alloc);
        if (b == NULL)
            throw("out of memory for the finalizer queue");
        b->next = NULL;
        b->head = b->tail = 0;
        if (q_last != NULL)
            q_last->next = b;
        else
            q_first = b;
        q_last = b;
    }
    q_last->e[q_last->tail++] = (fin_entry){fn, obj, arg};
    atomic_fetch_add(&q_len, 1);
    lock_release(&finq_lock);
    atomic_fetch_add_explicit(&finalizers_queued, 1, memory_order_relaxed);
    pthread_mutex_lock(&fin_mu);
    fin_wake = 1;
    pthread_cond_signal(&fin_cv);
    pthread_mutex_unlock(&fin_mu);
}

/* Takes the oldest entry; false if there is none. */
static bool finq_pop(fin_entry *out)
{
    bool got = false;
    lock_acquire(&finq_lock);
    fin_block *b = q_first;
    if (b != NULL && b->head < b->tail) {
        *out = b->e[b->head];
        memset(&b->e[b->head], 0, sizeof b->e[b->head]);
        b->head++;
        atomic_fetch_sub(&q_len, 1);
        got = true;
    }
    if (b != NULL && b->head == b->tail && (b->tail == FINQ_BLOCK_ENTRIES || b == q_last)) {
        q_first = b->next;
        if (q_first == NULL)
            q_last = NULL;
        fixalloc_free(&block_alloc, b);
    }
    lock_release(&finq_lock);
    return got;
}

size_t finq_mark_roots(gcwork *gw)
{
    size_t n = 0;
    lock_acquire(&finq_lock);
    for (fin_block *b = q_first; b != NULL; b = b->next)
        for (uint32_t i = b->head; i < b->tail; i++) {
            mark_pointer((uintptr_t)b->e[i].obj, gw);
            if ((uintptr_t)b->e[i].arg >= 4096)
                mark_pointer((uintptr_t)b->e[i].arg, gw);
            n++;
        }
    lock_release(&finq_lock);
    return n * sizeof(fin_entry);
}

void finq_for_each(void (*fn)(void (*fin)(void *, void *), void *obj, void *arg, void *ctx), void *ctx)
{
    lock_acquire(&finq_lock);
    for (fin_block *b = q_first; b != NULL; b = b->next)
        for (uint32_t i = b->head; i < b->tail; i++)
            fn(b->e[i].fn, b->e[i].obj, b->e[i].arg, ctx);
    lock_release(&finq_lock);
}

/* Takes the next entry into *e, shading it if the collector marks.  With
 * preemption off, so that the phase cannot change in between. */
static bool take_entry(thread_ctx *t, fin_entry *e)
{
    t->cache.nopreempt++;
    bool got = finq_pop(e);
    if (got && atomic_load_explicit(&gc_phase_now, memory_order_relaxed) != GC_OFF) {
        mark_pointer((uintptr_t)e->obj, &t->work);
        if ((uintptr_t)e->arg >= 4096)
            mark_pointer((uintptr_t)e->arg, &t->work);
        gcwork_dispose(&t->work);
    }
    t->cache.nopreempt--;
    return got;
}

/* Runs e and forgets it: no copy of the object should linger in this
 * frame to keep it alive (the stack is scanned conservatively). */
static NOINLINE void run_entry(fin_entry *e)
{
    e->fn(e->obj, e->arg);
    atomic_fetch_add_explicit(&finalizers_run, 1, memory_order_relaxed);
    memset(e, 0, sizeof *e);
    __asm__ volatile("" ::"r"(e) : "memory");
}

static void *finalizer_main(void *arg)
{
    (void)arg;
    trace_thread_name("finalizer");
    if (thread_attach() != 0)
        throw("the finalizer thread could not attach");
    thread_ctx *t = tls_thread;
    for (;;) {
        fin_entry e;
        if (take_entry(t, &e)) {
            run_entry(&e);
            tc_safepoint();
            continue;
        }
        tc_blocking_begin();
        pthread_mutex_lock(&fin_mu);
        while (!fin_wake && !fin_stop)
            pthread_cond_wait(&fin_cv, &fin_mu);
        fin_wake = 0;
        int stop = fin_stop;
        pthread_mutex_unlock(&fin_mu);
        tc_blocking_end();
        if (stop)
            break;
    }
    thread_detach();
    pthread_mutex_lock(&fin_mu);
    fin_running = 0;
    pthread_mutex_unlock(&fin_mu);
    return NULL;
}

/* Starts the finalizer thread unless it runs.  Returns 0 or TC_ENOMEM. */
static int finalizer_start(void)
{
    int rc = 0;
    pthread_mutex_lock(&fin_mu);
    if (!fin_running && !fin_stop) {
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        if (pthread_create(&fin_thread, &attr, finalizer_main, NULL) == 0)
            fin_running = 1;
        else
            rc = TC_ENOMEM;
        pthread_attr_destroy(&attr);
    }
    pthread_mutex_unlock(&fin_mu);
    return rc;
}

void finalizer_shutdown(void)
{
    pthread_mutex_lock(&fin_mu);
    int running = fin_running;
    pthread_t th = fin_thread;
    fin_stop = 1;
    pthread_cond_signal(&fin_cv);
    pthread_mutex_unlock(&fin_mu);
    if (running) {
        if (pthread_equal(th, pthread_self()))
            throw("tc_shutdown called from a finalizer");
        pthread_join(th, NULL);
    }
    lock_acquire(&finq_lock);
    while (q_first != NULL) {
        fin_block *b = q_first;
        q_first = b->next;
        fixalloc_free(&block_alloc, b);
    }
    q_last = NULL;
    atomic_store(&q_len, 0);
    lock_release(&finq_lock);
}

void finalizer_fork_prepare(void) { pthread_mutex_lock(&fin_mu); }
void finalizer_fork_parent(void) { pthread_mutex_unlock(&fin_mu); }

void finalizer_fork_child(void)
{
    pthread_mutex_init(&fin_mu, NULL);
    pthread_cond_init(&fin_cv, NULL);
    fin_running = 0; /* threads do not survive fork; restarted on demand */
    fin_wake = 0;
}

/* ---- tc_set_finalizer ----------------------------------------------------- */

TC_API int tc_set_finalizer(void *obj, void (*fn)(void *obj, void *arg), void *arg)
{
    thread_ctx *t = tls_thread;
    if (t == NULL)
        return TC_ESTATE;
    span *s = span_of_heap((uintptr_t)obj);
    if (s == NULL)
        return TC_EINVAL;
    size_t idx = span_is_large(s) ? 0 : span_object_index(s, (uintptr_t)obj);
    if (span_object_base(s, idx) != (uintptr_t)obj || !span_slot_allocated(s, idx))
        return TC_EINVAL;
    if (fn != NULL) {
        int rc = finalizer_start();
        if (rc != 0)
            return rc;
    }
    int rc = 0;
    t->cache.nopreempt++;
    bool marking = atomic_load_explicit(&gc_phase_now, memory_order_relaxed) != GC_OFF;
    specials_lock_acquire();
    special *sp = special_find_locked(s, (uint32_t)idx, SPECIAL_FINALIZER);
    if (sp != NULL && marking && (uintptr_t)sp->u.fin.arg >= 4096)
        mark_pointer((uintptr_t)sp->u.fin.arg, &t->work); /* a root going away */
    if (fn == NULL) {
        if (sp != NULL)
            special_remove_locked(s, sp);
    } else {
        if (sp == NULL && (sp = special_alloc()) != NULL) {
            sp->index = (uint32_t)idx;
            sp->kind = SPECIAL_FINALIZER;
            special_insert_locked(s, sp);
        }
        if (sp == NULL) {
            rc = TC_ENOMEM;
        } else {
            sp->u.fin.fn = fn;
            sp->u.fin.arg = arg;
            if (marking)
                special_mark_finalizer((uintptr_t)obj, s, arg, &t->work);
        }
    }
    specials_lock_release();
    if (marking)
        gcwork_dispose(&t->work);
    t->cache.nopreempt--;
    tc_safepoint();
    return rc;
}
