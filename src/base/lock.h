/*
 * lock.h -- the runtime's mutex.
 *
 * A thin wrapper over pthread_mutex_t so that every lock in tricolor is
 * declared the same way and its rank (docs/HACKING.md "Lock order") is
 * written next to it.  Locks are taken in increasing rank:
 *
 *   LOCK_RANK_OPTIONS < LOCK_RANK_THREADS < LOCK_RANK_MCENTRAL
 *     < LOCK_RANK_HEAP < LOCK_RANK_TYPES < LOCK_RANK_FIXALLOC < LOCK_RANK_PERSISTENT
 *
 * A lock of a lower layer never calls up into a higher one while held.
 */
#ifndef TC_BASE_LOCK_H
#define TC_BASE_LOCK_H

#include <pthread.h>

typedef struct lock {
    pthread_mutex_t mu;
} lock_t;

#define LOCK_INIT { PTHREAD_MUTEX_INITIALIZER }

static inline void lock_init(lock_t *l) { pthread_mutex_init(&l->mu, NULL); }
static inline void lock_acquire(lock_t *l) { pthread_mutex_lock(&l->mu); }
static inline void lock_release(lock_t *l) { pthread_mutex_unlock(&l->mu); }

#endif
