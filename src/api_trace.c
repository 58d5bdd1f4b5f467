/*
 * api_trace.c -- the execution tracer's public API (tc_trace_*), over
 * trace/trace.c.
 *
 * Starting and stopping stop the world: the trace opens with the heap's
 * state read at one instant, and closes with every thread's buffer taken
 * at one instant.  (The stop at the end is timed only up to the moment the
 * world is stopped: its end cannot be in the trace.)  The caller waits as
 * a blocking thread meanwhile, as it does in tc_trace_read and while
 * tc_trace_stop waits for the reader to drain the trace: the collector must
 * never wait for a thread that waits for the tracer.
 *
 * tc_trace_start_file runs a writer thread (unattached: it touches no GC
 * memory) that reads chunks and writes them to the file; tc_trace_stop
 * returns once it has written the footer and closed the file.  With
 * TRICOLOR=trace=FILE, tc_init starts such a trace and an atexit handler
 * (and tc_shutdown) stops it.
 *
 * Locking: api_mu serialises start and stop (and the writer's fields).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/options.h"
#include "base/throw.h"
#include "gc/gc.h"
#include "gc/pacer.h"
#include "mutator/safepoint.h"
#include "mutator/thread.h"
#include "trace/trace.h"
#include "tricolor.h"

static pthread_mutex_t api_mu = PTHREAD_MUTEX_INITIALIZER;
static bool writer_running;   /* under api_mu */
static pthread_t writer;      /* under api_mu */
static _Atomic int writer_error;
static _Atomic uint64_t next_task;

/* With the world stopped: what the trace should know from its start. */
static void initial_events(void)
{
    gc_stats g;
    gc_read_stats(&g);
    TRACE_EV1(TRACE_EV_HEAP_GOAL, g.next_gc);
    TRACE_EV1(TRACE_EV_HEAP_ALLOC, (uint64_t)atomic_load(&heap_live));
}

TC_API int tc_trace_start(void)
{
    thread_ctx *t = tls_thread;
    pthread_mutex_lock(&api_mu);
    bool waited = runtime_wait_begin(t);
    /* Tracing is on before the stop begins, so that the trace shows the
     * whole of it; events other threads write meanwhile are kept. */
    int rc = trace_start();
    if (rc == 0) {
        TRACE_EV_STR(TRACE_EV_STW_BEGIN, "trace start");
        stw_start();
        initial_events();
        TRACE_EV0(TRACE_EV_STW_END);
        stw_end();
    }
    runtime_wait_end(t, waited);
    pthread_mutex_unlock(&api_mu);
    return rc;
}

TC_API int tc_trace_stop(void)
{
    thread_ctx *t = tls_thread;
    pthread_mutex_lock(&api_mu);
    if (!trace_active()) {
        pthread_mutex_unlock(&api_mu);
        return TC_ESTATE;
    }
    bool waited = runtime_wait_begin(t);
    TRACE_EV_STR(TRACE_EV_STW_BEGIN, "trace stop");
    stw_start();
    TRACE_EV0(TRACE_EV_STW_END); /* the stop's own pause ends the trace */
    trace_stop();
    stw_end();
    trace_wait_drained();
    if (writer_running) {
        pthread_join(writer, NULL);
        writer_running = false;
    }
    runtime_wait_end(t, waited);
    pthread_mutex_unlock(&api_mu);
    return atomic_exchange(&writer_error, 0) ? TC_EIO : 0;
}

TC_API const void *tc_trace_read(size_t *len)
{
    size_t dummy;
    if (len == NULL)
        len = &dummy;
    thread_ctx *t = tls_thread;
    bool waited = runtime_wait_begin(t);
    const void *p = trace_read(len);
    runtime_wait_end(t, waited);
    return p;
}

static void *writer_main(void *arg)
{
    int fd = (int)(intptr_t)arg;
    trace_thread_name("trace writer");
    size_t len;
    const void *p;
    while ((p = trace_read(&len)) != NULL) {
        const char *c = p;
        while (len > 0) {
            ssize_t n = write(fd, c, len);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                atomic_store(&writer_error, 1);
                break; /* keep reading: the trace must drain */
            }
            c += n;
            len -= (size_t)n;
        }
    }
    if (close(fd) != 0)
        atomic_store(&writer_error, 1);
    return NULL;
}

TC_API int tc_trace_start_file(const char *path)
{
    if (path == NULL || *path == '\0')
        return TC_EINVAL;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return TC_EIO;
    int rc = tc_trace_start();
    if (rc != 0) {
        close(fd);
        return rc;
    }
    pthread_mutex_lock(&api_mu);
    atomic_store(&writer_error, 0);
    if (pthread_create(&writer, NULL, writer_main, (void *)(intptr_t)fd) == 0) {
        writer_running = true;
    } else {
        pthread_mutex_unlock(&api_mu);
        close(fd);
        tc_trace_stop(); /* no reader: drain it here */
        return TC_ENOMEM;
    }
    pthread_mutex_unlock(&api_mu);
    return 0;
}

TC_API uint64_t tc_trace_task_begin(const char *name)
{
    uint64_t id = atomic_fetch_add(&next_task, 1) + 1;
    if (TRACE_ON())
        trace_event_task(id, name);
    return id;
}

TC_API void tc_trace_task_end(uint64_t task) { TRACE_EV1(TRACE_EV_TASK_END, task); }
TC_API void tc_trace_region_begin(const char *name) { TRACE_EV_STR(TRACE_EV_REGION_BEGIN, name); }
TC_API void tc_trace_region_end(const char *name) { TRACE_EV_STR(TRACE_EV_REGION_END, name); }

TC_API void tc_trace_log(const char *category, const char *message)
{
    if (TRACE_ON())
        trace_event_log(category, message);
}

/* ---- TRICOLOR=trace=FILE ------------------------------------------------- */

static void stop_at_exit(void)
{
    if (trace_active())
        tc_trace_stop();
}

int api_trace_init(void)
{
    static int atexit_done;
    if (options.trace[0] == '\0')
        return 0;
    int rc = tc_trace_start_file(options.trace);
    if (rc != 0)
        return rc;
    if (!atexit_done && atexit(stop_at_exit) == 0)
        atexit_done = 1;
    return 0;
}

void api_trace_shutdown(void)
{
    if (trace_active())
        tc_trace_stop();
}
