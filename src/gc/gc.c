/*
 * gc.c -- the collection cycle (Go's mgc.go) and the thread that runs it.
 *
 * A cycle, as Go runs it:
 *
 *  1. Sweep termination.  Finish sweeping the previous cycle (concurrently),
 *     find the global segments, then stop the world: open a new gcbits
 *     epoch, turn the write barrier on and allocation black, and scan every
 *     thread's stack, registers and static TLS and the globals (the
 *     unbarriered roots) once.  Start the world.
 *  2. Concurrent mark.  Scan the registered roots, then drain grey objects:
 *     the controller thread works as the background mark worker aiming at
 *     25% of the CPUs (a fractional worker when that is under one CPU;
 *     extra dedicated workers on bigger machines), but at full speed while
 *     a CPU would otherwise be idle, and allocating threads assist in
 *     proportion to what they allocate (pacer.c).
 *  3. Mark termination.  When no grey object is left, stop the world and
 *     flush every thread's barrier buffer and work buffers.  If that found
 *     grey objects, start the world and keep marking (Go's issue 27993);
 *     after MARKTERM_RETRIES tries, finish them with the world stopped.
 *     Otherwise: optional checkmark, barrier off, give every cached span
 *     back, heap.sweepgen += 2 (every span becomes unswept), commit the
 *     pacer.  Start the world.
 *  4. Concurrent sweep, by the controller right away and lazily by
 *     allocation; the next cycle finishes whatever is left.
 *
 * stw=1 runs steps 1-3 in one stop-the-world with no barrier.
 *
 * The controller is a runtime thread, not attached: it is never stopped or
 * scanned.  It sleeps until allocation reaches the trigger (gc_on_alloc),
 * tc_collect asks, or stress=N counts enough allocations.
 *
 * Locking: ctl.mu (a plain mutex, outside the rank order: it is only held
 * to post or take requests) guards the request counters; the controller
 * owns everything else here.
 */
#include "gc.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../base/nopreempt.h"
#include "../base/options.h"
#include "../base/throw.h"
#include "../heap/arena.h"
#include "../heap/gcbits.h"
#include "../heap/mcentral.h"
#include "../heap/page_heap.h"
#include "../mutator/safepoint.h"
#include "../sys/sys.h"
#include "../trace/trace.h"
#include "finalizer.h"
#include "limiter.h"
#include "mark.h"
#include "memlimit.h"
#include "pacer.h"
#include "roots.h"
#include "scavenger.h"
#include "special.h"
#include "sweep.h"
#include "weak.h"
#include "wbbuf.h"
#include "tricolor.h"

#define MARK_CHUNK (256 * 1024)   /* scan work between the fractional worker's time checks */
#define MARKTERM_RETRIES 4
#define ASSIST_MIN_WORK (64 * 1024)  /* Go's gcOverAssistWork */
#define ASSIST_CHUNK (64 * 1024)     /* scan work between an assist's safepoints */
#define ASSIST_MAX_WORK (256 * 1024) /* per assist: bounds the latency one allocation can see;
                                        the rest of the debt is paid at the next refills */
#define MAX_WORKERS 16

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;        /* the controller waits for requests */
    pthread_cond_t done_cv;   /* tc_collect waits for cycles */
    uint32_t started, done;   /* cycles; under mu */
    uint32_t marking;         /* cycles whose marking has begun; under mu */
    bool want, want_forced, stop;
    bool want_stress;         /* stress=N asked: run even under the trigger */
    bool running;             /* the controller thread exists */
    pthread_t thread;
    _Atomic int requested;    /* a request is posted and not yet taken */
} ctl = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER,
          .done_cv = PTHREAD_COND_INITIALIZER };

static gc_stats stats;              /* under ctl.mu for readers; the controller writes */
/* Scan work the background workers did beyond what assists asked: an
 * assisting thread takes from it before scanning itself (Go's
 * bgScanCredit).  atomic. */
static _Atomic int64_t bg_credit;
static _Atomic uint64_t assist_ns;  /* time mutators spent assisting */
static _Atomic uint64_t alloc_wait_ns; /* time allocations waited for a cycle to start */
static gcwork ctl_work;             /* the controller's grey objects */
static _Atomic uint64_t stress_count;

/* Dedicated mark workers (when 25% of the CPUs is a whole CPU or more). */
static struct {
    int n;
    pthread_t threads[MAX_WORKERS];
    _Atomic int busy;
    _Atomic uint64_t cpu_ns;
} workers;

static double mark_utilization;     /* the controller's share of a CPU while marking */
static _Atomic double assist_ratio; /* scan bytes owed per byte allocated; set during mark */

/* ---- Requests ------------------------------------------------------------ */

/* ctl.mu taken by a mutator: never with the thread suspendable, since the
 * controller takes ctl.mu while the world is stopped. */
static void ctl_lock(void)
{
    mcache *c = tls_mcache;
    if (c != &mcache_unattached)
        c->nopreempt++;
    pthread_mutex_lock(&ctl.mu);
}

static void ctl_unlock(void)
{
    pthread_mutex_unlock(&ctl.mu);
    mcache *c = tls_mcache;
    if (c != &mcache_unattached)
        c->nopreempt--;
}

static void gc_request(bool forced)
{
    ctl_lock();
    ctl.want = true;
    ctl.want_forced |= forced;
    pthread_cond_signal(&ctl.cv);
    ctl_unlock();
}

static void gc_request_stress(void)
{
    ctl_lock();
    ctl.want = true;
    ctl.want_stress = true;
    pthread_cond_signal(&ctl.cv);
    ctl_unlock();
}

static void gc_request_async(void)
{
    int expected = 0;
    if (atomic_compare_exchange_strong(&ctl.requested, &expected, 1))
        gc_request(false);
}

/* ---- Allocation hooks --------------------------------------------------- */

/* Takes up to `want` units of background credit; returns how many. */
static int64_t steal_bg_credit(int64_t want)
{
    int64_t have = atomic_load_explicit(&bg_credit, memory_order_relaxed);
    while (have > 0) {
        int64_t take = have < want ? have : want;
        if (atomic_compare_exchange_weak(&bg_credit, &have, have - take))
            return take;
    }
    return 0;
}

/* Pays an allocating thread's debt in scan work: background credit first,
 * then marking itself.  Past the heap goal, when neither is to be had, it
 * waits (as a blocking thread) for the workers, so that no thread outruns
 * the collector; under the goal an unpayable debt is forgiven. */
static void gc_assist(thread_ctx *t, int64_t bytes)
{
    t->assist_credit -= bytes;
    if (t->assist_credit >= 0)
        return;
    t->cache.nopreempt++; /* no stop while holding the limiter */
    limiter_tick(false);
    t->cache.nopreempt--;
    if (limiter_on()) {
        t->assist_credit = 0; /* the GC has its share of the CPU: no assist */
        return;
    }
    uint64_t t0 = sys_nanotime();
    int64_t assisted = 0;
    TRACE_EV0(TRACE_EV_ASSIST_BEGIN);
    for (int round = 0; t->assist_credit < 0; round++) {
        if (atomic_load(&gc_phase_now) != GC_MARK) {
            t->assist_credit = 0;
            break;
        }
        double ratio = atomic_load_explicit(&assist_ratio, memory_order_relaxed);
        if (ratio <= 0)
            ratio = 1e-3;
        int64_t work = (int64_t)((double)-t->assist_credit * ratio) + 1;
        if (work < ASSIST_MIN_WORK)
            work = ASSIST_MIN_WORK;
        /* Bounded per call while the heap is under its hard goal (Go's:
         * 10% over the goal); the rest of the debt is paid at the next
         * refills.  Only past it does an assist wait for marking to catch
         * up: a heap a little over its goal costs memory, a stalled
         * allocation costs latency. */
        uint64_t goal = pacer_state.goal;
        bool under_goal = (uint64_t)atomic_load(&heap_live) < goal + goal / 10;
        if (work > ASSIST_MAX_WORK && under_goal)
            work = ASSIST_MAX_WORK;
        int64_t done = steal_bg_credit(work);
        /* Marking in chunks, with a chance for a stop in between: a stop
         * never waits for more than one chunk. */
        while (done < work) {
            int64_t chunk = work - done < ASSIST_CHUNK ? work - done : ASSIST_CHUNK;
            t->cache.nopreempt++;
            int64_t d = mark_drain(&t->work, chunk);
            gcwork_dispose(&t->work);
            mark_flush_counters(&t->work);
            t->cache.nopreempt--;
            done += d;
            if (d < chunk)
                break; /* no grey object left to take */
            if (__atomic_load_n(&tc__stw_requested, __ATOMIC_RELAXED)) {
                /* The allocation path that called us runs with preemption
                 * off: let the stop proceed the way a refill's waits do,
                 * as a blocking thread. */
                bool waited = runtime_wait_begin(t);
                runtime_wait_end(t, waited);
            }
            if (atomic_load(&gc_phase_now) != GC_MARK)
                break;
        }
        t->assist_credit += (int64_t)((double)done / ratio);
        assisted += done;
        if (done >= work && under_goal)
            break; /* this call's share is paid */
        if (done < work && under_goal) {
            /* Nothing left to scan and the heap is within its hard goal:
             * marking is about to end, the debt is forgiven. */
            t->assist_credit = 0;
            break;
        }
        if (done < work) {
            /* Nothing to scan right now: wait for the background workers
             * to produce credit or for marking to end. */
            bool waited = runtime_wait_begin(t);
            nanosleep(&(struct timespec){0, round < 10 ? 20000 : 200000}, NULL);
            runtime_wait_end(t, waited);
        }
    }
    TRACE_EV1(TRACE_EV_ASSIST_END, (uint64_t)assisted);
    atomic_fetch_add_explicit(&assist_ns, sys_nanotime() - t0, memory_order_relaxed);
}

/* An allocating thread past the heap goal with no cycle marking waits
 * until the next cycle's marking has begun: the controller may not get a
 * CPU otherwise (Go's allocating goroutine starts the cycle itself). */
static void gc_wait_for_marking(thread_ctx *t)
{
    uint64_t t0 = sys_nanotime();
    bool waited = runtime_wait_begin(t);
    pthread_mutex_lock(&ctl.mu);
    uint32_t target = ctl.marking + 1;
    if (!ctl.want) {
        ctl.want = true;
        pthread_cond_signal(&ctl.cv);
    }
    while ((int32_t)(ctl.marking - target) < 0 && !ctl.stop &&
           atomic_load(&gc_phase_now) == GC_OFF && pacer_should_start(&pacer_state, atomic_load(&heap_live)))
        pthread_cond_wait(&ctl.done_cv, &ctl.mu);
    pthread_mutex_unlock(&ctl.mu);
    runtime_wait_end(t, waited);
    atomic_fetch_add_explicit(&alloc_wait_ns, sys_nanotime() - t0, memory_order_relaxed);
}

/* Under a memory limit, an allocating thread past the heap goal while a
 * cycle marks waits for marking to end (unless the CPU limiter limits):
 * assists pay in scan work, and a heap of pointer-free objects has so
 * little of it that they would let the heap run past the limit. */
static void gc_wait_for_mark_end(thread_ctx *t)
{
    uint64_t t0 = sys_nanotime();
    bool waited = runtime_wait_begin(t);
    while (atomic_load(&gc_phase_now) == GC_MARK && memlimit_over_goal(atomic_load(&heap_live)))
        nanosleep(&(struct timespec){0, 50000}, NULL);
    runtime_wait_end(t, waited);
    atomic_fetch_add_explicit(&alloc_wait_ns, sys_nanotime() - t0, memory_order_relaxed);
}

uint64_t gc_mutator_gc_ns(void)
{
    return atomic_load_explicit(&assist_ns, memory_order_relaxed) +
           atomic_load_explicit(&alloc_wait_ns, memory_order_relaxed);
}

uint64_t gc_workers_cpu_ns(void)
{
    return atomic_load_explicit(&workers.cpu_ns, memory_order_relaxed);
}

void gc_on_alloc(thread_ctx *t, int64_t bytes)
{
    int64_t live = atomic_fetch_add_explicit(&heap_live, bytes, memory_order_relaxed) + bytes;
    if (TRACE_ON())
        trace_heap_sample(live > 0 ? (uint64_t)live : 0);
    int phase = atomic_load_explicit(&gc_phase_now, memory_order_relaxed);
    if (phase == GC_MARK && t != NULL && !options.stop_the_world) {
        gc_assist(t, bytes);
        if (memlimit_over_goal(live))
            gc_wait_for_mark_end(t);
    } else if (phase == GC_OFF && memlimit_should_start(live)) {
        gc_request_async();
        if (t != NULL && (uint64_t)live > pacer_state.goal && !limiter_on())
            gc_wait_for_marking(t);
    }
}

NOPREEMPT_TEXT void gc_alloc_post(span *s, size_t idx)
{
    int flags = __atomic_load_n(&alloc_flags, __ATOMIC_RELAXED);
    if (flags & ALLOC_FLAG_BLACKEN)
        mark_new_object(s, idx);
    if ((flags & ALLOC_FLAG_STRESS) && options.stress > 0 &&
        atomic_fetch_add_explicit(&stress_count, 1, memory_order_relaxed) % (uint64_t)options.stress ==
            (uint64_t)options.stress - 1)
        gc_request_stress();
}

static void gc_detach_hook(thread_ctx *t)
{
    if (atomic_load(&gc_phase_now) != GC_OFF) {
        wbbuf_flush(t, &t->work);
        gcwork_dispose(&t->work);
        mark_flush_counters(&t->work);
    } else {
        thread_wbuf_reset(t);
    }
}

static void gc_heap_alloc_hook(int64_t bytes)
{
    if (bytes < 0)
        atomic_fetch_add_explicit(&heap_live, bytes, memory_order_relaxed);
    else
        gc_on_alloc(tls_thread, bytes);
}

/* Lazy sweeping for mcentral_cache_span: sweeps unswept spans of c (at
 * most 100, as Go's cacheSpan budget) until one has a free slot. */
static span *gc_lazy_sweep(mcentral *c)
{
    span *found = NULL;
    sweep_begin();
    for (int budget = 100; budget > 0 && found == NULL; budget--) {
        span *s = sweep_take(c, false);
        if (s == NULL)
            break;
        if (!sweep_span(s, true))
            continue; /* freed */
        if (atomic_load(&s->alloc_count) < s->nelems) {
            found = s;
        } else {
            uint32_t sg = atomic_load(&heap.sweepgen);
            lock_acquire(&c->lock);
            span_list_push(&c->full[sweep_swept_index(sg)], s);
            lock_release(&c->lock);
        }
    }
    sweep_end();
    return found;
}

void gc_root_added(uintptr_t lo, uintptr_t hi)
{
    if (atomic_load(&gc_phase_now) == GC_OFF)
        return;
    thread_ctx *t = tls_thread;
    gcwork tmp = {0};
    gcwork *gw = t != NULL ? &t->work : &tmp;
    if (t != NULL)
        t->cache.nopreempt++;
    mark_scan_block(lo, hi, gw);
    gcwork_dispose(gw);
    mark_flush_counters(gw);
    if (t != NULL)
        t->cache.nopreempt--;
}

/* ---- Marking ------------------------------------------------------------ */

static bool no_work_left(void)
{
    return gcwork_empty(&ctl_work) && workbuf_full_empty() && atomic_load(&workers.busy) == 0;
}

static void *worker_main(void *arg)
{
    (void)arg;
    gcwork gw = {0};
    trace_thread_name("gc worker");
    /* (declared above for the fork child) */
    for (;;) {
        int phase = atomic_load(&gc_phase_now);
        if (phase == GC_OFF && !ctl.running)
            break;
        if (phase != GC_MARK || workbuf_full_empty()) {
            nanosleep(&(struct timespec){0, 50000}, NULL);
            continue;
        }
        atomic_fetch_add(&workers.busy, 1);
        uint64_t c0 = sys_thread_cputime();
        TRACE_EV0(TRACE_EV_MARK_WORKER_BEGIN);
        int64_t done = mark_drain(&gw, MARK_CHUNK);
        TRACE_EV1(TRACE_EV_MARK_WORKER_END, (uint64_t)done);
        atomic_fetch_add_explicit(&bg_credit, done, memory_order_relaxed);
        gcwork_dispose(&gw);
        mark_flush_counters(&gw);
        atomic_fetch_add(&workers.cpu_ns, sys_thread_cputime() - c0);
        atomic_fetch_sub(&workers.busy, 1);
    }
    return NULL;
}

/* Whether a CPU would sit idle if the controller slept: fewer threads are
 * running (attached ones not blocking, plus the dedicated workers and the
 * controller itself) than there are CPUs.  Go runs idle-mode mark workers
 * on processors that have nothing else to do; this is the same, for the
 * one worker that would otherwise throttle itself. */
static bool cpu_idle(void)
{
    return thread_count_running() + (size_t)workers.n + 1 <= (size_t)sys_ncpu();
}

/* Drains as the fractional (or dedicated) background worker until no grey
 * object is left anywhere.  A forced cycle (tc_collect) has a caller that
 * waits idle, so it marks at full speed (Go's idle-mode worker); so does a
 * cycle that finds a CPU with nothing else to run. */
static void mark_concurrently(bool forced)
{
    double utilization = forced ? 1.0 : mark_utilization;
    for (;;) {
        uint64_t t0 = sys_nanotime();
        TRACE_EV0(TRACE_EV_MARK_WORKER_BEGIN);
        int64_t done = mark_drain(&ctl_work, MARK_CHUNK);
        TRACE_EV1(TRACE_EV_MARK_WORKER_END, (uint64_t)done);
        if (done == 0) {
            gcwork_dispose(&ctl_work);
            if (no_work_left())
                return;
            if (gcwork_empty(&ctl_work) && workbuf_full_empty())
                nanosleep(&(struct timespec){0, 20000}, NULL); /* workers finishing */
            continue;
        }
        atomic_fetch_add_explicit(&bg_credit, done, memory_order_relaxed);
        limiter_tick(true);
        memlimit_tick();
        double ratio = pacer_assist_ratio(&pacer_state, atomic_load(&mark_scan_work) + ctl_work.scan_work,
                                          atomic_load(&heap_live));
        atomic_store_explicit(&assist_ratio, ratio, memory_order_relaxed);
        if (utilization < 1.0 && !cpu_idle()) {
            /* While this worker sleeps, assists must be able to find its
             * grey objects. */
            gcwork_dispose(&ctl_work);
            uint64_t busy = sys_nanotime() - t0;
            uint64_t idle = (uint64_t)((double)busy * (1.0 - utilization) / utilization);
            if (idle > 0)
                nanosleep(&(struct timespec){(time_t)(idle / 1000000000u), (long)(idle % 1000000000u)},
                          NULL);
        }
    }
}

/* With the world stopped: every thread's buffers into the global lists. */
static void flush_all_threads(void)
{
    for (thread_ctx *t = registry.first; t != NULL; t = t->next) {
        wbbuf_flush(t, &ctl_work);
        gcwork_dispose(&t->work);
        mark_flush_counters(&t->work);
    }
    gcwork_dispose(&ctl_work);
}

/* ---- The cycle ---------------------------------------------------------- */

/* Under ctl.mu. */
static void record_pause(uint64_t ns, uint64_t end_ns)
{
    stats.pause_total_ns += ns;
    if (ns > stats.pause_max_ns)
        stats.pause_max_ns = ns;
    unsigned i = stats.num_gc % 256;
    stats.pause_ns[i] += ns;
    stats.pause_end_ns[i] = end_ns;
}

static void gc_cycle(bool forced)
{
    bool stw = options.stop_the_world != 0;
    uint64_t c0 = sys_thread_cputime(), w0 = atomic_load(&workers.cpu_ns);
    uint64_t start = sys_nanotime();
    uint32_t cycle_no = stats.num_gc + 1; /* the controller writes num_gc */
    TRACE_EV2(TRACE_EV_GC_BEGIN, cycle_no, forced);
    sweep_finish();
    roots_find_globals();
    pthread_mutex_lock(&ctl.mu);
    stats.pause_ns[stats.num_gc % 256] = 0;
    pthread_mutex_unlock(&ctl.mu);

    /* 1. Sweep termination and mark setup, world stopped. */
    uint64_t p0 = sys_nanotime();
    TRACE_EV_STR(TRACE_EV_STW_BEGIN, "sweep termination");
    stw_start();
    uint64_t stopped0 = sys_nanotime(); /* the world is stopped from here (the CPU limiter's pause) */
    TRACE_EV_STR(TRACE_EV_PHASE, "sweep termination");
    TRACE_EV1(TRACE_EV_HEAP_ALLOC, (uint64_t)atomic_load(&heap_live));
    gcbits_next_epoch();
    atomic_store(&mark_bytes_marked, 0);
    atomic_store(&mark_scan_work, 0);
    atomic_store(&bg_credit, 0);
    int64_t live_before = atomic_load(&heap_live);
    for (thread_ctx *t = registry.first; t != NULL; t = t->next)
        t->assist_credit = 0;
    atomic_store(&gc_phase_now, GC_MARK);
    if (!stw)
        wbbuf_set_enabled(1);
    __atomic_or_fetch(&alloc_flags, ALLOC_FLAG_BLACKEN, __ATOMIC_RELAXED);
    atomic_store_explicit(&assist_ratio, pacer_assist_ratio(&pacer_state, 0, live_before), memory_order_relaxed);
    uint64_t roots = roots_scan_stw(&ctl_work);
    uint64_t stw1 = 0, mark_wall = 0, stw2 = 0;
    /* ctl.mu is never taken with the world stopped (fork handling takes
     * it before every runtime lock). */
    if (!stw) {
        uint64_t restart0 = sys_nanotime();
        stw1 = restart0 - p0; /* the pause ends as the world is released */
        TRACE_EV0(TRACE_EV_STW_END); /* before: once restarted, this thread may wait for a CPU */
        stw_end();
        limiter_cycle_stw(stopped0, restart0, true);
        pthread_mutex_lock(&ctl.mu);
        record_pause(stw1, sys_walltime());
        ctl.marking++;
        pthread_cond_broadcast(&ctl.done_cv);
        pthread_mutex_unlock(&ctl.mu);
    }

    /* 2. Marking. */
    TRACE_EV_STR(TRACE_EV_PHASE, "mark");
    uint64_t m0 = sys_nanotime();
    gcwork_dispose(&ctl_work); /* the roots' grey objects, for assists */
    roots += roots_scan_registered(&ctl_work);
    roots += finq_mark_roots(&ctl_work);
    roots += specials_mark_roots(&ctl_work);
    for (int attempt = 0;; attempt++) {
        if (stw)
            mark_drain(&ctl_work, -1);
        else
            mark_concurrently(forced);
        /* 3. Mark termination. */
        uint64_t p1 = sys_nanotime();
        if (!stw) {
            TRACE_EV_STR(TRACE_EV_STW_BEGIN, "mark termination");
            stw_start();
        }
        uint64_t stopped1 = stw ? stopped0 : sys_nanotime();
        TRACE_EV_STR(TRACE_EV_PHASE, "mark termination");
        atomic_store(&gc_phase_now, GC_MARKTERM);
        flush_all_threads();
        if (!no_work_left()) {
            if (stw || attempt >= MARKTERM_RETRIES) {
                do {
                    mark_drain(&ctl_work, -1);
                    gcwork_dispose(&ctl_work);
                    flush_all_threads();
                } while (!no_work_left());
            } else {
                atomic_store(&gc_phase_now, GC_MARK);
                uint64_t again = sys_nanotime() - p1;
                TRACE_EV0(TRACE_EV_STW_END);
                stw_end();
                TRACE_EV_STR(TRACE_EV_PHASE, "mark");
                pthread_mutex_lock(&ctl.mu);
                record_pause(again, sys_walltime());
                pthread_mutex_unlock(&ctl.mu);
                continue;
            }
        }
        mark_wall = p1 - m0;
        if (options.checkmark)
            checkmark_run();
        atomic_store(&gc_phase_now, GC_OFF);
        wbbuf_set_enabled(0);
        __atomic_and_fetch(&alloc_flags, ~ALLOC_FLAG_BLACKEN, __ATOMIC_RELAXED);
        for (thread_ctx *t = registry.first; t != NULL; t = t->next) {
            thread_wbuf_reset(t);
            mcache_release_all(&t->cache);
        }
        mark_flush_counters(&ctl_work);
        uint64_t marked = atomic_load(&mark_bytes_marked);
        int64_t live_end = atomic_load(&heap_live);
        atomic_fetch_add(&heap.sweepgen, 2);
        atomic_store(&heap_live, (int64_t)marked);
        uint64_t mark_alloc = live_end > live_before ? (uint64_t)(live_end - live_before) : 0;
        /* Every writer of the pacer takes pacer_lock (mutators only with
         * preemption off, so none holds it now); the memory-limit goal, the
         * scavenger's goal and the CPU limiter follow the commit. */
        lock_acquire(&pacer_lock);
        pacer_commit(&pacer_state, marked, roots, mark_alloc, atomic_load(&mark_scan_work));
        lock_release(&pacer_lock);
        memlimit_commit_stw((uint64_t)(live_end > 0 ? live_end : 0), marked);
        scavenger_commit_stw();
        uint64_t end_wall = sys_walltime();
        uint64_t restart1 = sys_nanotime();
        stw2 = restart1 - (stw ? p0 : p1);
        TRACE_EV0(TRACE_EV_STW_END); /* before: once restarted, this thread may wait for a CPU */
        stw_end();
        limiter_cycle_stw(stopped1, restart1, false);
        TRACE_EV1(TRACE_EV_HEAP_GOAL, pacer_state.goal);
        TRACE_EV1(TRACE_EV_HEAP_ALLOC, marked);
        TRACE_EV_STR(TRACE_EV_PHASE, "sweep");
        pthread_mutex_lock(&ctl.mu);
        stats.next_gc = pacer_state.goal;
        if (stw) {
            ctl.marking++;
            pthread_cond_broadcast(&ctl.done_cv);
        }
        record_pause(stw2, end_wall);
        stats.num_gc++;
        if (forced)
            stats.num_forced_gc++;
        stats.last_gc_ns = end_wall;
        pthread_mutex_unlock(&ctl.mu);

        /* 4. Sweep. */
        sweep_finish();
        TRACE_EV_STR(TRACE_EV_PHASE, "off");
        TRACE_EV1(TRACE_EV_GC_END, cycle_no);
        memlimit_cycle_end();
        uint64_t cpu = sys_thread_cputime() - c0 + (atomic_load(&workers.cpu_ns) - w0);
        pthread_mutex_lock(&ctl.mu);
        stats.gc_cpu_ns += cpu;
        pthread_mutex_unlock(&ctl.mu);
        if (options.gctrace) {
            uint64_t now = sys_nanotime();
            double since = (double)(now - stats.init_ns) / 1e9;
            uint64_t total_cpu = stats.gc_cpu_ns + atomic_load(&assist_ns);
            double share = since > 0 ? 100.0 * (double)total_cpu / 1e9 / (since * sys_ncpu()) : 0;
            fprintf(stderr,
                    "gc %u @%.3fs %.0f%%: %.3f+%.3f+%.3f ms clock, %.3f ms cpu, "
                    "%lld->%lld->%llu MB, %llu MB goal, %llu KB roots, %zu threads%s\n",
                    stats.num_gc, since, share, (double)stw1 / 1e6, (double)mark_wall / 1e6,
                    (double)stw2 / 1e6, (double)cpu / 1e6, (long long)(live_before >> 20),
                    (long long)(live_end >> 20), (unsigned long long)(marked >> 20),
                    (unsigned long long)(pacer_state.goal >> 20), (unsigned long long)(roots >> 10),
                    registry.count, forced ? " (forced)" : "");
        }
        (void)start;
        return;
    }
}

static void *controller_main(void *arg)
{
    (void)arg;
    trace_thread_name("gc controller");
    for (;;) {
        pthread_mutex_lock(&ctl.mu);
        while (!ctl.stop && !ctl.want)
            pthread_cond_wait(&ctl.cv, &ctl.mu);
        if (ctl.stop) {
            pthread_mutex_unlock(&ctl.mu);
            return NULL;
        }
        bool forced = ctl.want_forced, stress = ctl.want_stress;
        ctl.want = ctl.want_forced = ctl.want_stress = false;
        atomic_store(&ctl.requested, 0);
        /* A request posted by allocation may be stale: the heap it saw over
         * the trigger was collected since (Go's gcTrigger.test). */
        if (!forced && !stress && !pacer_should_start(&pacer_state, atomic_load(&heap_live))) {
            pthread_mutex_unlock(&ctl.mu);
            continue;
        }
        ctl.started++;
        pthread_mutex_unlock(&ctl.mu);
        gc_cycle(forced);
        pthread_mutex_lock(&ctl.mu);
        ctl.done++;
        pthread_cond_broadcast(&ctl.done_cv);
        pthread_mutex_unlock(&ctl.mu);
    }
}

/* ---- fork() --------------------------------------------------------------
 *
 * Before fork: the forking thread waits (as a blocking thread, so that a
 * cycle in progress can stop the world without it) until no cycle runs,
 * keeps ctl.mu so none starts, and takes every runtime lock.  The parent
 * then releases everything.  The child re-creates the locks, forgets the
 * threads that did not survive the fork and starts a new controller: its
 * heap works as before.
 */

static thread_ctx *fork_self;
static bool fork_waited;

static void gc_fork_prepare(void)
{
    if (!ctl.running)
        return;
    fork_self = tls_thread;
    fork_waited = runtime_wait_begin(fork_self);
    pthread_mutex_lock(&ctl.mu);
    while (ctl.started != ctl.done)
        pthread_cond_wait(&ctl.done_cv, &ctl.mu);
    sweep_fork_prepare();
    locks_fork_prepare();
    finalizer_fork_prepare();
}

static void gc_fork_parent(void)
{
    if (!ctl.running)
        return;
    finalizer_fork_parent();
    locks_fork_parent();
    sweep_fork_parent();
    pthread_mutex_unlock(&ctl.mu);
    runtime_wait_end(fork_self, fork_waited);
}

static void *controller_main(void *arg);
static void *worker_main(void *arg);

static void gc_fork_child(void)
{
    if (!ctl.running)
        return;
    locks_fork_child();
    finalizer_fork_child();
    trace_fork_child();
    pthread_mutex_init(&ctl.mu, NULL);
    pthread_cond_init(&ctl.cv, NULL);
    pthread_cond_init(&ctl.done_cv, NULL);
    thread_registry_fork_child(fork_self);
    mcentral_fork_adopt_orphans(fork_self != NULL ? &fork_self->cache : NULL);
    sweep_fork_child();
    if (fork_self != NULL && fork_waited)
        atomic_store(&fork_self->state, THREAD_RUNNING);
    atomic_store(&workers.busy, 0);
    if (pthread_create(&ctl.thread, NULL, controller_main, NULL) != 0)
        throw("fork: cannot start the collector in the child");
    for (int i = 0; i < workers.n; i++)
        pthread_create(&workers.threads[i], NULL, worker_main, NULL);
    scavenger_fork_child();
}

/* ---- Lifecycle and API --------------------------------------------------- */

int gc_init(void)
{
    memset(&stats, 0, sizeof stats);
    stats.init_ns = sys_nanotime();
    atomic_store(&assist_ns, 0);
    atomic_store(&heap_live, 0);
    atomic_store(&gc_phase_now, GC_OFF);
    memset(&ctl_work, 0, sizeof ctl_work);
    if (workbuf_init() != 0)
        return TC_ENOMEM;
    roots_init();
    sweep_init();
    specials_init();
    finalizer_init();
    if (weak_init() != 0)
        return TC_ENOMEM;
    memset(&pacer_state, 0, sizeof pacer_state);
    pacer_state.gc_percent = options.gc_percent;
    pacer_commit(&pacer_state, 0, 0, 0, 0);
    atomic_store(&alloc_wait_ns, 0);
    limiter_init();
    memlimit_init();
    stats.next_gc = pacer_state.goal;
    __atomic_store_n(&alloc_flags, options.stress > 0 ? ALLOC_FLAG_STRESS : 0, __ATOMIC_RELAXED);
    wbbuf_set_enabled(0);
    thread_detach_hook = gc_detach_hook;
    heap_alloc_hook = gc_heap_alloc_hook;
    malloc_post_hook = gc_alloc_post;
    mcentral_sweep_hook = gc_lazy_sweep;
    heap_reclaim_hook = sweep_reclaim;
    roots_find_globals(); /* checkptr needs them before the first cycle */
    int rc = safepoint_init();
    if (rc != 0)
        return rc;

    double goal = 0.25 * sys_ncpu();
    if (options.mark_workers > 0 && goal > options.mark_workers)
        goal = options.mark_workers;
    workers.n = goal >= 1.5 ? (int)(goal + 0.5) - 1 : 0; /* beyond the controller */
    if (workers.n > MAX_WORKERS)
        workers.n = MAX_WORKERS;
    mark_utilization = goal >= 1.0 ? 1.0 : goal;
    atomic_store(&workers.busy, 0);
    atomic_store(&workers.cpu_ns, 0);

    static int atfork_done;
    if (!atfork_done && pthread_atfork(gc_fork_prepare, gc_fork_parent, gc_fork_child) == 0)
        atfork_done = 1;

    ctl.stop = ctl.want = ctl.want_forced = false;
    ctl.started = ctl.done = ctl.marking = 0;
    atomic_store(&ctl.requested, 0);
    if (pthread_create(&ctl.thread, NULL, controller_main, NULL) != 0)
        return TC_ENOMEM;
    ctl.running = true;
    for (int i = 0; i < workers.n; i++)
        pthread_create(&workers.threads[i], NULL, worker_main, NULL);
    scavenger_start();
    return 0;
}

void gc_shutdown(void)
{
    if (!ctl.running)
        return;
    pthread_mutex_lock(&ctl.mu);
    ctl.stop = true;
    pthread_cond_signal(&ctl.cv);
    pthread_cond_broadcast(&ctl.done_cv);
    pthread_mutex_unlock(&ctl.mu);
    pthread_join(ctl.thread, NULL);
    ctl.running = false;
    for (int i = 0; i < workers.n; i++)
        pthread_join(workers.threads[i], NULL);
    workers.n = 0;
    scavenger_stop();
    thread_detach_hook = NULL;
    heap_alloc_hook = NULL;
    malloc_post_hook = NULL;
    mcentral_sweep_hook = NULL;
    heap_reclaim_hook = NULL;
    __atomic_store_n(&alloc_flags, 0, __ATOMIC_RELAXED);
}

TC_API void tc_collect(void)
{
    if (!ctl.running)
        return;
    thread_ctx *t = tls_thread;
    bool waited = runtime_wait_begin(t);
    pthread_mutex_lock(&ctl.mu);
    uint32_t target = ctl.started + 1;
    ctl.want = true;
    ctl.want_forced = true;
    pthread_cond_signal(&ctl.cv);
    while ((int32_t)(ctl.done - target) < 0)
        pthread_cond_wait(&ctl.done_cv, &ctl.mu);
    pthread_mutex_unlock(&ctl.mu);
    runtime_wait_end(t, waited);
}

TC_API int tc_set_gc_percent(int percent)
{
    ctl_lock();
    lock_acquire(&pacer_lock);
    int old = pacer_state.gc_percent;
    options.gc_percent = percent;
    pacer_set_gc_percent(&pacer_state, percent);
    stats.next_gc = pacer_state.goal;
    lock_release(&pacer_lock);
    ctl_unlock();
    if (pacer_should_start(&pacer_state, atomic_load(&heap_live)))
        gc_request_async();
    return old;
}

void gc_read_stats(gc_stats *out)
{
    ctl_lock();
    *out = stats;
    out->gc_cpu_ns += atomic_load(&assist_ns);
    ctl_unlock();
}
