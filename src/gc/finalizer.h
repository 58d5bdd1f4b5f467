/*
 * finalizer.h -- the queue of finalizers to run and the thread that runs
 * them; tc_set_finalizer.  See finalizer.c.
 */
#ifndef TC_GC_FINALIZER_H
#define TC_GC_FINALIZER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "workbuf.h"

extern _Atomic uint64_t finalizers_queued, finalizers_run;

void finalizer_init(void);
/* Stops the finalizer thread (waiting for a finalizer that is running to
 * return) and drops what is still queued.  Before the collector stops. */
void finalizer_shutdown(void);
/* fork(): the child has no finalizer thread; it starts again on demand. */
void finalizer_fork_prepare(void);
void finalizer_fork_parent(void);
void finalizer_fork_child(void);

/* Queues fn(obj, arg) for the finalizer thread.  The sweeper, under
 * specials_lock. */
void finq_push(void (*fn)(void *, void *), void *obj, void *arg);

/* Marking: the queued objects and arguments are roots.  Returns the bytes
 * of queue scanned. */
size_t finq_mark_roots(gcwork *gw);

/* Calls fn(fin, obj, arg, ctx) for every queued entry, oldest first,
 * holding finq_lock (fn takes no lock of rank LOCK_RANK_FINQ or lower).
 * For observers (heap dumps). */
void finq_for_each(void (*fn)(void (*fin)(void *, void *), void *obj, void *arg, void *ctx), void *ctx);

#endif
