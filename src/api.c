/*
 * api.c -- the public entry points that belong to no single mechanism:
 * lifecycle, threads, errors, statistics.  Argument checks and the error
 * policy live here; the work is forwarded to the layers below.
 *
 * Lifecycle state: `initialized` is set by tc_init and cleared by
 * tc_shutdown, both under init_lock.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/options.h"
#include "base/throw.h"
#include "heap/gcbits.h"
#include "heap/mcentral.h"
#include "heap/page_heap.h"
#include "heap/size_class.h"
#include "heap/type.h"
#include "gc/finalizer.h"
#include "gc/gc.h"
#include "gc/memlimit.h"
#include "gc/pacer.h"
#include "gc/roots.h"
#include "gc/special.h"
#include "gc/sweep.h"
#include "gc/workbuf.h"
#include "mutator/safepoint.h"
#include "mutator/thread.h"
#include "offheap/fixalloc.h"
#include "offheap/persistent_alloc.h"
#include "sys/sys.h"
#include "trace/trace.h"
#include "tricolor.h"

/* api_trace.c */
int  api_trace_init(void);
void api_trace_shutdown(void);

static lock_t init_lock = LOCK_INIT(LOCK_RANK_INIT);
static int initialized;               /* under init_lock */

TC_API const char *tc_strerror(int code)
{
    switch (code) {
    case 0: return "success";
    case TC_ENOMEM: return "out of memory";
    case TC_EINVAL: return "invalid argument";
    case TC_EBUSY: return "resource busy";
    case TC_ESTATE: return "invalid state for this call";
    case TC_EIO: return "input/output error";
    default: return "unknown error";
    }
}

static void options_from_api(options_t *o, const tc_options *opts, size_t opts_size)
{
    memset(o, 0, sizeof *o);
    o->gc_percent = 100;
    o->signal = SIGURG;
    if (opts == NULL)
        return;
    tc_options in;
    memset(&in, 0, sizeof in);
    memcpy(&in, opts, opts_size < sizeof in ? opts_size : sizeof in);
    if (in.gc_percent != 0)
        o->gc_percent = in.gc_percent;
    o->memory_limit = in.memory_limit;
    o->stop_the_world = in.stop_the_world;
    o->mark_workers = in.mark_workers;
}

/* Stops the collector and returns every byte to the OS.  Under init_lock,
 * with no thread attached. */
static void release_everything(void)
{
    gc_shutdown();
    thread_registry_free_all();
    roots_free_all();
    workbuf_reset_all();
    heap_free_all();
    type_reset_all();
    mcentral_init_all();
    persistent_free_all();
}

#undef tc_init
TC_API int tc_init(const tc_options *opts)
{
    return tc_init_sized(opts, sizeof(tc_options));
}

TC_API int tc_init_sized(const tc_options *opts, size_t opts_size)
{
    options_t o;
    options_from_api(&o, opts, opts_size);
    char err[512];
    if (options_parse(&o, getenv("TRICOLOR"), err, sizeof err) != 0) {
        fprintf(stderr, "tricolor: %s\n", err);
        return TC_EINVAL;
    }
    if (o.memory_limit < 0 || o.mark_workers < 0 || (o.stop_the_world != 0 && o.stop_the_world != 1)) {
        fprintf(stderr, "tricolor: tc_options: %s\n",
                o.memory_limit < 0 ? "memory_limit is negative"
                : o.mark_workers < 0 ? "mark_workers is negative"
                                     : "stop_the_world is neither 0 nor 1");
        return TC_EINVAL;
    }
    lock_acquire(&init_lock);
    if (initialized) {
        lock_release(&init_lock);
        return TC_ESTATE;
    }
    options = o;
    persistent_init();
    type_init();
    trace_init();
    size_class_init();
    blockalloc_init();
    gcbits_init();
    mcentral_init_all();
    int rc = heap_init();
    if (rc == 0)
        rc = thread_registry_init();
    if (rc == 0)
        rc = gc_init();
    if (rc == 0)
        rc = thread_attach();
    if (rc == 0 || rc == TC_EBUSY) {
        initialized = 1;
        rc = 0;
    } else {
        release_everything(); /* a failed tc_init leaves nothing behind */
    }
    lock_release(&init_lock);
    if (rc == 0 && options.trace[0] != '\0') {
        int trc = api_trace_init();
        if (trc != 0)
            fprintf(stderr, "tricolor: TRICOLOR=trace=%s: cannot trace to this file: %s\n", options.trace,
                    tc_strerror(trc));
    }
    return rc;
}

TC_API void tc_shutdown(void)
{
    lock_acquire(&init_lock);
    if (!initialized) {
        lock_release(&init_lock);
        return;
    }
    /* Stop the collector first; while it finishes a cycle this thread
     * must not hold up a stop-the-world. */
    thread_ctx *self = tls_thread;
    api_trace_shutdown();
    bool waited = runtime_wait_begin(self);
    finalizer_shutdown();
    gc_shutdown();
    runtime_wait_end(self, waited);
    if (self != NULL)
        thread_detach();
    if (registry.count != 0) {
        log_str("tricolor: tc_shutdown: ");
        log_dec(registry.count);
        throw(" thread(s) still attached; every other thread must call tc_thread_detach first");
    }
    release_everything();
    initialized = 0;
    lock_release(&init_lock);
}

TC_API int tc_thread_attach(void)
{
    lock_acquire(&init_lock);
    int ok = initialized;
    lock_release(&init_lock);
    if (!ok)
        return TC_ESTATE;
    return thread_attach();
}

TC_API void tc_thread_detach(void)
{
    thread_detach();
}

#undef tc_read_stats
TC_API void tc_read_stats(tc_stats *out)
{
    tc_read_stats_sized(out, sizeof(tc_stats));
}

TC_API void tc_read_stats_sized(tc_stats *out, size_t out_size)
{
    tc_stats st;
    memset(&st, 0, sizeof st);
    uint64_t mallocs, bytes;
    thread_count_allocs(&mallocs, &bytes);
    page_alloc_stats ps = heap_page_stats();
    gc_stats g;
    gc_read_stats(&g);
    uint64_t frees = atomic_load(&sweep_frees), freed = atomic_load(&sweep_freed_bytes);
    st.mallocs = mallocs;
    st.total_alloc = bytes;
    st.frees = frees;
    st.heap_alloc = bytes - freed;
    st.heap_objects = mallocs - frees;
    st.next_gc = atomic_load_explicit(&pacer_state.goal, memory_order_relaxed); /* moves with the memory limit */
    st.last_gc_ns = g.last_gc_ns;
    st.pause_total_ns = g.pause_total_ns;
    st.pause_max_ns = g.pause_max_ns;
    memcpy(st.pause_ns, g.pause_ns, sizeof st.pause_ns);
    memcpy(st.pause_end_ns, g.pause_end_ns, sizeof st.pause_end_ns);
    st.num_gc = g.num_gc;
    st.num_forced_gc = g.num_forced_gc;
    uint64_t elapsed = sys_nanotime() - g.init_ns;
    st.gc_cpu_fraction = elapsed ? (double)g.gc_cpu_ns / ((double)elapsed * sys_ncpu()) : 0.0;
    st.heap_sys = memstat_get(MEMSTAT_HEAP);
    st.heap_inuse = ps.inuse_pages * PAGE_SIZE;
    st.heap_idle = st.heap_sys - st.heap_inuse;
    st.heap_released = ps.scav_pages * PAGE_SIZE;
    st.gc_sys = memstat_get(MEMSTAT_GC);
    st.other_sys = memstat_get(MEMSTAT_OTHER);
    st.finalizers_queued = atomic_load(&finalizers_queued);
    st.finalizers_run = atomic_load(&finalizers_run);
    st.weak_handles = atomic_load(&specials_weak_live);
    memlimit_read_stats(&st);
    st.sys = st.heap_sys + st.gc_sys + st.other_sys;
    memset(out, 0, out_size);
    memcpy(out, &st, out_size < sizeof st ? out_size : sizeof st);
}
