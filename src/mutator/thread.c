/*
 * thread.c -- attaching and detaching threads.
 *
 * Design: a thread must attach before it touches the heap; attaching gives
 * it a thread_ctx (an off-heap record holding its allocation cache, its
 * write-barrier buffer and its mark work buffers), records its stack
 * bounds, and points the thread-locals tls_mcache, tc__wbuf_cur and
 * tls_thread at it.  Detaching hands the barrier buffer and work to the
 * collector, returns the cached spans to the mcentrals and folds the
 * thread's counters into the registry's.  A thread that exits while
 * attached is detached by a pthread key destructor, so it can never leave
 * a context behind to stall the next stop-the-world.
 *
 * Stopping the world holds registry.lock, so a thread attaching meanwhile
 * waits until the world restarts; a detaching thread marks itself
 * BLOCKING before it takes the lock, so the collector does not wait for it.
 *
 * Invariants: registry.count = length of the list; a thread's tls_thread
 * is its context iff the context is on the list.
 * Locking: registry.lock (rank LOCK_RANK_THREADS, inside only init_lock).
 */
#include "thread.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "../base/options.h"
#include "../base/throw.h"
#include "../offheap/fixalloc.h"
#include "../sys/sys.h"
#include "../trace/trace.h"
#include "safepoint.h"
#include "tricolor.h"

const char *const thread_state_names[THREAD_STATE_COUNT] = {"running", "blocking", "parked",
                                                            "suspended"};

thread_registry registry = { .lock = LOCK_INIT(LOCK_RANK_THREADS) };
__thread thread_ctx *tls_thread __attribute__((tls_model("initial-exec")));
void (*thread_detach_hook)(thread_ctx *t);

/* Unattached threads see a barrier buffer with no room, so their first
 * barriered store while the collector marks reaches tc__wb_slow, which
 * reports the misuse. */
static void *no_entries[2];
static tc__wbuf no_wbuf = { no_entries, no_entries };
TC_API __thread tc__wbuf *tc__wbuf_cur __attribute__((tls_model("initial-exec"))) = &no_wbuf;

static fixalloc threadalloc;
static pthread_key_t thread_key;
static int thread_key_made;

static void thread_exit_destructor(void *arg)
{
    thread_ctx *t = arg;
    if (t != NULL && tls_thread == t)
        thread_detach();
}

int thread_registry_init(void)
{
    lock_register(&registry.lock);
    /* Before taking registry.lock: lock_init registers the new lock under
     * the fork list's mutex, which fork handling takes before every lock. */
    fixalloc_init(&threadalloc, sizeof(thread_ctx), true, MEMSTAT_OTHER, NULL, NULL);
    lock_acquire(&registry.lock);
    registry.first = NULL;
    registry.count = 0;
    registry.detached_mallocs = registry.detached_alloc_bytes = 0;
    int rc = 0;
    if (!thread_key_made) {
        if (pthread_key_create(&thread_key, thread_exit_destructor) != 0)
            rc = TC_ENOMEM;
        else
            thread_key_made = 1;
    }
    lock_release(&registry.lock);
    return rc;
}

void thread_registry_free_all(void)
{
    lock_acquire(&registry.lock);
    registry.first = NULL;
    registry.count = 0;
    lock_release(&registry.lock);
}

/* Points the barrier buffer at its entries: WBBUF_ENTRIES of room, or none
 * in checkptr mode so that every barriered store takes the slow path. */
int wbbuf_capacity = WBBUF_ENTRIES;

void thread_wbuf_reset(thread_ctx *t)
{
    int cap = options.checkptr ? 0 : wbbuf_capacity;
    t->wb.next = t->wb_entries;
    t->wb.end = t->wb_entries + (cap < 0 ? 0 : cap > WBBUF_ENTRIES ? WBBUF_ENTRIES : cap);
}

/* The thread's TLS blocks that lie outside its stack. */
static void thread_find_tls(thread_ctx *t)
{
    uintptr_t found[THREAD_TLS_MAX][2];
    size_t n = sys_thread_tls(found, THREAD_TLS_MAX);
    if (n > THREAD_TLS_MAX) {
        fprintf(stderr, "tricolor: %zu modules with thread-local storage; only the first %d are "
                        "scanned as roots\n", n, THREAD_TLS_MAX);
        n = THREAD_TLS_MAX;
    }
    t->ntls = 0;
    for (size_t i = 0; i < n; i++) {
        if (found[i][0] >= t->stack_lo && found[i][1] <= t->stack_hi)
            continue; /* inside the stack: scanned with it */
        t->tls[t->ntls][0] = found[i][0];
        t->tls[t->ntls][1] = found[i][1];
        t->ntls++;
    }
}

int thread_attach(void)
{
    if (tls_thread != NULL)
        return TC_EBUSY;
    thread_ctx *t = fixalloc_alloc(&threadalloc);
    if (t == NULL)
        return TC_ENOMEM;
    mcache_init(&t->cache);
    thread_wbuf_reset(t);
    t->self = pthread_self();
    if (sys_thread_stack(&t->stack_lo, &t->stack_hi) != 0) {
        fixalloc_free(&threadalloc, t);
        return TC_ESTATE;
    }
    thread_find_tls(t);
    atomic_store(&t->state, THREAD_RUNNING);
    lock_acquire(&registry.lock);
    t->prev = NULL;
    t->next = registry.first;
    if (registry.first != NULL)
        registry.first->prev = t;
    registry.first = t;
    registry.count++;
    tls_thread = t;
    tls_mcache = &t->cache;
    tc__wbuf_cur = &t->wb;
    lock_release(&registry.lock);
    pthread_setspecific(thread_key, t);
    trace_thread_begin();
    TRACE_EV0(TRACE_EV_THREAD_ATTACH);
    return 0;
}

void thread_detach(void)
{
    thread_ctx *t = tls_thread;
    if (t == NULL)
        throw("tc_thread_detach: the calling thread is not attached");
    tc_safepoint();
    t->cache.nopreempt++;
    if (thread_detach_hook != NULL)
        thread_detach_hook(t);
    mcache_release_all(&t->cache);
    t->cache.nopreempt--;
    /* From here on the thread touches nothing the collector scans. */
    safepoint_blocking_enter(t);
    TRACE_EV0(TRACE_EV_THREAD_DETACH);
    trace_thread_end();
    lock_acquire(&registry.lock);
    if (t->prev != NULL)
        t->prev->next = t->next;
    else
        registry.first = t->next;
    if (t->next != NULL)
        t->next->prev = t->prev;
    registry.count--;
    registry.detached_mallocs += atomic_load(&t->cache.mallocs);
    registry.detached_alloc_bytes += atomic_load(&t->cache.alloc_bytes);
    tls_thread = NULL;
    tls_mcache = &mcache_unattached;
    tc__wbuf_cur = &no_wbuf;
    lock_release(&registry.lock);
    pthread_setspecific(thread_key, NULL);
    fixalloc_free(&threadalloc, t);
}

void thread_registry_fork_child(thread_ctx *self)
{
    thread_ctx *t = registry.first;
    while (t != NULL) {
        thread_ctx *next = t->next;
        if (t != self) {
            /* The thread may have been anywhere in the allocation fast path
             * when the parent forked: make its spans' counts agree with
             * their cursors before giving them back. */
            for (unsigned sc = 0; sc < NUM_SPAN_CLASSES; sc++) {
                span *s = mcache_span(&t->cache, (spanclass_t)sc);
                if (s == &empty_span)
                    continue;
                atomic_store(&s->alloc_count, (uint16_t)span_count_allocated(s));
                atomic_store(&s->freeindex_for_scan, s->freeindex);
            }
            atomic_store(&t->cache.stats_seq, 0);
            t->cache.nopreempt = 0;
            mcache_release_all(&t->cache);
            registry.detached_mallocs += atomic_load(&t->cache.mallocs);
            registry.detached_alloc_bytes += atomic_load(&t->cache.alloc_bytes);
            fixalloc_free(&threadalloc, t);
            registry.count--;
        }
        t = next;
    }
    registry.first = self;
    if (self != NULL) {
        self->next = self->prev = NULL;
        self->self = pthread_self();
    }
}

size_t thread_count_running(void)
{
    size_t n = 0;
    lock_acquire(&registry.lock);
    for (thread_ctx *t = registry.first; t != NULL; t = t->next)
        n += atomic_load_explicit(&t->state, memory_order_relaxed) == THREAD_RUNNING;
    lock_release(&registry.lock);
    return n;
}

void thread_count_allocs(uint64_t *mallocs, uint64_t *bytes)
{
    /* A stop-the-world holds registry.lock while it waits for every
     * attached thread, so an attached caller waits for it as blocking. */
    thread_ctx *self = tls_thread;
    bool waited = runtime_wait_begin(self);
    lock_acquire(&registry.lock);
    uint64_t m = registry.detached_mallocs, b = registry.detached_alloc_bytes;
    for (thread_ctx *t = registry.first; t != NULL; t = t->next) {
        uint64_t tm, tb;
        mcache_read_counts(&t->cache, &tm, &tb);
        m += tm;
        b += tb;
    }
    lock_release(&registry.lock);
    runtime_wait_end(self, waited);
    *mallocs = m;
    *bytes = b;
}
