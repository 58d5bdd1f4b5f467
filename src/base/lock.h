/*
 * lock.h -- the runtime's mutex and the lock order.
 *
 * Every lock in tricolor is a lock_t with a rank, and locks are taken in
 * strictly increasing rank: a thread holding a lock of rank r may only take
 * locks of rank > r (so never two locks of one rank, e.g. two mcentrals).
 * The ranks follow the layers, outermost first:
 *
 *   LOCK_RANK_INIT        api.c init_lock: tc_init / tc_shutdown
 *   LOCK_RANK_THREADS     mutator/thread.c registry.lock
 *   LOCK_RANK_ROOTS       gc/roots.c roots_lock (scanning a registered range)
 *   LOCK_RANK_SPECIALS    gc/special.c specials_lock (every span's specials)
 *   LOCK_RANK_FINQ        gc/finalizer.c the queue of finalizers to run
 *   LOCK_RANK_PACER       gc/pacer.c pacer_lock (writers of the heap goal and trigger)
 *   LOCK_RANK_MCENTRAL    heap/mcentral.c, one per span class
 *   LOCK_RANK_SCAVENGE    heap/scavenge.c scav_lock (one step of returning pages to the OS)
 *   LOCK_RANK_HEAP        heap/page_heap.c heap.lock
 *   LOCK_RANK_TYPES       heap/type.c type_lock
 *   LOCK_RANK_FIXALLOC    offheap/fixalloc.c, one per fixalloc
 *   LOCK_RANK_PERSISTENT  offheap/persistent_alloc.c
 *   LOCK_RANK_TRACE       trace/trace.c buffers and the reader
 *   LOCK_RANK_TRACE_STR   trace/trace.c the string table, innermost
 *
 * At TC_DEBUG >= 1 (the sanitizer build) every acquisition is checked
 * against the ranks the thread holds, and a violation throws naming both
 * ranks.  In release builds lock_acquire is pthread_mutex_lock.
 */
#ifndef TC_BASE_LOCK_H
#define TC_BASE_LOCK_H

#include <pthread.h>

#include "throw.h"

typedef enum lock_rank {
    LOCK_RANK_NONE = 0,
    LOCK_RANK_INIT,
    LOCK_RANK_THREADS,
    LOCK_RANK_ROOTS,
    LOCK_RANK_SPECIALS,
    LOCK_RANK_FINQ,
    LOCK_RANK_PACER,
    LOCK_RANK_MCENTRAL,
    LOCK_RANK_SCAVENGE,
    LOCK_RANK_HEAP,
    LOCK_RANK_TYPES,
    LOCK_RANK_FIXALLOC,
    LOCK_RANK_PERSISTENT,
    LOCK_RANK_TRACE,
    LOCK_RANK_TRACE_STR,
} lock_rank;

typedef struct lock {
    pthread_mutex_t mu;
    lock_rank rank;
    int registered;     /* on the list fork() handling walks */
} lock_t;

#define LOCK_INIT(r) { PTHREAD_MUTEX_INITIALIZER, (r), 0 }

/* Puts l on the list of runtime locks (idempotent).  lock_init does it;
 * statically initialised locks are registered by their module's init. */
void lock_register(lock_t *l);

static inline void lock_init(lock_t *l, lock_rank rank)
{
    pthread_mutex_init(&l->mu, NULL);
    l->rank = rank;
    lock_register(l);
}

/* fork() support: take every registered lock in rank order, then release
 * them in the parent or re-create them in the child. */
void locks_fork_prepare(void);
void locks_fork_parent(void);
void locks_fork_child(void);

#if TC_DEBUG >= 1
void lock_rank_acquire(const lock_t *l);
void lock_rank_release(const lock_t *l);
#else
static inline void lock_rank_acquire(const lock_t *l) { (void)l; }
static inline void lock_rank_release(const lock_t *l) { (void)l; }
#endif

/* Runtime locks the calling thread holds (Go's m.locks): a thread holding
 * one is never suspended by the collector's signal, which could otherwise
 * stop the world while a lock it needs is held. */
extern __thread int locks_held __attribute__((tls_model("initial-exec")));

static inline void lock_acquire(lock_t *l)
{
    lock_rank_acquire(l);
    locks_held++;
    pthread_mutex_lock(&l->mu);
}

static inline void lock_release(lock_t *l)
{
    pthread_mutex_unlock(&l->mu);
    locks_held--;
    lock_rank_release(l);
}

#endif
