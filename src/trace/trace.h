/*
 * trace.h -- the execution tracer's buffers, events and reader protocol
 * (seed 003; docs/trace-format.md).  See trace.c.
 */
#ifndef TC_TRACE_TRACE_H
#define TC_TRACE_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Event types (docs/trace-format.md). */
enum {
    TRACE_EV_BATCH = 0x01,
    TRACE_EV_FOOTER = 0x02,
    TRACE_EV_END = 0x03,
    TRACE_EV_GC_BEGIN = 0x10,
    TRACE_EV_GC_END,
    TRACE_EV_STW_BEGIN,
    TRACE_EV_STW_END,
    TRACE_EV_PHASE,
    TRACE_EV_MARK_WORKER_BEGIN,
    TRACE_EV_MARK_WORKER_END,
    TRACE_EV_ASSIST_BEGIN,
    TRACE_EV_ASSIST_END,
    TRACE_EV_SWEEP_BEGIN,
    TRACE_EV_SWEEP_END,
    TRACE_EV_HEAP_ALLOC,
    TRACE_EV_HEAP_GOAL,
    TRACE_EV_THREAD_ATTACH,
    TRACE_EV_THREAD_DETACH,
    TRACE_EV_BLOCKING_BEGIN,
    TRACE_EV_BLOCKING_END,
    TRACE_EV_TASK_BEGIN,
    TRACE_EV_TASK_END,
    TRACE_EV_REGION_BEGIN,
    TRACE_EV_REGION_END,
    TRACE_EV_LOG,
    TRACE_EV_THREAD_NAME,
};

#define TRACE_BUF_SIZE (64 * 1024)   /* one buffer, header included */
#define TRACE_VERSION 1
#define TRACE_LOG_MAX 4096           /* longer log messages are cut, visibly */

/* Nonzero while tracing: the one predictable branch at every event site. */
extern int trace_on;
#define TRACE_ON() __builtin_expect(__atomic_load_n(&trace_on, __ATOMIC_RELAXED) != 0, 0)

/* Event sites: TRACE_EV(type, args...) with up to three integer
 * arguments; TRACE_EV_STR(type, string) for one string argument. */
#define TRACE_EV0(type) (TRACE_ON() ? trace_event((type), 0, 0, 0, 0) : (void)0)
#define TRACE_EV1(type, a) (TRACE_ON() ? trace_event((type), 1, (a), 0, 0) : (void)0)
#define TRACE_EV2(type, a, b) (TRACE_ON() ? trace_event((type), 2, (a), (b), 0) : (void)0)
#define TRACE_EV_STR(type, s) (TRACE_ON() ? trace_event_str((type), (s)) : (void)0)

void trace_event(uint8_t type, int nargs, uint64_t a, uint64_t b, uint64_t c);
void trace_event_str(uint8_t type, const char *s);
void trace_event_task(uint64_t id, const char *name);
void trace_event_log(const char *category, const char *message);
/* HEAP_ALLOC when the live heap moved enough since the last one. */
void trace_heap_sample(uint64_t live);

/* Threads.  A thread with its own buffer (every attached thread:
 * trace_thread_begin at attach, trace_thread_end at detach) writes it
 * without a lock; others share one buffer under the tracer's lock.  The
 * name (a string that lives forever) shows in THREAD_NAME. */
void trace_thread_begin(void);
void trace_thread_end(void);
void trace_thread_name(const char *name);
void trace_fork_child(void); /* fork(): the child does not trace */

/* Lifecycle, driven by the API layer (which stops the world around
 * trace_start and trace_stop so that the trace begins and ends at one
 * instant for every attached thread). */
void trace_init(void);                  /* tc_init */
int  trace_start(void);                 /* 0, TC_EBUSY, TC_ENOMEM */
void trace_stop(void);                  /* no event is accepted afterwards */
/* After trace_stop: waits until the reader has read everything, checks
 * that no buffer was left behind, frees the buffers. */
void trace_wait_drained(void);
/* The reader protocol (tc_trace_read): blocks until a chunk is ready;
 * NULL at the end.  One reader at a time. */
const void *trace_read(size_t *len);
bool trace_active(void);                /* started and not fully drained */

#endif
