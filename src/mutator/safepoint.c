/*
 * safepoint.c -- stopping the world.
 *
 * Design (Go's stopTheWorldWithSema plus asynchronous preemption, and
 * bdwgc's signal-based thread stopping):
 *  - The collector sets tc__stw_requested and waits until no attached
 *    thread is RUNNING.  Threads notice the flag at safepoints (the
 *    allocation slow path, tc_safepoint, the barrier slow path, attach and
 *    detach) and park: they spill their callee-saved registers to the
 *    stack, record their stack pointer, set state PARKED and sleep on
 *    world_epoch.
 *  - A thread between tc_blocking_begin and tc_blocking_end is BLOCKING and
 *    counts as stopped; on the way out it sets RUNNING and re-checks the
 *    flag, going back to BLOCKING and sleeping if the world is stopped.
 *    The store of the state and the load of the flag are seq_cst on both
 *    sides, so either the stopper sees RUNNING or the thread sees the flag.
 *  - The stopper sleeps while it waits (on stop_progress, which every
 *    thread that stops bumps), never yields: a yield can leave it off the
 *    CPU for a whole time slice after the last thread stopped.
 *  - A thread still RUNNING after STW_SUSPEND_NS (a tight loop with no
 *    safepoint) is sent options.signal; the handler saves the interrupted
 *    registers and stack pointer and sleeps on world_epoch as SUSPENDED.
 *    It declines -- the thread is signalled again later -- while the thread
 *    holds a runtime lock (locks_held), is in a nopreempt region, or was
 *    interrupted inside NOPREEMPT_TEXT, so the world is never stopped with
 *    a lock held or with an allocation half done.
 *  - stw_end clears the flag and bumps world_epoch, waking every sleeper.
 *    A stopped thread records the epoch it stopped in, and the stopper
 *    counts it only for the current epoch: a thread that has not yet woken
 *    from one stop when the next begins is not mistaken for stopped (it
 *    notices the new request as it wakes and stays stopped).
 *
 * Invariants: while stw_active(), every context on the registry is
 * PARKED, SUSPENDED or BLOCKING with saved_sp/regs valid, and the stopper
 * holds registry.lock (so no thread attaches or leaves).
 * Locking: registry.lock for the whole stop.
 */
#include "safepoint.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>

#include "../base/nopreempt.h"
#include "../base/options.h"
#include "../base/throw.h"
#include "../sys/sys.h"
#include "../trace/trace.h"

/* A thread gets this long to reach a safepoint before it is signalled.
 * Short: every microsecond here is pause time for every thread (a thread
 * walking a data structure without allocating reaches no safepoint), and a
 * signal costs a few microseconds.  Go signals at once. */
#define STW_SUSPEND_NS 100000u
#define STW_RESIGNAL_NS 200000u   /* a thread that declined is signalled again after this */
#define STW_POLL_NS 20000u        /* the stopper's longest sleep once signalling has begun */

TC_API int tc__stw_requested;
static _Atomic uint32_t world_epoch;
static int stw_holder;            /* the stopper's: a stop is in progress */
_Atomic uint64_t stw_signals_sent;

extern const char __start_tricolor_nopreempt[] __attribute__((visibility("hidden")));
extern const char __stop_tricolor_nopreempt[] __attribute__((visibility("hidden")));

/* Keeps the compiler from turning the preceding call into a tail call. */
#if TSAN_BUILD
__thread int tsan_nopreempt;
#endif

#define NO_TAIL_CALL() __asm__ volatile("" ::: "memory")

static bool stw_requested(void)
{
    return __atomic_load_n(&tc__stw_requested, __ATOMIC_SEQ_CST) != 0;
}

/* Marks t stopped (PARKED or SUSPENDED) and sleeps until the world runs
 * again.  A thread that wakes to find the next stop already requested
 * stays stopped for it, with the new epoch recorded. */
/* Bumped, with a wake-up, whenever a thread stops (parks, is suspended,
 * or turns BLOCKING) while a stop is requested: the stopper sleeps on it
 * instead of yielding its CPU, which could leave it off the CPU for a
 * whole time slice after the last thread stopped. */
static NOGC_DATA _Atomic uint32_t stop_progress; /* a counter: kept out of the scanned globals */

static void note_stopped(void)
{
    atomic_fetch_add(&stop_progress, 1);
    sys_wake_all(&stop_progress);
}

static void stay_stopped(thread_ctx *t, int state)
{
    for (;;) {
        uint32_t e = atomic_load(&world_epoch);
        atomic_store(&t->stop_epoch, e);
        atomic_store(&t->state, state);
        note_stopped();
        while (stw_requested() && atomic_load(&world_epoch) == e)
            sys_wait(&world_epoch, e, 0);
        if (!stw_requested())
            break;
    }
    atomic_store(&t->state, THREAD_RUNNING);
}

/* Sleeps until the stop that was requested when epoch was e is over
 * (a blocking thread on its way out). */
static void wait_for_restart(uint32_t e)
{
    while (stw_requested() && atomic_load(&world_epoch) == e)
        sys_wait(&world_epoch, e, 0);
}

/* Records the stack pointer below the caller's spilled registers and
 * waits: the caller's frame stays live while the thread is parked. */
static NOINLINE void park_inner(thread_ctx *t, int state)
{
    volatile uintptr_t marker = 0;
    t->saved_sp = (uintptr_t)&marker;
    t->nregs = 0;
    stay_stopped(t, state);
    (void)marker;
}

/* Marks t BLOCKING.  A blocking thread runs on, into system calls where
 * its callers' values may live only in registers, so the callee-saved
 * registers -- spilled into the calling frame (frame_top is its top) by
 * __builtin_unwind_init and its prologue -- are copied into t->regs.
 * Runtime waits (frames_live) keep their frames while they wait and are
 * scanned from here; the public tc_blocking_begin returns, so its thread's
 * stack is scanned from above the copied frame.  The callers must not
 * tail-call this (the spills would be gone). */
__attribute__((no_sanitize("address"))) static NOINLINE void blocking_inner(thread_ctx *t, uintptr_t frame_top, bool frames_live)
{
    volatile uintptr_t marker = 0;
    uintptr_t lo = (uintptr_t)&marker;
    size_t n = (frame_top - lo) / sizeof(uintptr_t);
    if (n > SAVED_REGS) {
        lo = frame_top - SAVED_REGS * sizeof(uintptr_t); /* the spills sit at the top */
        n = SAVED_REGS;
    }
    for (size_t i = 0; i < n; i++)
        t->regs[i] = ((volatile uintptr_t *)lo)[i];
    t->nregs = n;
    t->saved_sp = frames_live ? (uintptr_t)&marker : frame_top;
    atomic_store(&t->state, THREAD_BLOCKING);
    if (stw_requested())
        note_stopped(); /* seq_cst both sides: the stopper sees BLOCKING or is woken */
    (void)marker;
}


void safepoint_park(thread_ctx *t)
{
    if (t == NULL || t->cache.nopreempt > 0 || locks_held > 0)
        return;
    __builtin_unwind_init(); /* callee-saved registers to this frame */
    park_inner(t, THREAD_PARKED);
    NO_TAIL_CALL();
}

TC_API void tc__safepoint_slow(void)
{
    if (stw_requested())
        safepoint_park(tls_thread);
}

#undef tc_safepoint
TC_API void tc_safepoint(void)
{
    tc__safepoint_slow();
}

NOINLINE void safepoint_blocking_enter(thread_ctx *t)
{
    TRACE_EV0(TRACE_EV_BLOCKING_BEGIN);
    __builtin_unwind_init(); /* callee-saved registers to this frame */
    blocking_inner(t, (uintptr_t)__builtin_frame_address(0) + 2 * sizeof(void *), true);
    NO_TAIL_CALL();
}

void safepoint_blocking_exit(thread_ctx *t)
{
    for (;;) {
        atomic_store(&t->state, THREAD_RUNNING);
        if (!stw_requested())
            break;
        uint32_t e = atomic_load(&world_epoch);
        atomic_store(&t->state, THREAD_BLOCKING);
        wait_for_restart(e);
    }
    TRACE_EV0(TRACE_EV_BLOCKING_END);
}

bool runtime_wait_begin(thread_ctx *t)
{
    if (t == NULL || atomic_load(&t->state) == THREAD_BLOCKING)
        return false;
    safepoint_blocking_enter(t);
    return true;
}

void runtime_wait_end(thread_ctx *t, bool entered)
{
    if (entered)
        safepoint_blocking_exit(t);
}

TC_API NOINLINE void tc_blocking_begin(void)
{
    thread_ctx *t = tls_thread;
    if (t == NULL)
        throw("tc_blocking_begin: the calling thread is not attached");
    if (atomic_load(&t->state) != THREAD_RUNNING)
        throw("tc_blocking_begin: already blocking");
    TRACE_EV0(TRACE_EV_BLOCKING_BEGIN);
    __builtin_unwind_init(); /* callee-saved registers to this frame */
    blocking_inner(t, (uintptr_t)__builtin_frame_address(0) + 2 * sizeof(void *), false);
    NO_TAIL_CALL();
}

TC_API void tc_blocking_end(void)
{
    thread_ctx *t = tls_thread;
    if (t == NULL)
        throw("tc_blocking_end: the calling thread is not attached");
    if (atomic_load(&t->state) != THREAD_BLOCKING)
        throw("tc_blocking_end: without tc_blocking_begin");
    safepoint_blocking_exit(t);
}

static void suspend_handler(int sig, void *info, void *uc)
{
    (void)sig;
    (void)info;
    thread_ctx *t = tls_thread;
    if (t == NULL || !stw_requested() || locks_held > 0 || t->cache.nopreempt > 0 ||
        atomic_load(&t->state) != THREAD_RUNNING)
        return;
    if (TSAN_NOPREEMPT_HELD())
        return;
    uintptr_t pc = sys_ucontext_pc(uc);
    if (pc >= (uintptr_t)__start_tricolor_nopreempt && pc < (uintptr_t)__stop_tricolor_nopreempt)
        return;
    if (TSAN_BUILD) {
        /* ThreadSanitizer defers asynchronous signals to its next
         * interceptor and then passes the ucontext saved on arrival: its
         * registers and stack pointer are stale.  The thread's live values
         * are in the frames below us instead, so park as a safepoint does. */
        __builtin_unwind_init();
        park_inner(t, THREAD_SUSPENDED);
        NO_TAIL_CALL();
        return;
    }
    t->nregs = sys_ucontext_regs(uc, t->regs, SAVED_REGS, &t->saved_sp);
    stay_stopped(t, THREAD_SUSPENDED);
}

int safepoint_init(void)
{
    if (sys_signal_install(options.signal, suspend_handler) != 0) {
        fprintf(stderr, "tricolor: cannot install a handler for signal %d (TRICOLOR=signal=N)\n",
                options.signal);
        return TC_EINVAL;
    }
    return 0;
}

void stw_start(void)
{
    lock_acquire(&registry.lock);
    stw_holder = 1;
    __atomic_store_n(&tc__stw_requested, 1, __ATOMIC_SEQ_CST);
    uint64_t start = sys_nanotime();
    for (;;) {
        /* Read before the scan: a thread that stops after it changes
         * stop_progress, so the wait below cannot miss it. */
        uint32_t progress = atomic_load(&stop_progress);
        bool all = true;
        uint64_t now = sys_nanotime();
        uint32_t epoch = atomic_load(&world_epoch);
        for (thread_ctx *t = registry.first; t != NULL; t = t->next) {
            int st = atomic_load(&t->state);
            if (st == THREAD_BLOCKING ||
                ((st == THREAD_PARKED || st == THREAD_SUSPENDED) && atomic_load(&t->stop_epoch) == epoch))
                continue;
            all = false;
            if (st != THREAD_RUNNING)
                continue; /* still waking from the previous stop */
            if (now - start >= STW_SUSPEND_NS && now - t->last_signal_ns >= STW_RESIGNAL_NS) {
                t->last_signal_ns = now;
                if (sys_signal_send(t->self, options.signal) == 0)
                    atomic_fetch_add(&stw_signals_sent, 1);
            }
        }
        if (all)
            return;
        /* Sleep until a thread stops, or until it is time to signal. */
        uint64_t waited = sys_nanotime() - start;
        sys_wait(&stop_progress, progress,
                 waited < STW_SUSPEND_NS ? STW_SUSPEND_NS - waited : STW_POLL_NS);
    }
}

void stw_end(void)
{
    CHECK(stw_holder);
    stw_holder = 0;
    __atomic_store_n(&tc__stw_requested, 0, __ATOMIC_SEQ_CST);
    atomic_fetch_add(&world_epoch, 1);
    sys_wake_all(&world_epoch);
    lock_release(&registry.lock);
}

bool stw_active(void)
{
    return stw_holder != 0;
}
