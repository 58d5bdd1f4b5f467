/*
 * safepoint.h -- stopping the world.  See safepoint.c.
 */
#ifndef TC_MUTATOR_SAFEPOINT_H
#define TC_MUTATOR_SAFEPOINT_H

#include <stdbool.h>
#include <stdint.h>

#include "thread.h"

#include "../base/nopreempt.h"

/* Installs the suspension signal handler (options.signal); TC_EINVAL if the
 * signal cannot be used. */
int safepoint_init(void);

/* The stopper's side, called by the collector (a thread that is not
 * attached).  stw_start returns once every attached thread is parked,
 * suspended or blocking, holding registry.lock; stw_end releases them. */
void stw_start(void);
void stw_end(void);
bool stw_active(void);

/* A mutator's side. */
void safepoint_park(thread_ctx *t);           /* the world is stopping: wait here */
void safepoint_blocking_enter(thread_ctx *t); /* tc_blocking_begin */
void safepoint_blocking_exit(thread_ctx *t);  /* tc_blocking_end */

/* For runtime code that must wait while attached (locks a stop-the-world
 * holds, the collector): enters the blocking state unless the thread is in
 * it already; returns whether it did, to pass to runtime_wait_end. */
bool runtime_wait_begin(thread_ctx *t);
void runtime_wait_end(thread_ctx *t, bool entered);

/* Statistics for tests and gctrace. */
extern _Atomic uint64_t stw_signals_sent;

#endif
