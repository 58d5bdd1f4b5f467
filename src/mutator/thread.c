/*
 * thread.c -- attaching and detaching threads.
 *
 * Design: a thread must attach before it touches the heap; attaching gives
 * it a thread_ctx (an off-heap record holding its allocation cache) and
 * points the thread-local tls_mcache at it.  Detaching returns the cached
 * spans to the mcentrals and folds the thread's counters into the
 * registry's.  A thread that exits while attached is detached by a
 * pthread key destructor, so it can never leave a context behind.
 *
 * Invariants: registry.count = length of the list; a thread's tls_mcache is
 * &its ctx->cache iff it is on the list.
 * Locking: registry.lock is the outermost runtime lock except options.
 */
#include "thread.h"

#include <stddef.h>
#include <string.h>

#include "../base/throw.h"
#include "../offheap/fixalloc.h"
#include "tricolor.h"

thread_registry registry = { .lock = LOCK_INIT(LOCK_RANK_THREADS) };

static fixalloc threadalloc;
static pthread_key_t thread_key;
static int thread_key_made;

static void thread_exit_destructor(void *arg)
{
    thread_ctx *t = arg;
    if (t != NULL && tls_mcache == &t->cache)
        thread_detach();
}

int thread_registry_init(void)
{
    lock_acquire(&registry.lock);
    registry.first = NULL;
    registry.count = 0;
    registry.detached_mallocs = registry.detached_alloc_bytes = 0;
    fixalloc_init(&threadalloc, sizeof(thread_ctx), true, MEMSTAT_OTHER, NULL, NULL);
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

int thread_attach(void)
{
    if (tls_mcache != &mcache_unattached)
        return TC_EBUSY;
    thread_ctx *t = fixalloc_alloc(&threadalloc);
    if (t == NULL)
        return TC_ENOMEM;
    mcache_init(&t->cache);
    t->self = pthread_self();
    lock_acquire(&registry.lock);
    t->prev = NULL;
    t->next = registry.first;
    if (registry.first != NULL)
        registry.first->prev = t;
    registry.first = t;
    registry.count++;
    lock_release(&registry.lock);
    pthread_setspecific(thread_key, t);
    tls_mcache = &t->cache;
    return 0;
}

void thread_detach(void)
{
    mcache *c = tls_mcache;
    if (c == &mcache_unattached)
        throw("tc_thread_detach: the calling thread is not attached");
    thread_ctx *t = (thread_ctx *)((char *)c - offsetof(thread_ctx, cache));
    mcache_release_all(c);
    lock_acquire(&registry.lock);
    if (t->prev != NULL)
        t->prev->next = t->next;
    else
        registry.first = t->next;
    if (t->next != NULL)
        t->next->prev = t->prev;
    registry.count--;
    registry.detached_mallocs += atomic_load(&c->mallocs);
    registry.detached_alloc_bytes += atomic_load(&c->alloc_bytes);
    lock_release(&registry.lock);
    tls_mcache = &mcache_unattached;
    pthread_setspecific(thread_key, NULL);
    fixalloc_free(&threadalloc, t);
}

void thread_count_allocs(uint64_t *mallocs, uint64_t *bytes)
{
    lock_acquire(&registry.lock);
    uint64_t m = registry.detached_mallocs, b = registry.detached_alloc_bytes;
    for (thread_ctx *t = registry.first; t != NULL; t = t->next) {
        uint64_t tm, tb;
        mcache_read_counts(&t->cache, &tm, &tb);
        m += tm;
        b += tb;
    }
    lock_release(&registry.lock);
    *mallocs = m;
    *bytes = b;
}
