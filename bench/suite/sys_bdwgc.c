/*
 * sys_bdwgc.c -- bdwgc behind the suite's system interface (sys.h).
 *
 * Configurations (the mode argument, --gc on the command line):
 *
 *   default  GC_INIT() and nothing else.  Debian's build has parallel
 *            marking, but bdwgc starts its marker threads only when the
 *            program creates its first thread: single-threaded workloads
 *            mark on one thread, the two-thread binary-trees on all CPUs.
 *   par      GC_set_markers_count(CPUs) before GC_INIT and
 *            GC_start_mark_threads() after it: parallel marking from the
 *            start, whatever the workload's threads.
 *   incr     GC_enable_incremental() after GC_INIT: mostly-concurrent
 *            collection in small steps, dirty pages found through the
 *            virtual-memory system (mprotect or soft-dirty bits).
 *
 * Pauses: GC_set_on_collection_event reports, among others, the events
 * GC_EVENT_PRE_STOP_WORLD and GC_EVENT_POST_START_WORLD; the time between
 * them, read with clock_gettime in the callback, is one stop of the world.
 * In every mode each collection has exactly one stop (the full mark, or in
 * incremental mode the final stopped mark), so a stop is a cycle's pause,
 * comparable to tricolor's and Go's per-cycle figures.  The callback runs
 * in the collecting thread with the allocation lock held, so the pause log
 * needs no lock and must not allocate (it is mmap'd).  The collection count
 * is GC_get_gc_no().
 */
#include "sys.h"

#include <string.h>
#include <unistd.h>

static pause_log pauses;
static uint64_t stop_begin_ns;     /* under the allocation lock */
static const char *name = "bdwgc";

static void on_event(GC_EventType e)
{
    if (e == GC_EVENT_PRE_STOP_WORLD)
        stop_begin_ns = suite_now_ns();
    else if (e == GC_EVENT_POST_START_WORLD && stop_begin_ns != 0) {
        pause_log_add(&pauses, suite_now_ns() - stop_begin_ns);
        stop_begin_ns = 0;
    }
}

int sys_init(const char *mode)
{
    int par = strcmp(mode, "par") == 0, incr = strcmp(mode, "incr") == 0;
    if (!par && !incr && strcmp(mode, "default") != 0)
        return -1;
    pause_log_init(&pauses);
    GC_set_on_collection_event(on_event);
    if (par) {
        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        GC_set_markers_count(ncpu > 1 ? (unsigned)ncpu : 2);
        name = "bdwgc-par";
    }
    GC_INIT();
    if (par)
        GC_start_mark_threads();
    if (incr) {
        GC_enable_incremental();
        if (!GC_is_incremental_mode())
            suite_die("GC_enable_incremental had no effect in this build of bdwgc");
        name = "bdwgc-incr";
    }
    return 0;
}

const char *sys_name(void) { return name; }

/* Threads made by the wrapped pthread_create are registered already. */
void sys_thread_begin(void) {}
void sys_thread_end(void) {}
void sys_wait_begin(void) {}
void sys_wait_end(void) {}

void sys_root_add(void *start, size_t size) { GC_add_roots(start, (char *)start + size); }
void sys_root_remove(void *start, size_t size) { GC_remove_roots(start, (char *)start + size); }
void sys_collect(void) { GC_gcollect(); }

void sys_finish(gc_report *out)
{
    out->has_gc = 1;
    out->gcs = GC_get_gc_no();
    out->single_max_ns = 0;
    out->pauses = pauses;
}
