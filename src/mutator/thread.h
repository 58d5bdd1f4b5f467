/*
 * thread.h -- the registry of attached threads and their contexts (Go's M
 * and P in one).  See thread.c and safepoint.c.
 *
 * Layering note: a context embeds the collector's per-thread buffers, so
 * this header includes the gc layer's type-only headers (workbuf.h) even
 * though gc/ sits above mutator/.
 */
#ifndef TC_MUTATOR_THREAD_H
#define TC_MUTATOR_THREAD_H

#include <pthread.h>
#include <stdint.h>

#include "../base/lock.h"
#include "../gc/workbuf.h"
#include "../heap/mcache.h"
#include "tricolor.h"

#define WBBUF_ENTRIES 512 /* write-barrier buffer: 256 (old, new) pairs */
#define THREAD_TLS_MAX 16 /* modules with static TLS whose blocks are roots */
#define SAVED_REGS 64 /* words: a signal's registers, or a blocking thread's spilled ones */

/* Where a thread is, as the collector sees it.  Owner writes; the
 * stopper reads (seq_cst, see safepoint.c). */
typedef enum thread_state {
    THREAD_RUNNING = 0, /* running user or runtime code */
    THREAD_BLOCKING,    /* between tc_blocking_begin and _end: touches no GC pointer */
    THREAD_PARKED,      /* waiting at a safepoint while the world is stopped */
    THREAD_SUSPENDED,   /* waiting in the collector's signal handler */
    THREAD_STATE_COUNT
} thread_state;

extern const char *const thread_state_names[THREAD_STATE_COUNT];

typedef struct thread_ctx {
    mcache cache;                   /* owner: the thread; the collector only with the world stopped */

    /* The write-barrier buffer: pub.next .. pub.end are free entries of
     * wb_entries.  Owner appends; the collector flushes it with the world
     * stopped. */
    tc__wbuf wb;
    void *wb_entries[WBBUF_ENTRIES];
    gcwork work;                    /* grey objects this thread found (barrier flushes, assists) */
    int64_t assist_credit;          /* bytes of allocation paid for by marking; owner only */

    _Atomic int state;              /* thread_state */
    /* Stack [stack_lo, stack_hi): constant.  saved_sp and regs are valid
     * while the thread is parked, suspended or blocking. */
    uintptr_t stack_lo, stack_hi;
    uintptr_t saved_sp;
    size_t nregs;
    uintptr_t regs[SAVED_REGS];

    /* Static thread-local storage outside the stack (the main thread's
     * __thread variables live apart from its stack; other threads' sit at
     * its top and are scanned with it): roots like the stack, scanned
     * with it.  Constant after attach. */
    uintptr_t tls[THREAD_TLS_MAX][2];
    size_t ntls;

    uint64_t last_signal_ns;        /* the stopper's: when it last signalled this thread */
    /* The world epoch in which the thread parked or was suspended: the
     * stopper counts a PARKED or SUSPENDED thread as stopped only for the
     * current epoch (a thread still waking from the previous stop is not). */
    _Atomic uint32_t stop_epoch;

    struct thread_ctx *next, *prev; /* under registry.lock */
    pthread_t self;
} thread_ctx;

typedef struct thread_registry {
    lock_t lock;        /* rank LOCK_RANK_THREADS: guards the list and the counters;
                           held by the collector for a whole stop-the-world */
    thread_ctx *first;
    size_t count;
    /* Counters of threads that detached (their caches' counters folded in). */
    uint64_t detached_mallocs, detached_alloc_bytes;
} thread_registry;

extern thread_registry registry;

/* The calling thread's context, NULL when it is not attached. */
extern __thread thread_ctx *tls_thread __attribute__((tls_model("initial-exec")));

int  thread_registry_init(void);
void thread_registry_free_all(void);

int  thread_attach(void);   /* 0, TC_EBUSY, TC_ESTATE, TC_ENOMEM */
void thread_detach(void);

/* In a fork() child: forgets every thread but self (they do not exist in
 * the child), giving their cached spans back. */
void thread_registry_fork_child(thread_ctx *self);

/* Empties t's write-barrier buffer, leaving wbbuf_capacity entries of room
 * (WBBUF_ENTRIES; 0 in checkptr mode, so that every store takes the slow
 * path; benchmarks and tests set it too). */
extern int wbbuf_capacity;
void thread_wbuf_reset(thread_ctx *t);

/* Attached threads running right now (not blocking, parked or suspended):
 * a snapshot for the collector's idle-CPU estimate.  Unattached callers
 * only (it takes registry.lock as a plain lock). */
size_t thread_count_running(void);

/* Sums the allocation counters of every thread, live and detached. */
void thread_count_allocs(uint64_t *mallocs, uint64_t *bytes);

/* Hooks the collector installs: flush a detaching thread's barrier buffer
 * and work (called with the thread RUNNING, before it leaves the registry). */
extern void (*thread_detach_hook)(thread_ctx *t);

#endif
