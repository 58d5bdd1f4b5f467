/*
 * thread.h -- the registry of attached threads and their contexts.
 * See thread.c.
 */
#ifndef TC_MUTATOR_THREAD_H
#define TC_MUTATOR_THREAD_H

#include <pthread.h>
#include <stdint.h>

#include "../base/lock.h"
#include "../heap/mcache.h"

/* One attached thread (Go's M and P in one): off-heap, from threadalloc.
 * The collector's per-thread state (write barrier buffer, mark work
 * buffers, stack bounds) joins it in later versions. */
typedef struct thread_ctx {
    mcache cache;                       /* owner: the thread */
    struct thread_ctx *next, *prev;     /* under registry.lock */
    pthread_t self;
} thread_ctx;

typedef struct thread_registry {
    lock_t lock;        /* rank LOCK_RANK_THREADS: guards the list and the counters */
    thread_ctx *first;
    size_t count;
    /* Counters of threads that detached (their caches' counters folded in). */
    uint64_t detached_mallocs, detached_alloc_bytes;
} thread_registry;

extern thread_registry registry;

int  thread_registry_init(void);
void thread_registry_free_all(void);

int  thread_attach(void);   /* 0, TC_EBUSY, TC_ESTATE, TC_ENOMEM */
void thread_detach(void);

/* Sums the allocation counters of every thread, live and detached. */
void thread_count_allocs(uint64_t *mallocs, uint64_t *bytes);

#endif
